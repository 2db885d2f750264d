package edge

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

func originSaw(t *testing.T, body []byte) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("origin answer %q: %v", body, err)
	}
	return s
}

// TestGatewayDecisions runs allow, 401 and 403 against the real provider's tokens.
func TestGatewayDecisions(t *testing.T) {
	op, gw := gateway(t)
	alice := mint(t, op, "alice", "engineer")
	bob := mint(t, op, "bob", "admin", "engineer")
	wrongAud, _ := op.MintAccessToken(map[string]any{"sub": "alice", "aud": "https://other.example.com", "roles": []string{"admin"}}, 0)
	tampered := alice[:len(alice)-4] + "AAAA"
	cases := []struct {
		name, path string
		h          map[string]string
		status     int
		challenge  string // substring of WWW-Authenticate
	}{
		{"engineer reads the api", "/api/items", bearer(alice), 200, ""},
		{"admin reads admin", "/admin/users", bearer(bob), 200, ""},
		{"no token", "/api/items", nil, 401, "Bearer"},
		{"basic auth is not a bearer token", "/api/items", map[string]string{"Authorization": "Basic YTpi"}, 401, "Bearer"},
		{"tampered signature", "/api/items", bearer(tampered), 401, `error="invalid_token"`},
		{"wrong audience", "/api/items", bearer(wrongAud), 401, `error="invalid_token"`},
		{"not a jwt", "/api/items", bearer("abc.def.ghi"), 401, `error="invalid_token"`},
		{"engineer is not admin", "/admin/users", bearer(alice), 403, ""},
		{"default deny", "/elsewhere", bearer(bob), 403, ""},
		{"public without token", "/public/info", nil, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, "GET", gw.url, c.path, c.h)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, c.status, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, c.challenge) || (c.challenge == "") != (got == "") {
				t.Errorf("WWW-Authenticate %q, want it to contain %q", got, c.challenge)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id on the response")
			}
			if c.status != 200 && strings.Contains(string(body), "method") {
				t.Errorf("a refused request reached the origin: %s", body)
			}
		})
	}
}

// TestGatewayIdentityHeaders: Authorization never reaches the origin, the policy's identity
// headers do, and a client cannot forge them under any spelling.
func TestGatewayIdentityHeaders(t *testing.T) {
	op, gw := gateway(t)
	alice := mint(t, op, "alice", "engineer")
	spoof := map[string]string{
		"Authorization": "Bearer " + alice,
		"X-Auth-User":   "mallory", "x-auth-roles": "admin", "X_Auth_Email": "mallory@evil.example",
		"X-Auth_User": "mallory", "X-Forwarded-For": "10.6.6.6", "X-Request-Id": "trace-42",
	}
	resp, body := do(t, "GET", gw.url, "/api/items", spoof)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	s := originSaw(t, body)
	want := map[string]string{"X-Auth-User": "alice", "X-Auth-Email": "alice@example.com", "X-Auth-Roles": "engineer", "X-Request-Id": "trace-42"}
	for k, v := range want {
		if got := s.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("origin saw %s = %q, want exactly %q", k, got, v)
		}
	}
	for k := range s.Header {
		if k == "Authorization" || strings.Contains(k, "_") {
			t.Errorf("origin saw %s: %q", k, s.Header[k])
		}
	}
	if xff := s.Header.Get("X-Forwarded-For"); strings.Contains(xff, "10.6.6.6") {
		t.Errorf("forged X-Forwarded-For reached the origin: %q", xff)
	}
	if resp.Header.Get("X-Request-Id") != "trace-42" {
		t.Errorf("request id not kept: %q", resp.Header.Get("X-Request-Id"))
	}

	// On a public path the credentials and forged identities are stripped too.
	resp, body = do(t, "GET", gw.url, "/public/info", spoof)
	s = originSaw(t, body)
	if resp.StatusCode != 200 || s.Header.Get("Authorization") != "" || s.Header.Get("X-Auth-User") != "" {
		t.Errorf("public path: status %d, origin saw Authorization %q, X-Auth-User %q",
			resp.StatusCode, s.Header.Get("Authorization"), s.Header.Get("X-Auth-User"))
	}
	// A request id with a space or a quote is replaced by a fresh one.
	resp, body = do(t, "GET", gw.url, "/public/x", map[string]string{"X-Request-Id": `a"b`})
	if id := originSaw(t, body).Header.Get("X-Request-Id"); len(id) != 32 || id != resp.Header.Get("X-Request-Id") {
		t.Errorf("stamped request id %q (response %q), want 32 hex characters on both", id, resp.Header.Get("X-Request-Id"))
	}
}

