package tunnel

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// FuzzHostGuard: whatever the Host header, the guard accepts it only if it is localhost or a
// loopback IP literal with the tunnel's port. The check here is written independently of
// hostOK's code path (url.URL parsing instead of net.SplitHostPort).
func FuzzHostGuard(f *testing.F) {
	for _, s := range []string{"localhost:8080", "127.0.0.1:8080", "[::1]:8080", "127.0.0.1.nip.io:8080",
		"attacker.com:8080", "localhost", "LOCALHOST.:8080", "[::ffff:127.0.0.1]:8080", "127.1:8080",
		"[::1%lo]:8080", "localhost:08080", "localhost:8080:8080", "@localhost:8080", "localhost.:8080", ""} {
		f.Add(s)
	}
	g, _ := newGuard(8080, false, nil, nil)
	f.Fuzz(func(t *testing.T, host string) {
		if !g.hostOK(host) {
			return
		}
		u, err := url.Parse("http://" + host)
		if err != nil || u.Host != host || u.Port() == "" {
			t.Fatalf("accepted Host %q that is not a plain host:port", host)
		}
		name := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		if ip, err := netip.ParseAddr(name); err == nil {
			if !ip.Unmap().IsLoopback() || ip.Zone() != "" {
				t.Fatalf("accepted non-loopback address %q", host)
			}
		} else if name != "localhost" {
			t.Fatalf("accepted name %q", host)
		}
	})
}

// FuzzOriginGuard: a request that a browser marks cross-site, or that carries an Origin other
// than an allowed one or the tunnel's own, is always refused.
func FuzzOriginGuard(f *testing.F) {
	f.Add("http://localhost:3000", "same-site")
	f.Add("HTTP://LOCALHOST:3000/", "cross-site")
	f.Add("http://localhost:3000.evil.com", "cross-site")
	f.Add("http://localhost:8080", "same-origin")
	f.Add("null", "")
	f.Add("http://user@localhost:3000", "")
	f.Add("http://localhost:3000#", "cross-site")
	g, _ := newGuard(8080, false, nil, []string{"http://localhost:3000"})
	f.Fuzz(func(t *testing.T, origin, site string) {
		r := &http.Request{Host: "localhost:8080", Header: http.Header{}}
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", site)
		echo, ok := g.browser(r)
		if !ok {
			return
		}
		allowed := origin == "" || sameOrigin(origin, r.Host)
		if n, valid := normOrigin(origin); valid && n == "http://localhost:3000" {
			allowed = true
			if echo != origin {
				t.Fatalf("allowed origin %q not echoed (%q)", origin, echo)
			}
		} else if echo != "" {
			t.Fatalf("echoed CORS origin %q for a not-allowed origin", echo)
		}
		if !allowed {
			t.Fatalf("accepted Origin %q with Sec-Fetch-Site %q", origin, site)
		}
		s := strings.ToLower(r.Header.Get("Sec-Fetch-Site"))
		if echo == "" && (s == "cross-site" || s == "same-site") {
			t.Fatalf("accepted Sec-Fetch-Site %q for Origin %q", site, origin)
		}
		if u, err := url.Parse(origin); echo != "" && (err != nil || !strings.EqualFold(u.Hostname(), "localhost") || u.Port() != "3000") {
			t.Fatalf("origin %q treated as http://localhost:3000", origin)
		}
	})
}

// FuzzRouteMatch compares the route table with a brute-force longest-prefix search.
func FuzzRouteMatch(f *testing.F) {
	f.Add("/api", "/api/v2", "/api/v2/x")
	f.Add("/", "/a", "/ab")
	f.Add("/a/", "/a/b/", "/a/b")
	f.Fuzz(func(t *testing.T, p1, p2, path string) {
		var routes []Route
		for _, p := range []string{p1, p2} {
			if r, err := NewRoute(p, "http://up.example"); err == nil && !hasPrefix(routes, r.Prefix) {
				routes = append(routes, r)
			}
		}
		if len(routes) == 0 {
			return
		}
		table, err := newRouteTable(routes)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := table.match(path)
		want := ""
		for _, r := range routes {
			boundary := r.Prefix == "/" || path == r.Prefix || strings.HasPrefix(path, r.Prefix+"/")
			if boundary && len(r.Prefix) > len(want) {
				want = r.Prefix
			}
		}
		if (want != "") != ok || (ok && got.Prefix != want) {
			t.Fatalf("routes %v path %q: got %v %v, want %q", routes, path, got, ok, want)
		}
	})
}

func hasPrefix(routes []Route, p string) bool {
	for _, r := range routes {
		if r.Prefix == p {
			return true
		}
	}
	return false
}
