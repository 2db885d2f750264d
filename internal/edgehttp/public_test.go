package edgehttp

import (
	"net/http/httptest"
	"testing"
)

func TestParsePublicURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.example.com":       "https://api.example.com",
		"https://API.Example.com/":      "https://api.example.com",
		" https://api.example.com:8443": "https://api.example.com:8443",
		"http://10.0.0.7":               "http://10.0.0.7",
		"https://[::1]:8443":            "https://[::1]:8443",
	} {
		if got, err := ParsePublicURL(in); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "api.example.com", "ftp://api.example.com", "https://", "https:api.example.com",
		"https://u:p@api.example.com", "https://api.example.com/v1", "https://api.example.com?x=1", "https://api.example.com/?",
		"https://api.example.com#f", "https://api.example.com:port",
		// accepted before, yet no proof could ever match: a zone is not a host clients call, and
		// a port must be what a client writes (SameURL compares ports as written).
		"https://[fe80::1%25eth0]:8443", "https://api.example.com:0443", "https://api.example.com:99999",
		"https://api.example.com:0"} {
		if got, err := ParsePublicURL(bad); err == nil {
			t.Errorf("%q accepted as %q", bad, got)
		}
	}
}

// TestGatePublicOriginIgnoresTheRequest: with a public origin, the htu is it plus the raw path
// whatever scheme, Host or X-Forwarded-* the request carries.
func TestGatePublicOriginIgnoresTheRequest(t *testing.T) {
	g := &Gate{PublicOrigin: "https://api.example.com"}
	r := httptest.NewRequest("GET", "http://10.0.0.9:8000/a%2Fb?q=1", nil)
	r.Header.Set("X-Forwarded-Host", "evil.example")
	r.Header.Set("X-Forwarded-Proto", "http")
	if got := g.requestURL(r, r.URL.EscapedPath()); got != "https://api.example.com/a%2Fb" {
		t.Errorf("htu %q", got)
	}
	if got := (&Gate{}).requestURL(r, r.URL.EscapedPath()); got != "http://10.0.0.9:8000/a%2Fb" {
		t.Errorf("without a public origin: %q", got)
	}
}
