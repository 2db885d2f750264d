package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/edgecases"
	"github.com/pingedge/pingedge/internal/workerbundle"
)

// TestEdgeWorkerBuild: the bundle lands in --out with every file the shim imports, its size is
// reported and under the Workers limit, and the wrangler.toml names the Worker and origin.
func TestEdgeWorkerBuild(t *testing.T) {
	e := newCLIEnv(t, devop.Config{SigningAlg: "ES256"})
	policy := workerPolicy(t, e.op.Issuer())
	out := filepath.Join(t.TempDir(), "bundle")
	code, stdout, stderr := e.run("edge", "worker", "build", "--policy", policy, "--out", out,
		"--name", "api-gate", "--origin", "https://origin.example.com", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var b workerbundle.Bundle
	if err := json.Unmarshal([]byte(stdout), &b); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	if b.GzipBytes <= 0 || b.GzipBytes >= workerbundle.MaxGzipBytes || b.RawBytes <= b.GzipBytes {
		t.Errorf("sizes raw %d gzip %d", b.RawBytes, b.GzipBytes)
	}
	for _, f := range []string{"worker.mjs", "pingedge.wasm", "wasm_exec.js", "policy.mjs", "policy.yaml", "wrangler.toml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("bundle lacks %s: %v", f, err)
		}
	}
	toml, _ := os.ReadFile(filepath.Join(out, "wrangler.toml"))
	for _, want := range []string{`name = "api-gate"`, `main = "worker.mjs"`, `PINGEDGE_ORIGIN = "https://origin.example.com"`} {
		if !strings.Contains(string(toml), want) {
			t.Errorf("wrangler.toml lacks %s:\n%s", want, toml)
		}
	}
	// Text output names the sizes; a policy that does not load is a usage error.
	if code, stdout, _ = e.run("edge", "worker", "build", "--policy", policy, "--out", out); code != 0 || !strings.Contains(stdout, "bytes gzip") {
		t.Errorf("text output (exit %d): %s", code, stdout)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(bad, []byte("issuer: x\nrole: [admin]\n"), 0o600)
	if code, _, stderr = e.run("edge", "worker", "build", "--policy", bad, "--out", out); code != ExitUsage {
		t.Errorf("bad policy: exit %d, want %d (%s)", code, ExitUsage, stderr)
	}
}

// TestEdgeWorkerDev runs `edge worker dev` in-process: real workerd in front of an origin on
// loopback, verifying the provider's tokens; Ctrl-C (context cancel) ends it with exit 0.
func TestEdgeWorkerDev(t *testing.T) {
	e := newCLIEnv(t, devop.Config{SigningAlg: "ES256"})
	origin := edgecases.EchoOrigin(t)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut lockedBuffer
	f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Getenv: func(k string) string { return e.env[k] }, Now: time.Now, HTTP: defaultHTTPClient(), Global: &GlobalOptions{}}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, f, []string{"edge", "worker", "dev", "--policy", workerPolicy(t, e.op.Issuer()), "--origin", origin.URL, "--listen", addr})
	}()
	base := "http://" + addr
	waitUntil(t, done, &errOut, func() bool {
		r, err := edgecases.Do(base, "GET", "/public/x", nil)
		return err == nil && r.Status == 200
	})
	alice := edgecases.MintUser(t, e.op, "alice", "engineer")
	for _, c := range []struct {
		path, tok string
		status    int
	}{{"/api/items", alice, 200}, {"/api/items", "", 401}, {"/admin/x", alice, 403}} {
		h := map[string]string{}
		if c.tok != "" {
			h["Authorization"] = "Bearer " + c.tok
		}
		if r, err := edgecases.Do(base, "GET", c.path, h); err != nil || r.Status != c.status {
			t.Errorf("GET %s: %+v %v, want %d", c.path, r, err, c.status)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after Ctrl-C: %s", code, errOut.String())
	}
	logs := errOut.String()
	if !strings.Contains(logs, "serving the Worker in workerd on http://"+addr) || !strings.Contains(logs, `"decision":"allow"`) {
		t.Errorf("stderr lacks the banner or audit lines:\n%s", logs)
	}
	if strings.Contains(logs, strings.Split(alice, ".")[2]) || out.String() != "" {
		t.Errorf("token on stderr, or anything on stdout (%q)", out.String())
	}
}

func workerPolicy(t *testing.T, issuer string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(fmt.Sprintf(edgecases.Policy, issuer)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitUntil polls cond for up to 60 s (the first run may compile the wasm), failing early if
// the command exits.
func waitUntil(t *testing.T, done chan int, logs *lockedBuffer, cond func() bool) {
	t.Helper()
	// Generous: a dev run from a source tree compiles the Worker's wasm first, and that compile
	// and workerd's start compete with every other test package for two cores under go test ./...
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		select {
		case code := <-done:
			t.Fatalf("command exited %d early:\n%s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker never answered:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
