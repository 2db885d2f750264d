package policyfile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify/policy"
)

// samplePolicy is the decision tests' policy file (internal/verify/testdata), parsed here field
// by field.
var samplePolicy = func() string {
	b, err := os.ReadFile("../testdata/sample_policy.yaml")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

func TestParse(t *testing.T) {
	p, err := Parse([]byte(samplePolicy))
	if err != nil {
		t.Fatal(err)
	}
	if p.Issuer != "https://auth.pingone.com/env-1/as" || len(p.Audience) != 2 || p.Leeway != 10*time.Second ||
		p.CacheTTL != time.Minute || p.Default != policy.AccessAuthenticated || len(p.Rules) != 3 ||
		p.Rules[1].Roles[0] != "admin" || p.Rules[2].Name != "api" || p.Rules[0].Allow != policy.AccessAnyone ||
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
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
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
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %q", tc.yaml, err, tc.want)
		}
	}
}

// TestEveryPolicyKeyLoads: a file that sets every key loads, each into its own field, so no
// tagged field lacks a decoder (decodeValue panics on a type it cannot read).
func TestEveryPolicyKeyLoads(t *testing.T) {
	p, err := Parse([]byte(`issuer: https://i.example.com
audience: a
jwks_uri: https://i.example.com/keys
algorithms: [ES256]
token_types: [at+jwt]
leeway: 10s
roles_claim: groups
cache_ttl: 1m
cache_size: 7
token_header: X-Token
request_id_header: X-Trace
max_token_bytes: 9000
default: authenticated
forward: {X-User: sub}
path_parameters: allow
method_override: keep
dpop: required
dpop_proof_lifetime: 2m
dpop_nonce: "on"
dpop_replay_cache_size: 11
rules:
  - {name: n, path: /a, methods: [GET], allow: authenticated, roles: [r], scopes: [s]}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Policy{Issuer: "https://i.example.com", Audience: []string{"a"}, JWKSURI: "https://i.example.com/keys",
		Algorithms: nil, TokenTypes: []string{"at+jwt"}, Leeway: 10e9, RolesClaim: "groups", CacheTTL: 60e9,
		CacheSize: 7, TokenHeader: "X-Token", RequestIDHeader: "X-Trace", MaxTokenBytes: 9000,
		Default: policy.AccessAuthenticated, Forward: []policy.Forward{{Header: "X-User", Claim: "sub"}},
		AllowPathParameters: true, KeepMethodOverride: true, DPoP: policy.DPoPRequired, DPoPProofLifetime: 120e9,
		DPoPNonce: true, DPoPReplayCacheSize: 11}
	want.Algorithms = append(want.Algorithms, "ES256")
	got := *p
	r := got.Rules[0]
	got.Rules = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded\n%+v\nwant\n%+v", got, want)
	}
	if r.Name != "n" || r.Path != "/a" || !reflect.DeepEqual(r.Methods, []string{"GET"}) || r.Allow != policy.AccessAuthenticated ||
		!reflect.DeepEqual(r.Roles, []string{"r"}) || !reflect.DeepEqual(r.Scopes, []string{"s"}) || r.Line != 22 {
		t.Errorf("rule loaded as %+v", r)
	}
}

// FuzzParse: a policy file never panics the parser, and whatever loads is valid.
func FuzzParse(f *testing.F) {
	f.Add([]byte(samplePolicy))
	f.Add([]byte("issuer: https://i.example.com\naudience: [a, b]\nrules:\n  - path: /a/**\n    methods: [GET]\n"))
	f.Add([]byte("issuer: &a https://x\naudience: *a\n"))
	f.Add([]byte("{issuer: 1, audience: {x: y}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		if p.Issuer == "" || len(p.Audience) == 0 || (p.Default != policy.AccessDeny && p.Default != policy.AccessAuthenticated) {
			t.Fatalf("invalid policy loaded: %+v", p)
		}
		_, _ = p.Match("GET", "/a/b")
	})
}
