package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const samplePolicy = `issuer: https://auth.pingone.com/env-1/as
audience: [https://api.example.com, https://other.example.com]
algorithms: [RS256, ES256]
leeway: 10s
roles_claim: pi.roles
cache_ttl: 1m
token_header: Cf-Access-Jwt-Assertion
rules:
  - path: /healthz
    allow: anyone
  - path: /admin/**
    methods: [GET, POST, DELETE]
    roles: [admin]
  - name: api
    path: /api/**
    roles: [engineer, admin]
    scopes: [api:read]
default: authenticated
forward:
  X-Auth-User: sub
  x-auth-roles: pi.roles
`

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy([]byte(samplePolicy))
	if err != nil {
		t.Fatal(err)
	}
	if p.Issuer != "https://auth.pingone.com/env-1/as" || len(p.Audience) != 2 || p.Leeway != 10*time.Second ||
		p.CacheTTL != time.Minute || p.Default != AccessAuthenticated || len(p.Rules) != 3 ||
		p.Rules[1].Roles[0] != "admin" || p.Rules[2].Name != "api" || p.Rules[0].Allow != AccessAnyone ||
		p.Forward[1].Header != "X-Auth-Roles" || p.Forward[1].Claim != "pi.roles" || p.Rules[1].Line != 11 {
		t.Fatalf("policy not read as written: %+v", p)
	}
	if got := p.StripHeaders(); strings.Join(got, ",") != "Authorization,Cf-Access-Jwt-Assertion,X-Auth-User,X-Auth-Roles,X-Http-Method-Override,X-Method-Override,X-Http-Method,X-Original-Url,X-Rewrite-Url" {
		t.Fatalf("strip list: %v", got)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(samplePolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPolicyFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPolicyFile(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("missing file must fail")
	}
}

// TestPolicyErrorsNameLineAndField: every mistake points at the line and the field.
func TestPolicyErrorsNameLineAndField(t *testing.T) {
	base := "issuer: https://i.example.com\naudience: api\n"
	for _, tc := range []struct{ yaml, want string }{
		{"audience: api\n", "issuer: required"},
		{"issuer: not a url\naudience: api\n", "policy line 1: issuer: \"not a url\" is not an absolute URL"},
		{"issuer: https://i.example.com\n", "audience: required"},
		{base + "rules:\n  - path: /a\n    methods: [FETCH]\n", "policy line 5: rules[0].methods[0]: unknown method \"FETCH\""},
		{base + "rules:\n  - path: /a\n    role: [admin]\n", "policy line 5: rules[0].role: unknown field"},
		{base + "rules:\n  - methods: [GET]\n", "policy line 4: rules[0].path: required"},
		{base + "rules:\n  - path: /ok\n  - path: /b\n    methods:\n      - GET\n      - BREW\n", "policy line 8: rules[1].methods[1]: unknown method \"BREW\""},
		{base + "rules:\n  - path: a/b\n", "policy line 4: rules[0].path: must start with /"},
		{base + "rules:\n  - path: /a/**/b\n", "rules[0].path: ** may only be the last segment"},
		{base + "rules:\n  - path: /a%2Fb\n", "rules[0].path: must be a plain path"},
		{base + "rules:\n  - path: /a*\n", "* must be a whole segment"},
		{base + "rules:\n  - path: /a\n    allow: anyone\n    roles: [x]\n", "policy line 5: rules[0].allow: anyone cannot be combined"},
		{base + "rules:\n  - path: /a\n    allow: maybe\n", "policy line 5: rules[0].allow: \"maybe\""},
		{base + "leeway: soon\n", "policy line 3: leeway: \"soon\" is not a duration"},
		{base + "leeway: 1h\n", "policy line 3: leeway: at most 5m0s"},
		{base + "default: anyone\n", "policy line 3: default: \"anyone\": use deny or authenticated"},
		{base + "algorithms: [HS256]\n", "policy line 3: algorithms[0]: algorithm not allowed"},
		{base + "algorithms: [none]\n", "algorithms[0]"},
		{base + "forward:\n  Authorization: sub\n", "forward[0]: Authorization cannot carry identity"},
		{base + "forward:\n  \"X Bad\": sub\n", "policy line 4: forward.X Bad: not a valid header name"},
		{base + "issuer: https://again.example.com\n", "policy line 3: issuer: appears twice"},
		{base + "bogus: 1\n", "policy line 3: bogus: unknown field"},
		{base + "jwks_uri: /etc/jwks.json\n", "policy line 3: jwks_uri: \"/etc/jwks.json\" is not an absolute URL"},
		{"issuer: http://example.com\naudience: api\n", "policy line 1: issuer: \"http://example.com\" must use https (plain http is accepted only on a loopback host"},
		{base + "jwks_uri: http://keys.example.com/jwks\n", "policy line 3: jwks_uri: \"http://keys.example.com/jwks\" must use https (plain http"},
		{base + "audience: {a: b}\n", "audience"},
		{"- just\n- a list\n", "must be a mapping"},
		{base + "rules: {path: /a}\n", "policy line 3: rules: must be a list"},
		{"issuer: [\n", "policy is not valid YAML: line 1:"},
	} {
		_, err := ParsePolicy([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %q", tc.yaml, err, tc.want)
		}
	}
}

// TestNormalizePath is the normalisation table: encoded slashes and backslashes are never
// plain characters, dot segments and repeated slashes are resolved.
func TestNormalizePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/api/users", "/api/users"},
		{"/api/users?x=1", "/api/users"},
		{"/api//users", "/api/users"},
		{"//api///users//", "/api/users/"},
		{"/api/./users", "/api/users"},
		{"/api/x/../users", "/api/users"},
		{"/../../admin", "/admin"},
		{"/public/../admin/", "/admin/"},
		{"/api/%2e%2e/admin", "/admin"},
		{"/api/%2E%2E%2Fadmin", "ERR"},
		{"/api/.%2e/admin", "/admin"},
		{"/%61dmin", "/admin"},
		{"/a%7eb", "/a~b"},
		{"/a%2fb", "ERR"},
		{"/a%2Fb", "ERR"},
		{"/a%5cb", "ERR"},
		{"/a%5Cb", "ERR"},
		{"/a\\b", "ERR"},
		{"/a%00b", "ERR"},
		{"/a%0ab", "ERR"},
		{"/a%zzb", "ERR"},
		{"/a%4", "ERR"},
		{"/caf%c3%a9", "/caf%C3%A9"},
		{"/a%20b", "/a%20b"},
		{"/a/.", "/a/"},
		{"/a/..", "/"},
		{"relative", "ERR"},
		{"", "ERR"},
		{"*", "ERR"},
		{"http://evil/admin", "ERR"},
		{"/admin;x/users", "ERR"},
		{"/api/..;/admin", "ERR"},
		{"/a%3bb", "ERR"},
	} {
		got, err := NormalizePath(tc.in)
		if err != nil {
			if !errors.Is(err, ErrPath) {
				t.Errorf("%q: error not ErrPath: %v", tc.in, err)
			}
			got = "ERR"
		}
		if got != tc.want {
			t.Errorf("NormalizePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMatchPath(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"/healthz", "/healthz", true},
		{"/healthz", "/healthz/", true},
		{"/healthz", "/healthz/x", false},
		{"/healthz", "/healthzz", false},
		{"/api/**", "/api", true},
		{"/api/**", "/api/", true},
		{"/api/**", "/api/a/b/c", true},
		{"/api/**", "/apix", false},
		{"/api/*/items", "/api/1/items", true},
		{"/api/*/items", "/api/items", false},
		{"/api/*/items", "/api/1/2/items", false},
		{"/api/*", "/api/1", true},
		{"/api/*", "/api", false},
		{"/**", "/anything/at/all", true},
		{"/", "/", true},
		{"/", "/a", false},
		{"/a~b", "/a~b", true},
		{"/%61dmin", "/admin", true},
	} {
		pat, err := compilePattern(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		path, err := NormalizePath(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := matchPath(pat, path); got != tc.want {
			t.Errorf("match(%q, %q) = %v", tc.pattern, tc.path, got)
		}
	}
}
