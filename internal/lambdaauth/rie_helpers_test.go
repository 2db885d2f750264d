package lambdaauth_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildFunction builds a static pingedge (as the release does: CGO_ENABLED=0) and lets that
// binary run `edge lambda build` on itself, so the test ships exactly what a user would.
// It returns the directory function.zip was unpacked into (Lambda's /var/task).
func buildFunction(t *testing.T, policy string) (taskRoot string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "pingedge")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/pingedge/pingedge/cmd/pingedge")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	build := exec.Command(bin, "edge", "lambda", "build", "--policy", pol, "--out", out, "--arch", runtime.GOARCH)
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("edge lambda build: %v\n%s", err, b)
	}
	taskRoot = filepath.Join(dir, "task")
	unzip(t, filepath.Join(out, "function.zip"), taskRoot)
	return taskRoot
}

func unzip(t *testing.T, zipPath, dst string) {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if err := os.WriteFile(filepath.Join(dst, f.Name), data, f.Mode()); err != nil {
			t.Fatal(err)
		}
	}
}

// rieBinary finds the Runtime Interface Emulator that scripts/setup.sh installs.
func rieBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	gopath, _ := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("aws-lambda-rie not found: run scripts/setup.sh (it go-installs the AWS Lambda Runtime Interface Emulator)")
	}
	return p
}

// lockedBuf collects the emulator's output (the function's stdout and stderr pass through it).
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// emulator is a running aws-lambda-rie with the function's bootstrap.
type emulator struct {
	url string
	out *lockedBuf
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startRIE runs the emulator on the unpacked function. The emulator starts bootstrap on the
// first invocation, so that invocation is a true cold start.
func startRIE(t *testing.T, taskRoot string) *emulator {
	t.Helper()
	api, addr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(rieBinary(t), "--runtime-api-address", api, "--runtime-interface-emulator-address", addr,
		filepath.Join(taskRoot, "bootstrap"))
	cmd.Dir = taskRoot
	cmd.Env = append(os.Environ(), "LAMBDA_TASK_ROOT="+taskRoot, "AWS_LAMBDA_FUNCTION_TIMEOUT=10")
	e := &emulator{url: "http://" + addr + "/2015-03-31/functions/function/invocations", out: &lockedBuf{}}
	cmd.Stdout, cmd.Stderr = e.out, e.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("emulator output:\n%s", e.out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("emulator did not listen on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// invoke sends one event and returns the raw answer: the function's response, or Lambda's
// error object ({"errorMessage": ...}) when the handler returned an error.
func (e *emulator) invoke(t *testing.T, event any) (map[string]any, time.Duration) {
	t.Helper()
	body, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.Post(e.url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	took := time.Since(start)
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("invoke: status %d, answer %q: %v", resp.StatusCode, raw, err)
	}
	return out, took
}

// auditFor waits for the audit line of requestID (the function writes it before answering;
// the emulator relays output asynchronously).
func (e *emulator) auditFor(t *testing.T, requestID string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		for _, line := range strings.Split(e.out.String(), "\n") {
			i := strings.Index(line, `{"time":`)
			if i < 0 || !strings.Contains(line, fmt.Sprintf(`"request_id":%q`, requestID)) {
				continue
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line[i:]), &rec); err == nil {
				return rec
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit line for request %s", requestID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
