package edge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/edgecases"
)

// testPolicy is the policy most tests serve (the shared request table's); %s is the issuer.
const testPolicy = edgecases.Policy

// syncBuffer is a bytes.Buffer safe for the server's goroutines and the test.
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

// startOP and mint are the shared table's: the real in-process provider, and an access token
// for sub with roles, valid for a minute.
func startOP(t testing.TB) *devop.Server { return edgecases.StartOP(t) }

func mint(t testing.TB, op *devop.Server, sub string, roles ...string) string {
	return edgecases.MintUser(t, op, sub, roles...)
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replaceFile writes content beside path and renames it over path, as editors and config
// management do: a poller never sees the file half-written (TestPolicyReloadWaitsForAHalfWrittenFile
// covers in-place writes).
func replaceFile(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// seen is what the origin received.
type seen struct {
	URI     string      `json:"uri"` // the request-target as received
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	RawPath string      `json:"raw_path"`
	Header  http.Header `json:"header"`
}

// echoOrigin answers every request with what it received, as JSON.
func echoOrigin(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(echoHandler))
	t.Cleanup(srv.Close)
	return srv
}

func echoHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(seen{r.RequestURI, r.Method, r.URL.Path, r.URL.RawPath, r.Header})
}

// running is a Server serving on loopback for one test.
type running struct {
	*Server
	url   string
	audit *syncBuffer
	logs  *syncBuffer
	stop  func() // stops the server and waits for Serve to return
}

// startEdge serves opts (audit and logs captured) until the test ends.
func startEdge(t testing.TB, opts Options) *running {
	t.Helper()
	rn := &running{audit: &syncBuffer{}, logs: &syncBuffer{}}
	opts.Audit = rn.audit
	opts.Logger = slog.New(slog.NewTextHandler(rn.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("new edge server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	var once sync.Once
	rn.Server, rn.url = srv, "http://"+ln.Addr().String()
	rn.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(rn.stop)
	return rn
}

// gateway starts a provider, an echo origin and the gateway in front of it.
func gateway(t testing.TB) (*devop.Server, *running) {
	t.Helper()
	op := startOP(t)
	origin := echoOrigin(t)
	u, _ := url.Parse(origin.URL)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, policy, strings.Replace(testPolicy, "%s", op.Issuer(), 1))
	return op, startEdge(t, Options{PolicyFile: policy, Origin: u})
}

// do sends "method rawPath" over a fresh TCP connection, exactly as written (no client
// library cleaning or escaping the path: the server must see an attack as the attacker sent
// it), with headers whose names are also sent verbatim; it returns the response and its body.
func do(t testing.TB, method, base, rawPath string, h map[string]string) (*http.Response, []byte) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	b.WriteString(method + " " + rawPath + " HTTP/1.1\r\nHost: " + u.Host + "\r\nConnection: close\r\n")
	for k, v := range h {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawPath, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
