package workerbundle

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/edgecases"
)

// BenchmarkWorkerVsGateway: warm requests through the Worker in workerd and through the
// gateway (`pingedge edge serve`), same policy, same token, same origin on loopback; the
// gateway is the baseline, and a plain JS Worker that passes every request to the origin
// unchecked is the runtime's own floor. Each request carries a valid token and reaches the origin, so
// ns/op is the round trip: client → deployment (cached verification, policy, header
// rewrite) → origin → client.
//
//	go test -run '^$' -bench WorkerVsGateway -benchtime 3s ./internal/workerbundle
func BenchmarkWorkerVsGateway(b *testing.B) {
	op := startOP(b)
	origin := edgecases.EchoOrigin(b)
	policy := writePolicy(b, op)
	rw := startWorker(b, policy, origin.URL, ConfigOptions{Allow: AllowFor(origin.URL, op.Issuer())})
	targets := map[string]string{"workerd": rw.url, "gateway": startGateway(b, policy, origin.URL),
		"workerd-js-passthrough": startPassThrough(b, origin.URL)}
	tok := edgecases.MintUser(b, op, "alice", "engineer")
	for _, name := range []string{"gateway", "workerd-js-passthrough", "workerd"} {
		b.Run(name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
			send(b, client, targets[name], tok) // keys fetched, result cached
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					send(b, client, targets[name], tok)
				}
			})
		})
	}
}

func send(b *testing.B, c *http.Client, base, tok string) {
	req, _ := http.NewRequestWithContext(context.Background(), "GET", base+"/api/items", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkWorkerColdStart starts workerd on a fresh bundle per iteration and reports the
// time to the first answer (wasm instantiated, Go runtime started, a 401 with no key fetch)
// as first-ms, and to the first verified token (JWKS fetched from the provider) as
// first-token-ms.
//
//	go test -run '^$' -bench WorkerColdStart -benchtime 5x ./internal/workerbundle
func BenchmarkWorkerColdStart(b *testing.B) {
	op := startOP(b)
	origin := edgecases.EchoOrigin(b)
	policy := writePolicy(b, op)
	tok := edgecases.MintUser(b, op, "alice", "engineer")
	testWasm(b)
	var first, firstToken time.Duration
	for range b.N {
		rw := startWorker(b, policy, origin.URL, ConfigOptions{Allow: AllowFor(origin.URL, op.Issuer())})
		if r, err := edgecases.Do(rw.url, "GET", "/api/items", nil); err != nil || r.Status != 401 {
			b.Fatalf("first answer: %+v %v", r, err)
		}
		first += time.Since(rw.started)
		t0 := time.Now()
		if r, err := edgecases.Do(rw.url, "GET", "/api/items", map[string]string{"Authorization": "Bearer " + tok}); err != nil || r.Status != 200 {
			b.Fatalf("first token: %+v %v", r, err)
		}
		firstToken += time.Since(t0)
		rw.stop()
	}
	b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "first-ms")
	b.ReportMetric(float64(firstToken.Microseconds())/1000/float64(b.N), "first-token-ms")
}

// startPassThrough serves a JS-only Worker in workerd that forwards every request to origin
// without any check: what workerd itself costs, to set the Go core's share apart.
func startPassThrough(b *testing.B, origin string) string {
	b.Helper()
	dir := b.TempDir()
	js := `export default { async fetch(r, env) { const u = new URL(r.url);
  return fetch(env.PINGEDGE_ORIGIN + u.pathname + u.search, { headers: r.headers }); } };`
	conf := strings.Replace(Config(ConfigOptions{Origin: origin, Allow: AllowFor(origin)}), "\n    (name = \"wasm_exec.js\", esModule = embed \"wasm_exec.js\"),\n    (name = \"policy.mjs\", esModule = embed \"policy.mjs\"),\n    (name = \"pingedge.wasm\", wasm = embed \"pingedge.wasm\"),", "", 1)
	for name, data := range map[string]string{FileShim: js, "config.capnp": conf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	bin, err := LocateWorkerd()
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Start(ctx, bin, dir, ln, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cancel(); _ = p.Wait(); _ = ln.Close() })
	return "http://" + ln.Addr().String()
}
