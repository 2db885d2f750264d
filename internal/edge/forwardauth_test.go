package edge

import (
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

// forwardAuth starts a provider and a forward-auth server trusting trusted (nil: loopback).
func forwardAuth(t *testing.T, trusted []netip.Prefix) (string, *running) {
	t.Helper()
	op := startOP(t)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, strings.Replace(testPolicy, "%s", op.Issuer(), 1))
	return mint(t, op, "alice", "engineer"), startEdge(t, Options{PolicyFile: path, ForwardAuth: true, TrustedProxies: trusted})
}

func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestForwardAuthFromTrustedProxy: every header convention the four proxies use, the request
// line for Envoy, and the refusals.
func TestForwardAuthFromTrustedProxy(t *testing.T) {
	alice, fa := forwardAuth(t, nil)
	tok := bearer(alice)
	cases := []struct {
		name, line string
		h          map[string]string
		status     int
		user       string
	}{
		{"traefik/caddy headers", "/auth", with(tok, "X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/api/a?x=1"), 200, "alice"},
		{"nginx headers", "/auth", with(tok, "X-Original-Method", "POST", "X-Original-URI", "/admin/x"), 403, ""},
		{"X-Original-URL", "/auth", with(tok, "X-Original-URL", "https://api.example.com/admin/x?y"), 403, ""},
		{"X-Original-URL allowed", "/auth", with(tok, "X-Original-URL", "https://api.example.com/api/x"), 200, "alice"},
		{"request line (envoy)", "/api/items?q=1", tok, 200, "alice"},
		{"request line protected", "/admin/items", tok, 403, ""},
		{"no token", "/auth", map[string]string{"X-Forwarded-Uri": "/api/a"}, 401, ""},
		{"public path, no token", "/auth", map[string]string{"X-Forwarded-Uri": "/public/a", "X-Auth-User": "mallory"}, 200, ""},
		{"encoded slash is a denial, not a 400", "/auth", with(tok, "X-Forwarded-Uri", "/api/..%2Fadmin"), 403, ""},
		{"dot segments resolved", "/auth", with(tok, "X-Forwarded-Uri", "/api/../admin/x"), 403, ""},
		{"absolute uri refused", "/auth", with(tok, "X-Forwarded-Uri", "http://evil/api/a"), 403, ""},
		{"two X-Forwarded-Uri refused", "/auth", with(tok, "X-Forwarded-Uri", "/api/a", "x-forwarded-uri", "/admin/x"), 403, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, "GET", fa.url, c.line, c.h)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, c.status, body)
			}
			if got := resp.Header.Get("X-Auth-User"); got != c.user {
				t.Errorf("X-Auth-User %q, want %q", got, c.user)
			}
			if c.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge")
			}
			if _, sent := resp.Header["X-Auth-User"]; c.status == 200 && !sent {
				t.Error("X-Auth-User not answered (empty is expected on a public path)")
			}
			if c.status == 200 && c.user != "" && resp.Header.Get("X-Auth-Roles") != "engineer" {
				t.Errorf("X-Auth-Roles %q", resp.Header.Get("X-Auth-Roles"))
			}
		})
	}
}

// TestForwardAuthUntrustedPeer: from a peer outside --trusted-proxies the headers are ignored,
// so a client cannot point the decision at a public path.
func TestForwardAuthUntrustedPeer(t *testing.T) {
	alice, fa := forwardAuth(t, []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")})
	resp, _ := do(t, "GET", fa.url, "/admin/x", map[string]string{"X-Forwarded-Uri": "/public/a", "X-Original-URI": "/public/a"})
	if resp.StatusCode != 401 {
		t.Errorf("untrusted X-Forwarded-Uri honoured: %d, want 401 for /admin/x", resp.StatusCode)
	}
	resp, _ = do(t, "GET", fa.url, "/admin/x", with(bearer(alice), "X-Forwarded-Uri", "/api/a"))
	if resp.StatusCode != 403 {
		t.Errorf("untrusted X-Forwarded-Uri honoured: %d, want 403 for /admin/x", resp.StatusCode)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies([]string{"10.1.2.3/8", "192.0.2.7", "::ffff:198.51.100.1", " "})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "198.51.100.1/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	if _, err := ParseTrustedProxies([]string{"proxy.internal"}); err == nil {
		t.Error("a host name was accepted as a trusted proxy")
	}
}

// FuzzOriginal: whatever the headers, an untrusted peer is decided on its request line, and a
// target accepted from headers is always origin-form.
func FuzzOriginal(f *testing.F) {
	f.Add("GET", "/api/a", "POST", "/admin", "", "", true)
	f.Add("GET", "/x", "", "", "/admin?x", "http://h/a", true)
	f.Add("GET", "/x", "", "http://evil/", "", "", true)
	f.Add("GET", "/x", "", "", "", "://bad", true)
	f.Add("GET", "/x", "PUT", "/public", "", "", false)
	f.Fuzz(func(t *testing.T, method, line, xfm, xfu, xou, xurl string, trusted bool) {
		req, err := http.NewRequest(method, "http://gw.example"+line, nil)
		if err != nil || req.URL.Path == "" || !strings.HasPrefix(line, "/") {
			return
		}
		req.RemoteAddr = "127.0.0.1:5000"
		for k, v := range map[string]string{"X-Forwarded-Method": xfm, "X-Forwarded-Uri": xfu, "X-Original-Uri": xou, "X-Original-Url": xurl} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		s := &Server{opts: Options{TrustedProxies: DefaultTrustedProxies}}
		if !trusted {
			s.opts.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
		}
		m, target, ok := s.original(req)
		if !trusted && (!ok || m != req.Method || target != req.URL.RequestURI()) {
			t.Fatalf("untrusted peer: %q %q %v", m, target, ok)
		}
		if ok && !strings.HasPrefix(target, "/") {
			t.Fatalf("accepted target %q is not origin-form", target)
		}
	})
}

// FuzzStripHeaders: after stripping, no header an origin could read as a stripped one is left,
// whatever mix of case, dashes and underscores the client used.
func FuzzStripHeaders(f *testing.F) {
	f.Add("X_Auth_User", "x-auth-roles")
	f.Add("Authorization", "AUTHORIZATION")
	f.Add("X-Auth_User", "x_auth-email")
	f.Fuzz(func(t *testing.T, a, b string) {
		h := http.Header{}
		h[a], h[b], h["Keep-Me"] = []string{"1"}, []string{"2"}, []string{"3"}
		names := []string{"Authorization", "X-Auth-User", "X-Auth-Email", "X-Auth-Roles"}
		stripHeaders(h, names)
		for k := range h {
			alias := http.CanonicalHeaderKey(strings.ReplaceAll(k, "_", "-"))
			for _, n := range names {
				if strings.EqualFold(alias, n) {
					t.Fatalf("%q survived as %q", k, n)
				}
			}
		}
		if h.Get("Keep-Me") != "3" && !strings.EqualFold(a, "Keep-Me") && !strings.EqualFold(b, "Keep-Me") {
			t.Fatal("an unrelated header was removed")
		}
	})
}
