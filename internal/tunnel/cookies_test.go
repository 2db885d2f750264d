package tunnel

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// cookieUpstream records the Cookie header it receives and sets two cookies, one scoped to
// Domain=localhost.
type cookieUpstream struct {
	mu   sync.Mutex
	seen []string
}

func (c *cookieUpstream) handler(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.seen = append(c.seen, r.Header.Get("Cookie"))
	c.mu.Unlock()
	w.Header().Add("Set-Cookie", "sid=upstream; Domain=localhost; Path=/; HttpOnly")
	w.Header().Add("Set-Cookie", "pref=1; Path=/; domain=.App.Localhost.")
	w.Header().Add("Set-Cookie", "theme=dark; Path=/")
}

// TestCookiesDoNotCrossTheTunnelByDefault is issue 16 finding 7: the browser's localhost cookies
// (shared by every local port) are not sent upstream, and the upstream's cookies do not land in
// the shared localhost jar, unless ForwardCookies; then Domain=localhost is removed.
func TestCookiesDoNotCrossTheTunnelByDefault(t *testing.T) {
	src := newTestSource(time.Minute)
	up := &cookieUpstream{}
	srv := authUpstream(t, src, up.handler)
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", srv.URL)}})
	for range 2 {
		_, _, hdr := get(t, "GET", tun.url+"/x", h("Cookie", "other_app_session=s3cret"))
		if sc := hdr.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("Set-Cookie reached the browser: %q", sc)
		}
	}
	if up.seen[0] != "" || up.seen[1] != "" {
		t.Errorf("the upstream received the browser's cookies: %q", up.seen)
	}
	if n := strings.Count(tun.logs.String(), "--forward-cookies"); n != 1 {
		t.Errorf("warned %d times about dropped cookies, want once:\n%s", n, tun.logs.String())
	}

	up2 := &cookieUpstream{}
	srv2 := authUpstream(t, src, up2.handler)
	fwd := startTunnel(t, Options{Source: src, ForwardCookies: true, Routes: []Route{mustRoute(t, "/", srv2.URL)}})
	_, _, hdr := get(t, "GET", fwd.url+"/x", h("Cookie", "sid=abc"))
	if up2.seen[0] != "sid=abc" {
		t.Errorf("with ForwardCookies the upstream got %q", up2.seen[0])
	}
	want := []string{"sid=upstream; Path=/; HttpOnly", "pref=1; Path=/", "theme=dark; Path=/"}
	if got := hdr.Values("Set-Cookie"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Set-Cookie with ForwardCookies = %q, want %q", got, want)
	}
}

func TestWithoutLocalhostDomain(t *testing.T) {
	for in, want := range map[string]string{
		"a=1; Domain=localhost":                    "a=1",
		"a=1; domain=LOCALHOST; Path=/":            "a=1; Path=/",
		"a=1;Domain=.localhost;Secure":             "a=1;Secure",
		"a=1; Domain=api.localhost":                "a=1",
		"a=1; Domain=example.com":                  "a=1; Domain=example.com",
		"a=1; Domain=localhost.example.com":        "a=1; Domain=localhost.example.com",
		"a=1; Path=/; Domain = localhost ; Secure": "a=1; Path=/; Secure",
		"a=localhost; Path=/":                      "a=localhost; Path=/",
	} {
		if got := withoutLocalhostDomain(in); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}

// FuzzWithoutLocalhostDomain: whatever the upstream sends, no Domain attribute naming localhost
// or a *.localhost name survives, and nothing else is changed or added.
func FuzzWithoutLocalhostDomain(f *testing.F) {
	for _, s := range []string{"a=1; Domain=localhost", "a=1;domain=.X.LOCALHOST.;Path=/", "a=1; Domain=example.com", "a", ";;;", "=; domain = localhost ;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		out := withoutLocalhostDomain(c)
		parts := strings.Split(out, ";")
		in := strings.Split(c, ";")
		if parts[0] != in[0] {
			t.Fatalf("%q -> %q changed the name=value pair", c, out)
		}
		j := 1
		for _, p := range parts[1:] {
			name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(name), "domain") && isLocalhostName(value) {
				t.Fatalf("%q -> %q keeps %q", c, out, p)
			}
			for j < len(in) && in[j] != p {
				j++
			}
			if j == len(in) {
				t.Fatalf("%q -> %q: attribute %q is not from the input, in order", c, out, p)
			}
			j++
		}
	})
}