// TestGatewayPathConfusion sends paths that decode or resolve to a protected one; each must be
// decided on the path an origin would see, and the origin gets that normalised path.
func TestGatewayPathConfusion(t *testing.T) {
	op, gw := gateway(t)
	alice := mint(t, op, "alice", "engineer")
	cases := []struct {
		path   string
		h      map[string]string
		status int
		origin string // the path the origin must see when allowed
	}{
		{"/api/../admin/users", bearer(alice), 403, ""},
		{"/api/%2e%2e/admin/users", bearer(alice), 403, ""},
		{"/api/.%2E/admin/users", bearer(alice), 403, ""},
		{"/./admin/users", bearer(alice), 403, ""},
		{"//admin/users", bearer(alice), 403, ""},
		{"/api/..%2Fadmin/users", bearer(alice), 400, ""},
		{"/api/%2F../admin", bearer(alice), 400, ""},
		{"/api/..%5Cadmin", bearer(alice), 400, ""},
		{"/api/..\\admin", bearer(alice), 400, ""},
		{"/public/../admin/users", nil, 401, ""},
		{"/public/%2e%2e/api/items", nil, 401, ""},
		{"/public/..%2fapi", nil, 400, ""},
		{"/%61dmin/users", bearer(alice), 403, ""},
		{"/api/./items//x", bearer(alice), 200, "/api/items/x"},
		{"/api/%69tems", bearer(alice), 200, "/api/items"},
		{"/api/items/%C3%A9", bearer(alice), 200, "/api/items/é"},
		{"/api/../../../admin", bearer(alice), 403, ""},
		{"http://evil.example/admin/users", bearer(alice), 403, ""}, // absolute-form request target
		{"http://evil.example/api/items", bearer(alice), 200, "/api/items"},
		{"api/items", bearer(alice), 400, ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, body := do(t, "GET", gw.url, c.path, c.h)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, c.status, body)
			}
			if c.origin != "" {
				if got := originSaw(t, body).Path; got != c.origin {
					t.Errorf("origin saw %q, want %q", got, c.origin)
				}
			}
		})
	}
}

// TestGatewayAudit: one JSON line per request on the audit writer with the decision, and the
// token in neither the audit lines nor the logs.
// TestGatewayConnect: CONNECT is not proxied (no tunnel to arbitrary hosts through the gateway).
func TestGatewayConnect(t *testing.T) {
	op, gw := gateway(t)
	if resp, _ := do(t, "CONNECT", gw.url, "example.com:443", bearer(mint(t, op, "bob", "admin"))); resp.StatusCode != 400 {
		t.Errorf("CONNECT: %d, want 400", resp.StatusCode)
	}
}

func TestGatewayAudit(t *testing.T) {
	op, gw := gateway(t)
	alice := mint(t, op, "alice", "engineer")
	do(t, "GET", gw.url, "/api/items", map[string]string{"Authorization": "Bearer " + alice, "X-Request-Id": "r-1"})
	do(t, "GET", gw.url, "/admin/x", map[string]string{"Authorization": "Bearer " + alice, "X-Request-Id": "r-2"})
	do(t, "GET", gw.url, "/api/items", map[string]string{"Authorization": "Bearer " + alice[:20], "X-Request-Id": "r-3"})
	gw.stop() // flushes the audit buffer
	lines := strings.Split(strings.TrimSpace(gw.audit.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d audit lines, want 3:\n%s", len(lines), gw.audit)
	}
	want := []struct {
		id, decision, sub string
		status            int
	}{
		{"r-1", "allow", "alice", 200}, {"r-2", "deny", "alice", 403}, {"r-3", "deny", "", 401},
	}
	for i, l := range lines {
		var rec struct {
			RequestID                   string `json:"request_id"`
			Decision, Sub, Path, Reason string
			Status                      int
			Latency                     *float64 `json:"latency_us"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
		w := want[i]
		if rec.RequestID != w.id || rec.Decision != w.decision || rec.Sub != w.sub || rec.Status != w.status || rec.Latency == nil || rec.Reason == "" {
			t.Errorf("line %d = %+v, want %+v", i, rec, w)
		}
	}
	for name, out := range map[string]string{"audit": gw.audit.String(), "logs": gw.logs.String()} {
		if strings.Contains(out, alice[:20]) || strings.Contains(out, strings.Split(alice, ".")[2]) {
			t.Errorf("the token appears in the %s", name)
		}
	}
}

func TestGatewayOriginDown(t *testing.T) {
	op, gw := gateway(t)
	gw.opts.Origin.Host = "127.0.0.1:1" // nothing listens on port 1
	resp, _ := do(t, "GET", gw.url, "/api/items", bearer(mint(t, op, "alice", "engineer")))
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
}

// TestGatewayTokenHeader: with token_header in the policy (Cloudflare Access style), the token
// comes from that header and is stripped like Authorization.
func TestGatewayTokenHeader(t *testing.T) {
	op := startOP(t)
	origin := echoOrigin(t)
	u, _ := url.Parse(origin.URL)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, policy, strings.Replace(testPolicy, "%s", op.Issuer(), 1)+"token_header: Cf-Access-Jwt-Assertion\n")
	gw := startEdge(t, Options{PolicyFile: policy, Origin: u})
	tok := mint(t, op, "alice", "engineer")
	resp, body := do(t, "GET", gw.url, "/api/items", map[string]string{"Cf-Access-Jwt-Assertion": tok})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	s := originSaw(t, body)
	if s.Header.Get("Cf-Access-Jwt-Assertion") != "" || s.Header.Get("X-Auth-User") != "alice" {
		t.Errorf("origin saw token header %q, X-Auth-User %q", s.Header.Get("Cf-Access-Jwt-Assertion"), s.Header.Get("X-Auth-User"))
	}
}
