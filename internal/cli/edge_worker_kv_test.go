package cli

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/edgecases"
)

// TestEdgeWorkerDevKV: `edge worker dev --kv DIR` binds PINGEDGE_KV to a namespace kept in DIR.
// A first run leaves the key set and the token's validation result there (never the token);
// a second run — a cold isolate — answers that token with the issuer down, from KV alone.
func TestEdgeWorkerDevKV(t *testing.T) {
	e := newCLIEnv(t, devop.Config{SigningAlg: "ES256"})
	origin := edgecases.EchoOrigin(t)
	policy := workerPolicy(t, e.op.Issuer())
	kv := t.TempDir() + "/kv" // created by dev
	tok, err := e.op.MintAccessToken(map[string]any{"sub": "alice", "aud": e.op.Audience(), "roles": []string{"engineer"}}, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	first := startDev(t, e, "--policy", policy, "--origin", origin.URL, "--kv", kv)
	if r, err := edgecases.Do(first.base, "GET", "/api/items", map[string]string{"Authorization": "Bearer " + tok}); err != nil || r.Status != 200 {
		t.Fatalf("first run: %+v %v", r, err)
	}
	first.stop(t)
	if !strings.Contains(first.logs.String(), "PINGEDGE_KV: disk-backed namespace in "+kv) {
		t.Errorf("stderr does not name the namespace:\n%s", first.logs.String())
	}
	entries, _ := os.ReadDir(kv)
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
		data, _ := os.ReadFile(kv + "/" + en.Name())
		if strings.Contains(string(data), strings.Split(tok, ".")[2]) {
			t.Errorf("KV entry %s holds the token", en.Name())
		}
	}
	if all := strings.Join(names, " "); !strings.Contains(all, "pingedge:fetch:") || !strings.Contains(all, "pingedge:result:") {
		t.Fatalf("KV holds %q, want a key set and a result", names)
	}
	e.op.SetDown(true)
	second := startDev(t, e, "--policy", policy, "--origin", origin.URL, "--kv", kv)
	if r, err := edgecases.Do(second.base, "GET", "/api/items", map[string]string{"Authorization": "Bearer " + tok}); err != nil || r.Status != 200 {
		t.Errorf("cold run with the issuer down: %+v %v, want 200 from KV", r, err)
	}
	second.stop(t)
}

type devRun struct {
	base   string
	logs   *lockedBuffer
	cancel context.CancelFunc
	done   chan int
}

// startDev runs `edge worker dev ARGS --listen ADDR` until stop, once it answers.
func startDev(t *testing.T, e *cliEnv, args ...string) *devRun {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	d := &devRun{base: "http://" + addr, logs: &lockedBuffer{}, cancel: cancel, done: make(chan int, 1)}
	f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: &lockedBuffer{}, ErrOut: d.logs},
		Getenv: func(k string) string { return e.env[k] }, Now: time.Now, HTTP: defaultHTTPClient(), Global: &GlobalOptions{}}
	go func() {
		d.done <- Run(ctx, f, append(append([]string{"edge", "worker", "dev"}, args...), "--listen", addr))
	}()
	waitUntil(t, d.done, d.logs, func() bool {
		r, err := edgecases.Do(d.base, "GET", "/public/x", nil)
		return err == nil && r.Status == 200
	})
	return d
}

func (d *devRun) stop(t *testing.T) {
	t.Helper()
	d.cancel()
	if code := <-d.done; code != 0 {
		t.Errorf("exit %d after Ctrl-C: %s", code, d.logs.String())
	}
}
