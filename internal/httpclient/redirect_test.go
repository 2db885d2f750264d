package httpclient

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRedirectPolicy is the attack table: every redirect code × where it points × what kind of
// request was redirected.
func TestRedirectPolicy(t *testing.T) {
	targets := map[string]string{
		"https other host":    "https://evil.example/steal",
		"http other host":     "http://evil.example/steal",
		"http loopback":       "http://127.0.0.1:9/steal",
		"http localhost name": "http://evil.localhost:9/steal",
		"https same host":     "https://idp.example.com/moved",
		"other scheme":        "ftp://idp.example.com/x",
	}
	type kind struct {
		name, method, from string
		header             string
		secretCtx          bool
		allowed            map[string]bool // targets allowed; all others refused
	}
	kinds := []kind{
		{name: "token POST", method: http.MethodPost, from: "https://idp.example.com/token"},
		{name: "revocation POST on loopback", method: http.MethodPost, from: "http://127.0.0.1:8/revoke"},
		{name: "GET with Authorization", method: http.MethodGet, from: "https://api.example.com/x", header: "Authorization"},
		{name: "GET with DPoP", method: http.MethodGet, from: "https://api.example.com/x", header: "DPoP"},
		{name: "GET marked secret", method: http.MethodGet, from: "https://idp.example.com/x", secretCtx: true},
		{name: "discovery GET over https", method: http.MethodGet, from: "https://idp.example.com/.well-known/openid-configuration",
			allowed: map[string]bool{"https other host": true, "https same host": true}},
		{name: "JWKS GET over loopback http", method: http.MethodGet, from: "http://127.0.0.1:8/jwks",
			allowed: map[string]bool{"https other host": true, "https same host": true, "http loopback": true, "http localhost name": true}},
	}
	for _, k := range kinds {
		for _, code := range []int{301, 302, 303, 307, 308} {
			for tname, target := range targets {
				ctx := context.Background()
				if k.secretCtx {
					ctx = WithSecret(ctx)
				}
				first, _ := http.NewRequestWithContext(ctx, k.method, k.from, nil)
				if k.header != "" {
					first.Header.Set(k.header, "secret")
				}
				next, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
				next.Response = &http.Response{StatusCode: code}
				err := CheckRedirect(next, []*http.Request{first})
				if want := k.allowed[tname]; (err == nil) != want {
					t.Errorf("%s, %d to %s: err = %v, want allowed=%v", k.name, code, tname, err, want)
					continue
				}
				if err != nil {
					u, _ := url.Parse(target)
					if !IsRedirect(err) || !strings.Contains(err.Error(), u.Host) || !strings.Contains(err.Error(), k.from[:strings.Index(k.from[8:], "/")+8]) {
						t.Errorf("%s, %d to %s: the error must name the endpoint and the target host: %v", k.name, code, tname, err)
					}
				}
			}
		}
	}
}

func TestRedirectErrorNeverQuotesTheQuery(t *testing.T) {
	first, _ := http.NewRequest(http.MethodGet, "https://idp.example.com/x?token=sekrit", nil)
	first.Header.Set("Authorization", "Bearer sekrit")
	next, _ := http.NewRequest(http.MethodGet, "https://evil.example/?t=sekrit", nil)
	if err := CheckRedirect(next, []*http.Request{first}); err == nil || strings.Contains(err.Error(), "sekrit") {
		t.Fatalf("%v", err)
	}
}

// FuzzCheckRedirect: for any Location, a request that carries a secret is never redirected, and
// a GET is redirected only to https or (from loopback http) to loopback http.
func FuzzCheckRedirect(f *testing.F) {
	for _, s := range []string{"https://evil.example/", "http://evil.example/", "http://127.0.0.1/", "http://x.localhost/", "ftp://a/", "//evil/"} {
		f.Add(s, "http://127.0.0.1:8/jwks")
		f.Add(s, "https://idp.example.com/.well-known/openid-configuration")
	}
	f.Fuzz(func(t *testing.T, location, from string) {
		target, err1 := url.Parse(location)
		src, err2 := url.Parse(from)
		if err1 != nil || err2 != nil || target.Scheme == "" || src.Scheme == "" {
			return
		}
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			first := &http.Request{Method: method, URL: src, Header: http.Header{}}
			next := (&http.Request{Method: http.MethodGet, URL: target, Header: http.Header{}}).WithContext(context.Background())
			err := CheckRedirect(next, []*http.Request{first.WithContext(context.Background())})
			if err != nil {
				continue
			}
			if method == http.MethodPost {
				t.Fatalf("POST %s redirected to %s", from, location)
			}
			if target.Scheme != "https" && !(target.Scheme == "http" && src.Scheme == "http" && IsLoopbackHost(src.Hostname()) && IsLoopbackHost(target.Hostname())) {
				t.Fatalf("GET %s redirected to %s", from, location)
			}
		}
	})
}
