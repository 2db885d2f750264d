package bridge

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/verify/policy"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

const fullPolicy = `issuer: https://issuer.example/as
audience: [https://api.example.com, "api \"two\""]
jwks_uri: https://issuer.example/keys
algorithms: [RS256, ES256]
token_types: [at+jwt, JWT]
leeway: 45s
roles_claim: realm_access.roles
cache_ttl: 2m
cache_size: 500
max_token_bytes: 9000
token_header: Cf-Access-Jwt-Assertion
request_id_header: X-Trace-Id
rules:
  - path: /healthz
    allow: anyone
  - name: admin area
    path: /admin/**
    methods: [GET, POST]
    roles: [admin]
  - path: /api/*/items
    roles: [engineer, admin]
    scopes: [api:read, "api:wr\nite"]
default: authenticated
path_parameters: allow
method_override: keep
dpop: required
dpop_proof_lifetime: 90s
dpop_nonce: on
dpop_replay_cache_size: 5000
forward:
  X-Auth-User: sub
  X-Auth-Groups: groups
`

// TestPolicyRoundTrip: the precompiled policy decodes to the policy policyfile.Parse built, field
// for field (compared through the exported fields, which are what the engine reads).
func TestPolicyRoundTrip(t *testing.T) {
	for _, src := range []string{fullPolicy, "issuer: https://i.example\naudience: a\n"} {
		want, err := policyfile.Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		enc := EncodePolicy(want)
		got, err := DecodePolicy(enc)
		if err != nil {
			t.Fatalf("decode:\n%s\n%v", enc, err)
		}
		if !reflect.DeepEqual(exported(got), exported(want)) {
			t.Errorf("decoded %+v\nparsed  %+v", exported(got), exported(want))
		}
		if again := EncodePolicy(got); again != enc {
			t.Errorf("re-encoded differently:\n%s\n%s", again, enc)
		}
	}
}

// TestPolicyCodecCoversEveryField fails when policy.Policy, Rule or Forward gains an exported
// field the codec does not carry: the Worker would otherwise enforce a different policy than
// the gateway without anyone noticing.
func TestPolicyCodecCoversEveryField(t *testing.T) {
	known := map[string][]string{
		"Policy": {"Issuer", "Audience", "JWKSURI", "Algorithms", "TokenTypes", "Leeway", "RolesClaim", "CacheTTL", "CacheSize", "TokenHeader", "RequestIDHeader", "MaxTokenBytes", "Rules", "Default", "Forward",
			"AllowPathParameters", "KeepMethodOverride", "DPoP", "DPoPProofLifetime", "DPoPNonce", "DPoPReplayCacheSize"},
		"Rule":    {"Name", "Path", "Methods", "Allow", "Roles", "Scopes", "Line"},
		"Forward": {"Header", "Claim"},
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[policy.Policy](), reflect.TypeFor[policy.Rule](), reflect.TypeFor[policy.Forward]()} {
		for f := range typ.Fields() {
			if f.IsExported() && !slices.Contains(known[typ.Name()], f.Name) {
				t.Errorf("verify.%s.%s is not carried by EncodePolicy/DecodePolicy", typ.Name(), f.Name)
			}
		}
	}
}

func TestDecodePolicyRefuses(t *testing.T) {
	for _, in := range []string{"issuer: x\n", PolicyMagic + "\nissuer \"a\" \"b\"\n", PolicyMagic + "\nroles \"x\"\n",
		PolicyMagic + "\nmystery \"x\"\n", PolicyMagic + "\nleeway ten\n", PolicyMagic + "\nissuer \"unterminated\n",
		PolicyMagic + "\nissuer \"\"\n"} {
		if _, err := DecodePolicy(in); err == nil {
			t.Errorf("%q decoded", in)
		} else if strings.Contains(err.Error(), "panic") {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// exported copies the fields the engine reads, leaving out the line map kept for messages.
func exported(p *policy.Policy) policy.Policy {
	c := *p
	c.Rules = nil
	for _, r := range p.Rules {
		c.Rules = append(c.Rules, policy.Rule{Name: r.Name, Path: r.Path, Methods: r.Methods, Allow: r.Allow,
			Roles: r.Roles, Scopes: r.Scopes, Line: r.Line})
	}
	return c
}

// FuzzDecodePolicy: any input either fails with an error or decodes to a policy that encodes
// and decodes to itself; nothing panics.
func FuzzDecodePolicy(f *testing.F) {
	p, err := policyfile.Parse([]byte(fullPolicy))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(EncodePolicy(p))
	f.Add(PolicyMagic + "\nissuer \"https://i\"\naudience \"a\"\nrule \"r\" \"/x\" \"\" \"0\"\nroles \"a\" \"b\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := DecodePolicy(in)
		if err != nil {
			return
		}
		enc := EncodePolicy(p)
		q, err := DecodePolicy(enc)
		if err != nil {
			t.Fatalf("re-decode of %q: %v", enc, err)
		}
		if again := EncodePolicy(q); again != enc {
			t.Fatalf("unstable:\n%s\n%s", enc, again)
		}
	})
}
