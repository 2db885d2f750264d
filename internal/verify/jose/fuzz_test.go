package jose

import (
	"crypto/rsa"
	"encoding/json"
	"testing"
)

// FuzzStrictJSON: whatever ParseObject accepts, encoding/json agrees is valid JSON.
func FuzzStrictJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"\u0061":1,"a":2}`, `{"a":{"b":[1,2,{"c":null}]}}`,
		`{"a":"\ud800"}`, `{"a":1e400}`, `{"a":-0.5E+3}`, `{"a":01}`, "{\"a\":\"\xff\"}", `{"a":[}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		members, err := ParseObject(data)
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

// FuzzParseJWKS: no panic, and every key returned respects the limits.
func FuzzParseJWKS(f *testing.F) {
	s := testSigners(f)
	f.Add(jwksOf(jwkOf("rsa-1", s[RS256].priv.Public(), ""), jwkOf("ec-1", s[ES256].priv.Public(), ""), jwkOf("ed-1", s[EdDSA].priv.Public(), "")))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"oct","k":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseJWKS(data)
		if err != nil {
			return
		}
		for _, k := range keys {
			if len(k.ID) > MaxKidBytes {
				t.Fatalf("kid too long")
			}
			if rk, ok := k.Public.(*rsa.PublicKey); ok && (rk.N.BitLen() < MinRSABits || rk.N.BitLen() > MaxRSABits) {
				t.Fatalf("RSA key of %d bits accepted", rk.N.BitLen())
			}
		}
	})
}
