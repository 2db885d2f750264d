package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policy"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

func decideEngine(t *testing.T, clk *clock) *Engine {
	t.Helper()
	p, err := policyfile.Parse([]byte(strings.Replace(samplePolicy, "https://auth.pingone.com/env-1/as", testIssuer, 1)))
	if err != nil {
		t.Fatal(err)
	}
	p.Audience = []string{testAudience}
	ks, _ := jose.NewStaticKeySet(testJWKS(t))
	e, err := NewEngine(p, EngineOptions{KeySet: ks, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func roleToken(t *testing.T, roles []string, scope string) string {
	return mint(t, jose.ES256, withClaims(func(c map[string]any) {
		c["pi"] = map[string]any{"roles": roles}
		c["scope"] = scope
	}), nil)
}

func TestDecide(t *testing.T) {
	clk := &clock{t: testNow}
	e := decideEngine(t, clk)
	admin := roleToken(t, []string{"admin", "engineer"}, "api:read")
	eng := roleToken(t, []string{"engineer"}, "openid")
	for _, tc := range []struct {
		name, method, path, token string
		header                    http.Header
		status                    int
		rule, www, reason         string
	}{
		{"open path without token", "GET", "/healthz", "", nil, 200, "rules[0] /healthz", "", "open to anyone"},
		{"no token", "GET", "/api/x", "", nil, 401, "api", "Bearer", "no bearer token"},
		{"garbage token", "GET", "/api/x", "abc", nil, 401, "api", `Bearer error="invalid_token", error_description="malformed token"`, "three"},
		{"admin may use admin", "DELETE", "/admin/users/1", admin, nil, 200, "rules[1] /admin/**", "", "allowed"},
		{"engineer lacks admin role", "GET", "/admin/users", eng, nil, 403, "rules[1] /admin/**", "", "role"},
		{"dot segments reach the admin rule", "GET", "/public/../admin/users", eng, nil, 403, "rules[1] /admin/**", "", "role"},
		{"lower-case method", "get", "/admin/users", admin, nil, 200, "rules[1] /admin/**", "", "allowed"},
		{"method outside the rule falls through to default", "PUT", "/admin/users", eng, nil, 200, "default", "", "allowed"},
		{"missing scope", "GET", "/api/items", eng, nil, 403, "api", `Bearer error="insufficient_scope", scope="api:read"`, "scope"},
		{"scope and role", "GET", "/api/items", admin, nil, 200, "api", "", "allowed"},
		{"encoded slash", "GET", "/admin%2Fusers", admin, nil, 400, "", "", "encoded slash"},
		{"token in Cf-Access-Jwt-Assertion", "GET", "/api/items", "", http.Header{"Cf-Access-Jwt-Assertion": {admin}}, 200, "api", "", "allowed"},
		{"token in Authorization", "GET", "/api/items", "", http.Header{"Authorization": {"bearer " + admin}}, 200, "api", "", "allowed"},
		{"two Authorization headers", "GET", "/api/items", "", http.Header{"Authorization": {"Bearer " + admin, "Bearer " + eng}}, 401, "api", "Bearer", "no bearer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := e.Decide(bg, Request{Method: tc.method, Path: tc.path, Token: tc.token, Header: tc.header})
			if d.Status != tc.status || d.Allow != (tc.status == 200) || d.Rule != tc.rule ||
				d.WWWAuthenticate != tc.www || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("got status %d allow %v rule %q www %q reason %q", d.Status, d.Allow, d.Rule, d.WWWAuthenticate, d.Reason)
			}
			if strings.Join(d.StripHeaders, ",") != "Authorization,Cf-Access-Jwt-Assertion,X-Auth-User,X-Auth-Roles,X-Http-Method-Override,X-Method-Override,X-Http-Method,X-Original-Url,X-Rewrite-Url" {
				t.Fatalf("strip: %v", d.StripHeaders)
			}
			if d.Audit.Status != d.Status || d.Audit.Method != tc.method {
				t.Fatalf("audit does not match: %+v", d.Audit)
			}
		})
	}
}

func TestDecideIdentityHeadersAndAudit(t *testing.T) {
	clk := &clock{t: testNow}
	e := decideEngine(t, clk)
	var records []AuditRecord
	e.audit = func(a AuditRecord) { records = append(records, a) }
	tok := roleToken(t, []string{"admin", "engineer"}, "api:read")
	d := e.Decide(bg, Request{Method: "GET", Path: "/api/x", Token: tok, Header: http.Header{"X-Request-Id": {"req-42"}}})
	if !d.Allow || d.SetHeaders["X-Auth-User"] != "user-1" || d.SetHeaders["X-Auth-Roles"] != "admin,engineer" {
		t.Fatalf("identity headers: %+v", d.SetHeaders)
	}
	var buf bytes.Buffer
	if err := d.Audit.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil || !strings.HasSuffix(line, "}\n") || strings.Count(line, "\n") != 1 {
		t.Fatalf("not one JSON line: %q", line)
	}
	for k, want := range map[string]any{"request_id": "req-42", "sub": "user-1", "client_id": "cli", "decision": "allow",
		"method": "GET", "path": "/api/x", "rule": "api", "status": 200.0, "iss": testIssuer} {
		if m[k] != want {
			t.Errorf("audit %s = %v, want %v", k, m[k], want)
		}
	}
	if _, ok := m["latency_us"]; !ok || strings.Contains(line, tok) || strings.Contains(line, strings.Split(tok, ".")[2]) {
		t.Fatalf("audit line must have latency and never the token: %s", line)
	}
	if len(records) != 1 || records[0].RequestID != "req-42" {
		t.Fatalf("OnDecision hook: %+v", records)
	}
	// A claim carrying CR/LF never becomes a header (response splitting towards the origin).
	evil := mint(t, jose.ES256, withClaims(func(c map[string]any) { c["sub"] = "x\r\nX-Admin: 1" }), nil)
	d = e.Decide(bg, Request{Method: "GET", Path: "/healthz/../x", Token: evil})
	if _, ok := d.SetHeaders["X-Auth-User"]; ok || !d.Allow {
		t.Fatalf("header injection: %+v", d)
	}
}

func TestDecisionCache(t *testing.T) {
	clk := &clock{t: testNow}
	e := decideEngine(t, clk)
	tok := mint(t, jose.ES256, withClaims(func(c map[string]any) { c["exp"] = testNow.Add(90 * time.Second).Unix() }), nil)
	req := Request{Method: "GET", Path: "/x", Token: tok}
	for range 3 {
		if d := e.Decide(bg, req); !d.Allow {
			t.Fatal(d.Reason)
		}
	}
	m := e.Metrics().Snapshot()
	if m.CacheHits != 2 || m.CacheMisses != 1 || m.Decisions["allow"] != 3 || m.LatencyBuckets[len(m.LatencyBuckets)-1] != 3 {
		t.Fatalf("metrics: %+v", m)
	}
	// cache_ttl is 1m: after it the token is verified again.
	clk.Advance(61 * time.Second)
	e.Decide(bg, req)
	if m := e.Metrics().Snapshot(); m.CacheMisses != 2 {
		t.Fatalf("entry outlived cache_ttl: %+v", m)
	}
	// Never past exp: 90 s + leeway 10 s after minting, a cached entry would still be "valid"
	// by cache_ttl, but the token has expired.
	clk.Advance(40 * time.Second)
	if d := e.Decide(bg, req); d.Allow || d.Status != 401 || !strings.Contains(d.Reason, "expired") {
		t.Fatalf("expired token served from cache: %+v", d)
	}
}

func TestDecisionCacheBounded(t *testing.T) {
	clk := &clock{t: testNow}
	e := decideEngine(t, clk)
	e.cache = newResultCache(3)
	for i := range 10 {
		tok := mint(t, jose.ES256, withClaims(func(c map[string]any) { c["jti"] = string(rune('a' + i)) }), nil)
		if d := e.Decide(bg, Request{Method: "GET", Path: "/x", Token: tok}); !d.Allow {
			t.Fatal(d.Reason)
		}
	}
	if n := e.cacheLen(); n != 3 {
		t.Fatalf("cache holds %d entries, bound 3", n)
	}
}

func TestExtractToken(t *testing.T) {
	p := &policy.Policy{TokenHeader: "Cf-Access-Jwt-Assertion"}
	for _, tc := range []struct {
		h    http.Header
		want string
	}{
		{http.Header{"Authorization": {"Bearer abc.def.ghi"}}, "abc.def.ghi"},
		{http.Header{"Authorization": {"bearer abc"}}, "abc"},
		{http.Header{"Authorization": {"BEARER   abc"}}, "abc"},
		{http.Header{"Authorization": {"Basic abc"}}, ""},
		{http.Header{"Authorization": {"Bearer"}}, ""},
		{http.Header{"Authorization": {"Bearer a b"}}, ""},
		{http.Header{"Authorization": {"Bearer a\"b"}}, ""},
		{http.Header{"Authorization": {"Bearer a", "Bearer b"}}, ""},
		{http.Header{"Cf-Access-Jwt-Assertion": {"tok"}}, "tok"},
		{http.Header{"Cf-Access-Jwt-Assertion": {"a", "b"}}, ""},
		{http.Header{"Authorization": {"Basic x"}, "Cf-Access-Jwt-Assertion": {"tok"}}, ""},
		{http.Header{}, ""},
	} {
		got, ok := ExtractToken(tc.h, p)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%v: got %q %v", tc.h, got, ok)
		}
	}
}

// TestDecideConcurrent: many goroutines deciding with a small cache (evictions on every put)
// get consistent answers; run with -race.
func TestDecideConcurrent(t *testing.T) {
	clk := &clock{t: testNow}
	e := decideEngine(t, clk)
	e.cache = newResultCache(4)
	toks := make([]string, 8)
	for i := range toks {
		toks[i] = roleToken(t, []string{"admin"}, "api:read")
	}
	done := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 100 {
				d := e.Decide(bg, Request{Method: "GET", Path: "/api/x", Token: toks[(g+i)%len(toks)]})
				if !d.Allow || d.SetHeaders["X-Auth-User"] != "user-1" {
					done <- errors.New(d.Reason)
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if m := e.Metrics().Snapshot(); m.Decisions["allow"] != 800 || e.cacheLen() > 4 {
		t.Fatalf("metrics %+v, cache %d", m, e.cacheLen())
	}
}
