package demo

import "fmt"

// Policy is the demo's edge policy: /healthz is public, /api needs the engineer or admin role,
// /admin needs admin, everything else is denied. It is the policy format of docs/policy.md.
func Policy(issuer, audience string) string {
	return fmt.Sprintf(`# pingedge demo policy
issuer: %s
audience: %s
leeway: 30s
roles_claim: roles
cache_ttl: 1m
rules:
  - path: /healthz
    allow: anyone
  - path: /admin/**
    roles: [admin]
  - path: /api/**
    roles: [engineer, admin]
default: deny
forward:
  X-Auth-User: sub
  X-Auth-Email: email
  X-Auth-Roles: roles
`, issuer, audience)
}
