package edge

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify/policy"
)

// attackPolicy is testPolicy with what the attacks need: a GET-only public rule (method
// spoofing) and default: authenticated (path parameters reach an unlisted path with any token).
const attackPolicy = `issuer: %s
audience: https://api.example.com
roles_claim: roles
rules:
  - path: /healthz
    allow: anyone
  - path: /public/**
    methods: [GET, HEAD]
    allow: anyone
  - path: /admin/**
    roles: [admin]
  - path: /api/**
    roles: [engineer, admin]
default: authenticated
forward:
  X-Auth-User: sub
  X-Auth-Email: email
  X-Auth-Roles: roles
`

// attack is one hostile request through a proxy. reach says whether the origin must (yes),
// must not (no) or may (any) get it; whatever does get through must satisfy checkOrigin.
type attack struct {
	name, method, target string
	h                    map[string]string // "ENG" in a value is the engineer's token
	reach                string
	audit                string // a fragment of pingedge's audit line for this request, when set
}

// attacks: spoofed descriptions of the request in every family, identity headers in every
// spelling, path parameters, dot segments in every encoding, method overrides, h2c, CONNECT,
// forged forwarding headers.
func attacks() []attack {
	eng := map[string]string{"Authorization": "Bearer ENG"}
	return []attack{
		{"baseline allowed", "GET", "/api/items?x=1", eng, "yes", `"path":"/api/items"`},
		{"baseline public", "GET", "/public/info", nil, "yes", ""},
		// Finding 1: a client-sent description must never decide.
		{"X-Forwarded-Uri to a public path", "GET", "/admin/users", map[string]string{"X-Forwarded-Uri": "/healthz"}, "no", `"path":"/admin/users"`},
		{"X-Forwarded-Uri with a token", "GET", "/admin/users", with(eng, "X-Forwarded-Uri", "/api/x"), "no", `"path":"/admin/users"`},
		{"X-Forwarded-Method GET on DELETE", "DELETE", "/public/info", map[string]string{"X-Forwarded-Method": "GET"}, "no", `"method":"DELETE"`},
		{"X-Original-Method GET on DELETE", "DELETE", "/public/info", map[string]string{"X-Original-Method": "GET"}, "no", `"method":"DELETE"`},
		{"X-Original-URI", "GET", "/admin/users", with(eng, "X-Original-URI", "/api/x"), "no", `"path":"/admin/users"`},
		{"x-original-uri lower case", "GET", "/admin/users", with(eng, "x-original-uri", "/api/x"), "no", `"path":"/admin/users"`},
		{"X-Original-URL", "GET", "/admin/users", with(eng, "X-Original-URL", "https://api.example.com/api/x"), "no", `"path":"/admin/users"`},
		{"X-Rewrite-URL", "GET", "/admin/users", with(eng, "X-Rewrite-URL", "/api/x"), "no", `"path":"/admin/users"`},
		// nginx and Caddy drop these before pingedge; Traefik cannot, so pingedge refuses them.
		{"X-Original-URL to the origin", "GET", "/api/items", with(eng, "X-Original-URL", "/admin/users", "X-Rewrite-URL", "/admin/users"), "any", ""},
		// Finding 2: identity headers in any spelling, on public paths too.
		{"identity underscores on a public path", "GET", "/public/info", map[string]string{"X_Auth_Roles": "admin", "X_Auth_User": "root", "x_auth_email": "root@x"}, "yes", ""},
		{"identity mixed spellings on a public path", "GET", "/public/info", map[string]string{"X-Auth_Roles": "admin", "X_Auth-User": "root", "x-auth-roles": "admin", "X-AUTH-USER": "root"}, "yes", ""},
		{"identity underscores with a token", "GET", "/api/items", with(eng, "X_Auth_Roles", "admin", "X_AUTH_USER", "root"), "yes", ""},
		// Finding 4: path parameters (default: authenticated lets any token reach an unlisted path).
		{"path parameter", "GET", "/admin;x/users", eng, "no", ""},
		{"jsessionid", "GET", "/admin;jsessionid=1/users", eng, "no", ""},
		{"..; past /api/**", "GET", "/api/..;/admin/x", eng, "no", ""},
		{"%2e%2e; past /api/**", "GET", "/api/%2e%2e;/admin/x", eng, "no", ""},
		{"%3B", "GET", "/admin%3Bx/users", eng, "no", ""},
		// Dot segments in every encoding.
		{"..", "GET", "/api/../admin/users", eng, "no", ""},
		{"%2e%2e", "GET", "/api/%2e%2e/admin/users", eng, "no", ""},
		{"%2E%2E", "GET", "/api/%2E%2E/admin/users", eng, "no", ""},
		{".%2e", "GET", "/api/.%2e/admin/users", eng, "no", ""},
		{"..%2f", "GET", "/api/..%2fadmin/users", eng, "no", ""},
		{"..%5c", "GET", "/api/..%5cadmin/users", eng, "no", ""},
		{"..\\", "GET", "/api/..\\admin/users", eng, "no", ""},
		{"%252e%252e", "GET", "/api/%252e%252e/admin/users", eng, "any", ""},
		{"./..", "GET", "/api/./../admin/users", eng, "no", ""},
		{"//admin", "GET", "//admin/users", eng, "no", ""},
		{"public then ..", "GET", "/public/../admin/users", nil, "no", ""},
		// Finding 7: method overrides never reach the origin.
		{"method override on a public GET", "GET", "/public/info", map[string]string{"X-HTTP-Method-Override": "DELETE", "X-Method-Override": "DELETE", "X-HTTP-Method": "DELETE"}, "yes", ""},
		{"method override underscores", "POST", "/api/items", with(eng, "X_HTTP_Method_Override", "DELETE", "x-http-method-override", "DELETE"), "yes", ""},
		{"h2c upgrade", "GET", "/public/info", map[string]string{"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"}, "any", ""},
		{"CONNECT", "CONNECT", "127.0.0.1:22", eng, "no", ""},
		{"forged forwarding headers", "GET", "/public/info", map[string]string{"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Host": "evil.example", "Forwarded": "for=6.6.6.6;host=evil.example"}, "yes", ""},
	}
}

