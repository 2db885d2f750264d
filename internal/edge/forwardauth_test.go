package edge

import (
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

// forwardAuth starts a provider and a forward-auth server for an nginx in front, trusting
// trusted (nil: loopback).
func forwardAuth(t *testing.T, trusted []netip.Prefix) (string, *running) {
	return forwardAuthFor(t, ProxyNginx, trusted)
}

// forwardAuthFor is forwardAuth for the given proxy.
func forwardAuthFor(t *testing.T, proxy Proxy, trusted []netip.Prefix) (string, *running) {
	t.Helper()
	op := startOP(t)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, strings.Replace(testPolicy, "%s", op.Issuer(), 1))
	return mint(t, op, "alice", "engineer"), startEdge(t, Options{PolicyFile: path, ForwardAuth: proxy, TrustedProxies: trusted})
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

// faCase is one request to the forward-auth endpoint from a trusted proxy.
type faCase struct {
	name, line string
	h          map[string]string
	status     int
	user       string
	audit      string // a fragment the audit line must hold ("" = none checked)
}

// TestForwardAuthFromTrustedProxy: each proxy's own header family decides; another family,
// a duplicate or a missing header is refused (issue 10, finding 1: a client-sent
// X-Forwarded-Uri used to win over nginx's X-Original-URI), and the audit line names the
// path the origin will serve, not the spoofed one.
func TestForwardAuthFromTrustedProxy(t *testing.T) {
	for proxy, cases := range map[Proxy][]faCase{
		ProxyNginx: {
			{"own headers", "/auth", xo("GET", "/api/a?x=1"), 200, "alice", `"path":"/api/a"`},
			{"own headers protected", "/auth", xo("POST", "/admin/x"), 403, "", ""},
			{"spoofed X-Forwarded-Uri", "/auth", with(xo("GET", "/admin/users?access_token=secret"), "X-Forwarded-Uri", "/healthz"), 403, "",
				`"path":"/admin/users","decision":"deny","status":403,"reason":"original request: X-Forwarded-Uri sent, but nginx does not set it`},
			{"spoofed X-Forwarded-Method", "/auth", with(xo("DELETE", "/public/a"), "X-Forwarded-Method", "GET"), 403, "", `"method":"DELETE"`},
			{"spoofed X-Original-URL", "/auth", with(xo("GET", "/admin/x"), "X-Original-URL", "https://api.example.com/api/x"), 403, "", "X-Original-Url sent"},
			{"two X-Original-URI", "/auth", with(xo("GET", "/api/a"), "x-original-uri", "/admin/x"), 403, "", "two copies"},
			{"missing X-Original-URI", "/auth", with(tok(), "X-Original-Method", "GET"), 403, "", "did not send"},
			{"no token", "/auth", xo("GET", "/api/a"), 401, "", ""},
			{"public path, no token", "/auth", with(xo("GET", "/public/a"), "X-Auth-User", "mallory"), 200, "", ""},
			{"encoded slash is a denial, not a 400", "/auth", xo("GET", "/api/..%2Fadmin"), 403, "", ""},
			{"dot segments resolved", "/auth", xo("GET", "/api/../admin/x"), 403, "", ""},
			{"path parameter", "/auth", xo("GET", "/admin;x/users"), 403, "", "path parameter"},
			{"absolute uri refused", "/auth", xo("GET", "http://evil/api/a"), 403, "", "origin-form"},
		},
		ProxyCaddy: {
			{"own headers", "/auth", xf("GET", "/api/a?x=1"), 200, "alice", ""},
			{"spoofed X-Original-URI", "/auth", with(xf("GET", "/admin/x"), "X-Original-URI", "/api/a"), 400, "", "X-Original-Uri sent, but caddy"},
			{"spoofed X-Original-Method", "/auth", with(xf("DELETE", "/public/a"), "X-Original-Method", "GET"), 400, "", ""},
			{"two X-Forwarded-Uri", "/auth", with(xf("GET", "/api/a"), "x-forwarded-uri", "/admin/x"), 400, "", "two copies"},
			{"missing", "/api/a", tok(), 400, "", "did not send"},
		},
		ProxyTraefik: {
			{"own headers", "/auth", xf("GET", "/api/a"), 200, "alice", ""},
			{"spoofed X-Original-URI", "/auth", with(xf("GET", "/admin/x"), "X-Original-URI", "/api/a"), 400, "", ""},
			{"X-Rewrite-URL", "/auth", with(xf("GET", "/api/a"), "X-Rewrite-URL", "/admin/x"), 400, "", "X-Rewrite-Url sent"},
		},
		ProxyEnvoy: {
			{"request line", "/api/items?q=1", tok(), 200, "alice", ""},
			{"request line protected", "/admin/items", tok(), 403, "", ""},
			{"spoofed X-Forwarded-Uri", "/admin/items", with(tok(), "X-Forwarded-Uri", "/api/a"), 400, "", `"path":"/admin/items"`},
			{"spoofed X-Original-URI", "/admin/items", with(tok(), "X-Original-URI", "/api/a"), 400, "", ""},
		},
	} {
		t.Run(string(proxy), func(t *testing.T) {
			alice, fa := forwardAuthFor(t, proxy, nil)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { checkFA(t, fa, alice, c) })
			}
		})
	}
}

