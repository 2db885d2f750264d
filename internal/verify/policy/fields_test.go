package policy

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestPolicyReferenceNamesEveryField: each field is named once, by its yaml tag, and that name is
// what ParsePolicy reads and what docs/policy.md documents. A new exported field of Policy or
// Rule must carry a tag (or yaml:"-" when no file sets it), and the reference must have its row.
func TestPolicyReferenceNamesEveryField(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []reflect.Type{reflect.TypeOf(Policy{}), reflect.TypeOf(Rule{})} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			switch {
			case !f.IsExported() || key == "-":
			case key == "":
				t.Errorf("%s.%s has no yaml tag: name its policy key once, on the struct", typ.Name(), f.Name)
			case !strings.Contains(string(doc), "| `"+key+"` |"):
				t.Errorf("docs/policy.md has no row for %s.%s (`%s`)", typ.Name(), f.Name, key)
			}
		}
	}
}

// TestEveryPolicyKeyLoads: a file that sets every key loads, each into its own field, so no
// tagged field lacks a decoder (decodeValue panics on a type it cannot read).
func TestEveryPolicyKeyLoads(t *testing.T) {
	p, err := ParsePolicy([]byte(`issuer: https://i.example.com
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
	want := Policy{Issuer: "https://i.example.com", Audience: []string{"a"}, JWKSURI: "https://i.example.com/keys",
		Algorithms: nil, TokenTypes: []string{"at+jwt"}, Leeway: 10e9, RolesClaim: "groups", CacheTTL: 60e9,
		CacheSize: 7, TokenHeader: "X-Token", RequestIDHeader: "X-Trace", MaxTokenBytes: 9000,
		Default: AccessAuthenticated, Forward: []Forward{{Header: "X-User", Claim: "sub"}},
		AllowPathParameters: true, KeepMethodOverride: true, DPoP: DPoPRequired, DPoPProofLifetime: 120e9,
		DPoPNonce: true, DPoPReplayCacheSize: 11}
	want.Algorithms = append(want.Algorithms, "ES256")
	got := *p
	r := got.Rules[0]
	got.Rules = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded\n%+v\nwant\n%+v", got, want)
	}
	if r.Name != "n" || r.Path != "/a" || !reflect.DeepEqual(r.Methods, []string{"GET"}) || r.Allow != AccessAuthenticated ||
		!reflect.DeepEqual(r.Roles, []string{"r"}) || !reflect.DeepEqual(r.Scopes, []string{"s"}) || r.Line != 22 {
		t.Errorf("rule loaded as %+v", r)
	}
}