// proxies are the documented configs the suite attacks, each with the proxy's forward-auth
// mode and how its example is started.
func proxies() []struct {
	proxy Proxy
	start func(t *testing.T, pingedge, origin string) string
} {
	return []struct {
		proxy Proxy
		start func(t *testing.T, pingedge, origin string) string
	}{{ProxyNginx, startNginx}, {ProxyCaddy, startCaddy}, {ProxyTraefik, startTraefik}}
}

// TestProxyAttacks sends the attack table through real nginx, Caddy and Traefik running the
// files in docs/examples verbatim (addresses filled in) to an origin that reports everything
// it received, and asserts what the origin saw and what pingedge audited.
func TestProxyAttacks(t *testing.T) {
	for _, p := range proxies() {
		t.Run(string(p.proxy), func(t *testing.T) {
			eng, fa := attackEdge(t, p.proxy)
			origin := echoOrigin(t)
			base := p.start(t, strings.TrimPrefix(fa.url, "http://"), origin.URL)
			for i, a := range attacks() {
				t.Run(a.name, func(t *testing.T) { runAttack(t, fa, base, eng, i, a) })
			}
		})
	}
}

// attackEdge starts pingedge forward-auth for proxy with attackPolicy; it returns an
// engineer's token.
func attackEdge(t *testing.T, proxy Proxy) (string, *running) {
	t.Helper()
	op := startOP(t)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, strings.Replace(attackPolicy, "%s", op.Issuer(), 1))
	return mint(t, op, "alice", "engineer"), startEdge(t, Options{PolicyFile: path, ForwardAuth: proxy})
}

func runAttack(t *testing.T, fa *running, base, eng string, i int, a attack) {
	h := map[string]string{"X-Request-Id": fmt.Sprintf("atk-%d", i)}
	for k, v := range a.h {
		h[k] = strings.ReplaceAll(v, "ENG", eng)
	}
	before := len(fa.audit.String())
	resp, body := doQuiet(base, a.target, func(r *rawRequest) { r.method, r.h = a.method, h })
	if resp == nil {
		if a.reach == "yes" {
			t.Fatalf("no answer: %s", body)
		}
		return // the proxy closed the connection: refused
	}
	var s seen
	reached := json.Unmarshal(body, &s) == nil && s.Method != ""
	switch {
	case a.reach == "yes" && !reached:
		t.Fatalf("did not reach the origin: %d %s\naudit: %s", resp.StatusCode, body, fa.audit.String()[before:])
	case a.reach == "no" && reached:
		time.Sleep(200 * time.Millisecond) // the audit sink writes asynchronously
		t.Fatalf("reached the origin as %s %s (status %d)\nheaders: %v\naudit: %s", s.Method, s.URI, resp.StatusCode, s.Header, fa.audit.String()[before:])
	case a.reach == "no" && resp.StatusCode < 400:
		t.Fatalf("refused with %d", resp.StatusCode)
	}
	if a.audit != "" {
		waitFor(t, "audit line with "+a.audit, func() bool { return strings.Contains(fa.audit.String()[before:], a.audit) })
	}
	if reached {
		checkOrigin(t, fa, s)
	}
}