// tok, xo and xf build headers with the token placeholder (filled by checkFA), nginx's
// family (xo) or Traefik's and Caddy's (xf).
func tok() map[string]string { return map[string]string{"Authorization": "Bearer TOKEN"} }
func xo(m, u string) map[string]string {
	return with(tok(), "X-Original-Method", m, "X-Original-URI", u)
}
func xf(m, u string) map[string]string {
	return with(tok(), "X-Forwarded-Method", m, "X-Forwarded-Uri", u)
}

func checkFA(t *testing.T, fa *running, token string, c faCase) {
	t.Helper()
	h := map[string]string{}
	for k, v := range c.h {
		h[k] = strings.ReplaceAll(v, "TOKEN", token)
	}
	if c.status == 401 || strings.HasPrefix(c.name, "public") {
		delete(h, "Authorization")
	}
	rid := "fa-" + strings.NewReplacer(" ", "-", ",", "").Replace(c.name)
	h["X-Request-Id"] = rid
	resp, body := do(t, "GET", fa.url, c.line, h)
	if resp.StatusCode != c.status {
		t.Fatalf("status %d, want %d (%s)\n%s", resp.StatusCode, c.status, body, fa.audit)
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
	line := auditLine(t, fa, rid)
	if !strings.Contains(line, c.audit) {
		t.Errorf("audit line lacks %q:\n%s", c.audit, line)
	}
	if strings.Contains(line, "secret") || strings.Contains(line, token) {
		t.Errorf("audit line holds the query or the token:\n%s", line)
	}
}

// auditLine waits for the audit line of request id rid.
func auditLine(t *testing.T, fa *running, rid string) string {
	t.Helper()
	var line string
	waitFor(t, "audit line "+rid, func() bool {
		for l := range strings.SplitSeq(fa.audit.String(), "\n") {
			if strings.Contains(l, `"request_id":"`+rid+`"`) {
				line = l
				return true
			}
		}
		return false
	})
	return line
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
		for _, proxy := range []Proxy{ProxyNginx, ProxyTraefik, ProxyCaddy, ProxyEnvoy} {
			s := &Server{opts: Options{TrustedProxies: DefaultTrustedProxies, ForwardAuth: proxy}}
			if !trusted {
				s.opts.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
			}
			o := s.original(req)
			if !trusted && (o.refusal != "" || o.method != req.Method || o.target != req.URL.RequestURI()) {
				t.Fatalf("untrusted peer: %+v", o)
			}
			if o.refusal == "" && !strings.HasPrefix(o.target, "/") {
				t.Fatalf("%s: accepted target %q is not origin-form", proxy, o.target)
			}
			// Only the proxy's own family may be present in an accepted request.
			fam := proxy.family()
			for _, n := range originHeaders() {
				if _, sent := req.Header[n]; trusted && sent && o.refusal == "" && n != fam.method && n != fam.uri {
					t.Fatalf("%s: accepted a request carrying %s", proxy, n)
				}
			}
		}
	})
}
