package verify

import (
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// FuzzVerify: the parser and verifier never panic, and nothing but the exact seed tokens ever
// verifies (a mutation that still verifies would be a malleability or parsing bug).
func FuzzVerify(f *testing.F) {
	e := newTestEngine(f, testPolicy())
	valid := map[string]bool{}
	for _, alg := range jose.SupportedAlgorithms {
		tok := mint(f, alg, goodClaims(), nil)
		valid[tok] = true
		f.Add(tok)
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", `{"payload":""}`,
		"eyJhbGciOiJSUzI1NiIsImFsZyI6Ik5vbmUifQ.e30.c2ln", strings.Repeat("A.", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := e.Verify(bg, token)
		if err == nil && !valid[token] {
			t.Fatalf("a token that was never signed verified: %q (%+v)", token, c)
		}
		if err != nil && len(err.Error()) > 400 {
			t.Fatalf("error too long (%d bytes)", len(err.Error()))
		}
		_, _ = jose.ParseUnverified(token, 0)
	})
}

// FuzzStrictJSON: whatever parseObject accepts, encoding/json agrees is valid JSON.
func FuzzStrictJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"\u0061":1,"a":2}`, `{"a":{"b":[1,2,{"c":null}]}}`,
		`{"a":"\ud800"}`, `{"a":1e400}`, `{"a":-0.5E+3}`, `{"a":01}`, "{\"a\":\"\xff\"}", `{"a":[}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		members, err := jose.ParseObject(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		seen := map[string]bool{}
		for _, m := range members {
			if seen[m.Name] {
				t.Fatalf("duplicate %q accepted", m.Name)
			}
			seen[m.Name] = true
		}
	})
}

// FuzzNormalizePath: the output is normal (idempotent, no empty/dot segments, no encoded
// slash or backslash) and matching never panics.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "//a//b/", "/a%2Fb", "/%2e%2e/x", "/a/./b/.", "/a%5c", "/a?b=/..", "/%zz", "/caf%c3%a9", "/a;b/..;/c", "/%2e%2e;x"} {
		f.Add(s)
	}
	pats := [][]string{}
	for _, p := range []string{"/", "/a/**", "/a/*/c", "/**", "/admin"} {
		c, _ := compilePattern(p)
		pats = append(pats, c)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := NormalizePath(raw)
		if err != nil {
			return
		}
		again, err := NormalizePath(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", raw, out, again, err)
		}
		up := strings.ToUpper(out)
		if !strings.HasPrefix(out, "/") || strings.Contains(out, "//") || strings.Contains(out, "/./") ||
			strings.Contains(out, "/../") || strings.HasSuffix(out, "/..") || strings.HasSuffix(out, "/.") ||
			strings.Contains(up, "%2F") || strings.Contains(up, "%5C") || strings.Contains(out, "\\") {
			t.Fatalf("not normal: %q -> %q", raw, out)
		}
		for _, p := range pats {
			_ = matchPath(p, out)
		}
		if strings.Contains(out, ";") {
			t.Fatalf("a path parameter survived: %q -> %q", raw, out)
		}
		fuzzParams(t, raw)
	})
}

// fuzzParams: with path_parameters: allow the output is idempotent too, and no segment is a
// dot segment or empty once its parameters are dropped (what a servlet origin resolves).
func fuzzParams(t *testing.T, raw string) {
	out, err := normalizePath(raw, true)
	if err != nil {
		return
	}
	if again, err := normalizePath(out, true); err != nil || again != out {
		t.Fatalf("params: not idempotent: %q -> %q -> %q (%v)", raw, out, again, err)
	}
	for seg := range strings.SplitSeq(out[1:], "/") {
		if name, _, ok := strings.Cut(seg, ";"); ok && (name == "" || name == "." || name == "..") {
			t.Fatalf("params: %q -> %q keeps segment %q", raw, out, seg)
		}
	}
}

// FuzzParseJWKS: no panic, and every key returned respects the limits.
func FuzzParseJWKS(f *testing.F) {
	f.Add(testJWKS(f))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"oct","k":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := jose.ParseJWKS(data)
		if err != nil {
			return
		}
		for _, k := range keys {
			if len(k.ID) > jose.MaxKidBytes {
				t.Fatalf("kid too long")
			}
			if rk, ok := k.Public.(*rsa.PublicKey); ok && (rk.N.BitLen() < jose.MinRSABits || rk.N.BitLen() > jose.MaxRSABits) {
				t.Fatalf("RSA key of %d bits accepted", rk.N.BitLen())
			}
		}
	})
}

// FuzzParsePolicy: a policy file never panics the parser, and whatever loads is valid.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(samplePolicy))
	f.Add([]byte("issuer: https://i.example.com\naudience: [a, b]\nrules:\n  - path: /a/**\n    methods: [GET]\n"))
	f.Add([]byte("issuer: &a https://x\naudience: *a\n"))
	f.Add([]byte("{issuer: 1, audience: {x: y}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			return
		}
		if p.Issuer == "" || len(p.Audience) == 0 || (p.Default != AccessDeny && p.Default != AccessAuthenticated) {
			t.Fatalf("invalid policy loaded: %+v", p)
		}
		for _, r := range p.Rules {
			_ = matchPath(r.pattern, "/a/b")
		}
	})
}
