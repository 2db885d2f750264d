package verify

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policy"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

// A policy that names roles but no roles_claim reads them from "roles": an unset claim path
// used to make every role rule deny, which `pingedge verify` showed as "missing a required role".
func TestRolesClaimDefaultsToRoles(t *testing.T) {
	p, err := policyfile.Parse([]byte(fmt.Sprintf(`
issuer: %s
audience: %s
rules:
  - path: /api/**
    roles: [engineer]
  - path: /admin/**
    roles: [admin]
`, testIssuer, testAudience)))
	if err != nil {
		t.Fatal(err)
	}
	if p.RolesClaim != policy.DefaultRolesClaim {
		t.Fatalf("roles_claim = %q, want %q", p.RolesClaim, policy.DefaultRolesClaim)
	}
	e := newTestEngine(t, p)
	tok := mint(t, jose.RS256, goodClaims(), nil)
	if d := e.Decide(bg, Request{Method: "GET", Path: "/api/x", Token: tok}); !d.Allow {
		t.Fatalf("engineer on /api: %+v", d)
	}
	if d := e.Decide(bg, Request{Method: "GET", Path: "/admin/x", Token: tok}); d.Allow || d.Status != 403 {
		t.Fatalf("engineer on /admin: %+v", d)
	}
}

func TestRequestIDHeaderValidatedAndCanonical(t *testing.T) {
	base := fmt.Sprintf("issuer: %s\naudience: %s\n", testIssuer, testAudience)
	p, err := policyfile.Parse([]byte(base + "request_id_header: x-correlation-id\n"))
	if err != nil || p.RequestIDHeader != "X-Correlation-Id" {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := policyfile.Parse([]byte(base + "request_id_header: \"bad header\"\n")); err == nil || !strings.Contains(err.Error(), "request_id_header") {
		t.Fatalf("invalid header name accepted: %v", err)
	}
}
