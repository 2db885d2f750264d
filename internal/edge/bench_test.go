package edge

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkGateway compares, in one run and over real loopback HTTP with keep-alive, a bare
// httputil.ReverseProxy (the baseline: what any Go gateway pays) with the pingedge gateway
// deciding a valid token (cached after the first request) and with the forward-auth endpoint.
//
//	go test -run XXX -bench BenchmarkGateway -benchtime 20000x -count 3 ./internal/edge/
//
// The interleaved sub-benchmark reports the throughput ratio gateway/bare directly.
func BenchmarkGateway(b *testing.B) {
	op := startOP(b)
	// Not mint's one-minute token: -count 3 on a loaded machine outlasts it, and the later
	// rounds would measure 401s (the result cache makes the lifetime free per request).
	tok, err := op.MintAccessToken(map[string]any{"sub": "alice", "aud": op.Audience(), "roles": []string{"engineer"}},
		30*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"items":[1,2,3]}`)
	}))
	b.Cleanup(origin.Close)
	u, _ := url.Parse(origin.URL)
	policy := filepath.Join(b.TempDir(), "policy.yaml")
	writeFile(b, policy, strings.Replace(testPolicy, "%s", op.Issuer(), 1))

	// The baseline gets the gateway's transport, flushing and buffer pool: the difference is
	// verification, policy, header rewriting and the audit line.
	bare := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
		Transport: originTransport(), FlushInterval: -1, BufferPool: newBufferPool(),
	})
	b.Cleanup(bare.Close)
	gw := startEdge(b, Options{PolicyFile: policy, Origin: u})
	fa := startEdge(b, Options{PolicyFile: policy, ForwardAuth: ProxyEnvoy})

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	targets := []struct{ name, url string }{
		{"bare-reverseproxy", bare.URL}, {"pingedge-gateway", gw.url}, {"pingedge-forward-auth", fa.url},
	}
	for _, c := range targets {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := get(client, c.url, tok); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	// Interleaved rounds: the same load hits both proxies within milliseconds of each other, so
	// a busy neighbour on a shared machine slows both alike and the ratio holds.
	b.Run("interleaved", func(b *testing.B) {
		var spent [2]time.Duration
		for b.Loop() {
			for i, url := range []string{bare.URL, gw.url} {
				start := time.Now()
				if err := burst(client, url, tok, 8, 25); err != nil {
					b.Fatal(err)
				}
				spent[i] += time.Since(start)
			}
		}
		n := float64(b.N * 8 * 25)
		b.ReportMetric(n/spent[0].Seconds(), "bare-req/s")
		b.ReportMetric(n/spent[1].Seconds(), "gateway-req/s")
		b.ReportMetric(spent[0].Seconds()/spent[1].Seconds(), "gateway/bare")
	})
}

// burst sends workers×each requests over workers concurrent keep-alive connections.
func burst(client *http.Client, url, tok string, workers, each int) error {
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range each {
				if err := get(client, url, tok); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func get(client *http.Client, base, tok string) error {
	req, _ := http.NewRequest("GET", base+"/api/items", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