// checkOrigin holds for every request the origin got: pingedge allowed exactly the method and
// path the origin serves, and no identity, override, alternative-path or h2c header reached it
// except pingedge's own identity.
func checkOrigin(t *testing.T, fa *running, s seen) {
	t.Helper()
	if s.Method == http.MethodConnect {
		t.Fatalf("the origin got a CONNECT")
	}
	rec := auditFor(t, fa, s.Header.Get("X-Request-Id"))
	norm, err := policy.NormalizePath(s.URI)
	if err != nil || norm != rec.Path || s.Method != rec.Method || rec.Decision != "allow" {
		t.Errorf("origin served %s %s (normalised %q, %v); pingedge audited %s %s %s", s.Method, s.URI, norm, err, rec.Method, rec.Path, rec.Decision)
	}
	identity := map[string]string{"x-auth-user": rec.Subject, "x-auth-email": "", "x-auth-roles": ""}
	for k, v := range s.Header {
		folded := strings.ToLower(strings.ReplaceAll(k, "_", "-"))
		if want, ok := identity[folded]; ok {
			if k != http.CanonicalHeaderKey(folded) || len(v) != 1 || folded == "x-auth-user" && v[0] != want ||
				folded == "x-auth-roles" && v[0] != "" && v[0] != "engineer" {
				t.Errorf("identity header at the origin not pingedge's: %s: %q (audited sub %q)", k, v, rec.Subject)
			}
			continue
		}
		switch folded {
		case "x-http-method-override", "x-method-override", "x-http-method", "x-original-url", "x-rewrite-url",
			"authorization", "http2-settings":
			t.Errorf("the origin got %s: %q", k, v)
		case "upgrade":
			if strings.Contains(strings.ToLower(strings.Join(v, ",")), "h2c") {
				t.Errorf("the origin got an h2c upgrade offer")
			}
		case "x-forwarded-for", "x-forwarded-host", "forwarded":
			if j := strings.Join(v, ","); strings.Contains(j, "6.6.6.6") || strings.Contains(j, "evil.example") {
				t.Errorf("a client-written %s reached the origin: %q", k, v)
			}
		}
	}
}

// auditRecord is the part of an audit line the suite checks.
type auditRecord struct {
	RequestID string `json:"request_id"`
	Subject   string `json:"sub"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Decision  string `json:"decision"`
}

// auditFor waits for pingedge's audit line of request id rid.
func auditFor(t *testing.T, fa *running, rid string) auditRecord {
	t.Helper()
	line := auditLine(t, fa, rid)
	var rec auditRecord
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("audit line %q: %v", line, err)
	}
	return rec
}

// rawRequest is what doQuiet sends.
type rawRequest struct {
	method string
	h      map[string]string
}

// doQuiet is do without failing the test: a proxy may rightly close the connection on a
// hostile request. resp is nil when there was no HTTP answer.
func doQuiet(base, target string, opts ...func(*rawRequest)) (*http.Response, []byte) {
	r := &rawRequest{method: "GET"}
	for _, o := range opts {
		o(r)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, []byte(err.Error())
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return nil, []byte(err.Error())
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	b.WriteString(r.method + " " + target + " HTTP/1.1\r\nHost: " + u.Host + "\r\n")
	if r.h["Connection"] == "" {
		b.WriteString("Connection: close\r\n")
	}
	for k, v := range r.h {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return nil, []byte(err.Error())
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, []byte(err.Error())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// TestProxySlowBodyRefused: through each documented proxy, refused requests that declare a
// body and never send it are still answered promptly (pingedge never needs the body; the
// proxies ask it before reading one).
func TestProxySlowBodyRefused(t *testing.T) {
	for _, p := range proxies() {
		t.Run(string(p.proxy), func(t *testing.T) {
			_, fa := attackEdge(t, p.proxy)
			origin := echoOrigin(t)
			base := p.start(t, strings.TrimPrefix(fa.url, "http://"), origin.URL)
			u, _ := url.Parse(base)
			errs := make(chan error, 20)
			for i := range 20 {
				framing := "Content-Length: 1000" // half declare a length, half a chunked body
				if i%2 == 1 {
					framing = "Transfer-Encoding: chunked"
				}
				go func() {
					errs <- slowAnswer(u.Host, fmt.Sprintf("POST /admin/x HTTP/1.1\r\nHost: %s\r\n%s\r\nX-Request-Id: slow-%d\r\n\r\n", u.Host, framing, i))
				}()
			}
			for range 20 {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// slowAnswer sends head without the body it declares and expects a 401 within 5 s (Traefik
// answers once its read timeout, 2 s in the test, ends the wait for the body).
func slowAnswer(addr, head string) error {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return fmt.Errorf("no answer to a refused request whose body never came: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("status %d, want 401", resp.StatusCode)
	}
	return nil
}
