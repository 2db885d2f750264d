package verify

import (
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

// TestPathParameters is issue 10 finding 4: servlet origins (Tomcat, Jetty, Spring) drop ";…"
// from a segment and read "..;" as "..", so under default: authenticated an engineer would
// reach /admin/users as /admin;x/users, and /api/..;/admin/x would pass the /api/** rule. By
// default every ';' is a 400; with path_parameters: allow the rules match the segment's name
// and the origin gets the parameters; "..;" and friends are refused either way.
func TestPathParameters(t *testing.T) {
	eng := roleToken(t, []string{"engineer"}, "api:read")
	for _, allow := range []bool{false, true} {
		clk := &clock{t: testNow}
		e := paramsEngine(t, clk, allow)
		for _, tc := range []struct {
			path          string
			strict, param int    // status without and with path_parameters: allow
			rule          string // the rule that decides with allow ("" for a 400)
		}{
			{"/admin;x/users", 400, 403, "rules[1] /admin/**"},
			{"/admin;jsessionid=1/users", 400, 403, "rules[1] /admin/**"},
			{"/other/users;x", 400, 200, "default"},
			// Allowed, %3B is data (servlet containers split on the raw ';' only).
			{"/admin%3bx/users", 400, 200, "default"},
			{"/admin%3Bx/users", 400, 200, "default"},
			{"/api/..;/admin/x", 400, 400, ""},
			{"/api/..;x=1/admin/x", 400, 400, ""},
			{"/api/%2e%2e;/admin/x", 400, 400, ""},
			{"/api/.%2E;/admin/x", 400, 400, ""},
			{"/api/.;/x", 400, 400, ""},
			{"/;/admin/x", 400, 400, ""},
			{"/api/items;v=2", 400, 200, "api"},
			{"/api/items", 200, 200, "api"},
		} {
			want := tc.strict
			if allow {
				want = tc.param
			}
			d := e.Decide(bg, Request{Method: "GET", Path: tc.path, Token: eng})
			if d.Status != want {
				t.Errorf("allow=%v %s: status %d (%s), want %d", allow, tc.path, d.Status, d.Reason, want)
				continue
			}
			if want == 400 && !strings.Contains(d.Reason, ";") && !strings.Contains(d.Reason, "%3B") {
				t.Errorf("allow=%v %s: reason %q does not name the parameter", allow, tc.path, d.Reason)
			}
			if allow && want != 400 && tc.rule != "" && d.Rule != tc.rule {
				t.Errorf("allow=%v %s: decided by %q, want %q", allow, tc.path, d.Rule, tc.rule)
			}
		}
	}
}

func paramsEngine(t *testing.T, clk *clock, allow bool) *Engine {
	t.Helper()
	yaml := strings.Replace(samplePolicy, "https://auth.pingone.com/env-1/as", testIssuer, 1)
	if allow {
		yaml += "path_parameters: allow\n"
	}
	p, err := policyfile.Parse([]byte(yaml))
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

// TestPathParametersPolicyField: the switch is spelled out, and a typo is an error.
func TestPathParametersPolicyField(t *testing.T) {
	base := strings.Replace(samplePolicy, "https://auth.pingone.com/env-1/as", testIssuer, 1)
	for in, want := range map[string]bool{"": false, "path_parameters: refuse\n": false, "path_parameters: allow\n": true} {
		p, err := policyfile.Parse([]byte(base + in))
		if err != nil || p.AllowPathParameters != want {
			t.Errorf("%q: allow %v err %v", in, p != nil && p.AllowPathParameters, err)
		}
	}
	if _, err := policyfile.Parse([]byte(base + "path_parameters: yes\n")); err == nil || !strings.Contains(err.Error(), "use refuse or allow") {
		t.Errorf("path_parameters: yes: %v", err)
	}
	if _, err := policyfile.Parse([]byte(base + "method_override: yes\n")); err == nil || !strings.Contains(err.Error(), "use strip or keep") {
		t.Errorf("method_override: yes: %v", err)
	}
}

// TestMethodOverrideStripped is finding 7: the policy decided on the request line's method,
// so the override headers go to the strip list unless method_override: keep.
func TestMethodOverrideStripped(t *testing.T) {
	base := strings.Replace(samplePolicy, "https://auth.pingone.com/env-1/as", testIssuer, 1)
	for _, keep := range []bool{false, true} {
		yaml := base
		if keep {
			yaml += "method_override: keep\n"
		}
		p, err := policyfile.Parse([]byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		strip := strings.Join(p.StripHeaders(), ",")
		for _, h := range []string{"X-Http-Method-Override", "X-Method-Override", "X-Http-Method"} {
			if strings.Contains(strip, h) == keep {
				t.Errorf("keep=%v: strip list %s", keep, strip)
			}
		}
	}
}
