package edge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkGateway compares, in one run and over real loopback HTTP with keep-alive, a bare
// httputil.ReverseProxy (the baseline: what any Go gateway pays) with the pingedge gateway
// deciding a valid token (cached after the first request) and with the forward-auth endpoint.
//
//	go test -run XXX -bench BenchmarkGateway -benchtime 3s ./internal/edge/
func BenchmarkGateway(b *testing.B) {
	op := startOP(b)
	tok := mint(b, op, "alice", "engineer")
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
	fa := startEdge(b, Options{PolicyFile: policy, ForwardAuth: true})

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, c := range []struct{ name, url string }{
		{"bare-reverseproxy", bare.URL}, {"pingedge-gateway", gw.url}, {"pingedge-forward-auth", fa.url},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", c.url+"/api/items", nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
