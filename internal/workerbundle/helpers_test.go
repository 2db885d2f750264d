package workerbundle

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/edge"
	"github.com/pingedge/pingedge/internal/edgecases"
)

var (
	wasmOnce  sync.Once
	wasmBuild *Wasm
	wasmErr   error
)

// testWasm compiles the Worker from this checkout once per test binary: the tests must run
// the code in the tree, never a stale embedded build.
func testWasm(t testing.TB) *Wasm {
	t.Helper()
	wasmOnce.Do(func() {
		root, err := FindModuleRoot()
		if err != nil {
			wasmErr = err
			return
		}
		wasmBuild, wasmErr = CompileWasm(context.Background(), root)
	})
	if wasmErr != nil {
		t.Fatalf("compile the worker: %v", wasmErr)
	}
	return wasmBuild
}

// syncBuffer collects workerd's output for the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startOP(t testing.TB) *devop.Server { return edgecases.StartOP(t) }

func writePolicy(t testing.TB, op *devop.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(fmt.Sprintf(edgecases.Policy, op.Issuer())), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runningWorker is workerd serving a freshly built bundle on loopback.
type runningWorker struct {
	url     string
	logs    *syncBuffer
	started time.Time
	bundle  *Bundle
	stop    func() // ends workerd; idempotent
}

// startWorker builds the bundle for policy and serves it in real workerd until the test ends.
func startWorker(t testing.TB, policy, origin string, cfg ConfigOptions) *runningWorker {
	t.Helper()
	return startWorkerIn(t, t.TempDir(), policy, origin, cfg)
}

// startWorkerIn is startWorker in dir, so a second workerd can start where a first one ran
// (a cold isolate with the same KV directory).
func startWorkerIn(t testing.TB, dir, policy, origin string, cfg ConfigOptions) *runningWorker {
	t.Helper()
	bin, err := LocateWorkerd()
	if err != nil {
		t.Fatalf("%v (scripts/setup.sh installs it)", err)
	}
	b, err := Build(context.Background(), Options{PolicyFile: policy, OutDir: dir, Origin: origin, Wasm: testWasm(t)})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	cfg.Origin = origin
	if err := WriteConfig(dir, cfg); err != nil {
		t.Fatal(err)
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rw := &runningWorker{url: "http://" + ln.Addr().String(), logs: &syncBuffer{}, started: time.Now(), bundle: b}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Start(ctx, bin, dir, ln, rw.logs)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	rw.stop = func() {
		once.Do(func() {
			cancel()
			_ = p.Wait()
			_ = ln.Close()
		})
	}
	t.Cleanup(func() {
		rw.stop()
		if t.Failed() {
			t.Logf("workerd output:\n%s", rw.logs)
		}
	})
	return rw
}

// auditLines returns the audit JSON lines workerd printed (console.log from the shim).
func (rw *runningWorker) auditLines() []string {
	var out []string
	for _, l := range strings.Split(rw.logs.String(), "\n") {
		if i := strings.Index(l, `{"time":`); i >= 0 && strings.Contains(l, `"decision":`) {
			out = append(out, l[i:])
		}
	}
	return out
}

// startGateway serves policy with `pingedge edge serve`'s server (internal/edge) in front of
// origin until the test ends.
func startGateway(t testing.TB, policy, origin string) string {
	t.Helper()
	u, err := url.Parse(origin)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := edge.New(edge.Options{PolicyFile: policy, Origin: u, ReloadInterval: -1})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
