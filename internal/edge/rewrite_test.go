package edge

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/pingedge/pingedge/internal/edgehttp"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

// FuzzRewritePath: whatever raw path a client sends, the path the origin receives is exactly
// the normalised path the policy matched (under the origin's base path): the gateway never
// forwards a spelling the rules did not see.
func FuzzRewritePath(f *testing.F) {
	for _, seed := range []string{"/api/items", "/api/../admin", "/a/%2e%2e/b", "//x//y/", "/%C3%A9", "/a;b=c/d", "/a%20b", "/!$&'()*+,;=:@", "/%7e%41"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, target string) {
		// As net/http's server reads a request target, and as serveGateway passes it on.
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		raw := u.EscapedPath()
		norm, err := policy.NormalizePath(raw)
		if err != nil {
			return
		}
		for _, base := range []string{"", "/base"} {
			origin, _ := url.Parse("http://origin.internal:8080" + base)
			s := &Server{opts: Options{Origin: origin}}
			p := &edgehttp.Pass{Path: norm, RequestID: "rid", IDHeader: "X-Request-Id"}
			in := (&http.Request{Method: "GET", URL: &url.URL{Path: "/"}, Header: http.Header{}, Host: "gw"}).
				WithContext(context.WithValue(context.Background(), passKey{}, p))
			pr := &httputil.ProxyRequest{In: in, Out: in.Clone(in.Context())}
			s.rewrite(pr)
			want := base + norm
			if base != "" && norm == "/" {
				want = base + "/"
			}
			if got := pr.Out.URL.EscapedPath(); got != want {
				t.Fatalf("raw %q normalised to %q, origin gets %q, want %q", raw, norm, got, want)
			}
		}
	})
}
