package keyset

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// discoveryDoc serves body (with %s replaced by the server's URL) as the discovery document.
func discoveryDoc(t *testing.T, body string) string {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(strings.ReplaceAll(body, "%s", srv.URL)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestDiscoverAttacks: what a hostile or broken issuer can put in its document, and the
// refusal each gets; every refusal is ErrDiscovery and says why.
func TestDiscoverAttacks(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"ok", `{"issuer":"%s","jwks_uri":"%s/keys","authorization_response_iss_parameter_supported":true}`, ""},
		{"mix-up: another issuer", `{"issuer":"https://evil.example","jwks_uri":"%s/keys"}`, "names issuer"},
		{"duplicate issuer member", `{"issuer":"https://evil.example","issuer":"%s","jwks_uri":"%s/keys"}`, "duplicate member"},
		{"clear-text jwks_uri off the machine", `{"issuer":"%s","jwks_uri":"http://keys.example/jwks"}`, "jwks_uri"},
		{"clear-text token endpoint", `{"issuer":"%s","jwks_uri":"%s/k","token_endpoint":"http://evil.example/t"}`, "token_endpoint"},
		{"no jwks_uri", `{"issuer":"%s"}`, "no jwks_uri"},
		{"wrong type", `{"issuer":"%s","jwks_uri":["%s/keys"]}`, "wrong type"},
		{"not JSON", `<html>`, "not an OpenID configuration"},
		{"oversized", `{"issuer":"%s","jwks_uri":"%s/k","x":"` + strings.Repeat("a", 70<<10) + `"}`, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iss := discoveryDoc(t, tc.body)
			p, err := Discover(t.Context(), &HTTPFetcher{}, iss)
			if tc.want == "" {
				if err != nil || p.JWKSURI != iss+"/keys" || !p.IssParameterSupported {
					t.Fatalf("p = %+v, err = %v", p, err)
				}
				return
			}
			if !errors.Is(err, ErrDiscovery) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrDiscovery with %q", err, tc.want)
			}
		})
	}
}
