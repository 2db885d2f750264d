package jose

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestParseJWKS: the key-set rules, each refused or skipped for its reason.
func TestParseJWKS(t *testing.T) {
	s := testSigners(t)
	ec := jwkOf("ec", s[ES256].priv.Public(), "")
	rsaKey := jwkOf("rsa", s[RS256].priv.Public(), "")
	ed := jwkOf("ed", s[EdDSA].priv.Public(), "")
	with := func(base map[string]any, kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name string
		keys []map[string]any
		want int    // keys kept
		err  string // or the error
	}{
		{"all three types", []map[string]any{ec, rsaKey, ed}, 3, ""},
		{"use enc skipped", []map[string]any{ec, with(rsaKey, "use", "enc")}, 1, ""},
		{"key_ops without verify skipped", []map[string]any{ec, with(rsaKey, "key_ops", []string{"encrypt"})}, 1, ""},
		{"key_ops with verify kept", []map[string]any{with(rsaKey, "key_ops", []string{"verify"})}, 1, ""},
		{"HS256 alg skipped", []map[string]any{ec, with(rsaKey, "alg", "HS256")}, 1, ""},
		{"P-521 skipped", []map[string]any{ec, with(ec, "kid", "p521", "crv", "P-521")}, 1, ""},
		{"oct without k skipped", []map[string]any{ec, {"kty": "oct", "kid": "o"}}, 1, ""},
		{"only unusable keys", []map[string]any{with(rsaKey, "use", "enc")}, 0, "no signature verification key"},
		{"private RSA member", []map[string]any{with(rsaKey, "d", "AQAB")}, 0, "private key material"},
		{"symmetric secret", []map[string]any{ec, {"kty": "oct", "kid": "o", "k": "c2VjcmV0"}}, 0, "private key material"},
		{"duplicate kid", []map[string]any{ec, with(ed, "kid", "ec")}, 0, "appears twice"},
		{"even exponent", []map[string]any{with(rsaKey, "e", enc([]byte{1, 0, 0}))}, 0, "exponent"},
		{"padded modulus", []map[string]any{with(rsaKey, "n", "AA"+rsaKey["n"].(string))}, 0, "leading zeros"},
		{"EC x too short", []map[string]any{with(ec, "x", enc(make([]byte, 31)))}, 0, "32-byte"},
		{"Ed25519 x too long", []map[string]any{with(ed, "x", enc(make([]byte, 33)))}, 0, "32-byte"},
		{"kid too long", []map[string]any{with(ec, "kid", strings.Repeat("k", 300))}, 0, "kid longer"},
		{"kid not a string", []map[string]any{with(ec, "kid", 5)}, 0, "kid is not a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParseJWKS(jwksOf(tc.keys...))
			if tc.err != "" {
				if !errors.Is(err, ErrJWKS) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("want %q, got %v", tc.err, err)
				}
				return
			}
			if err != nil || len(keys) != tc.want {
				t.Fatalf("got %d keys, %v", len(keys), err)
			}
		})
	}
	if _, err := ParseJWKS([]byte(`{"keys":{}}`)); !errors.Is(err, ErrJWKS) {
		t.Fatalf("keys not an array: %v", err)
	}
	many := make([]map[string]any, 101)
	for i := range many {
		many[i] = with(ec, "kid", fmt.Sprint(i))
	}
	if _, err := ParseJWKS(jwksOf(many...)); err == nil || !strings.Contains(err.Error(), "limit 100") {
		t.Fatalf("101 keys: %v", err)
	}
}

// TestStrictJSONLargeObjects: past 16 members the duplicate check switches to a map and still
// catches a repeat.
func TestStrictJSONLargeObjects(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&b, `"m%d":%d,`, i, i)
	}
	ok := b.String() + `"last":{"a":[1,{"b":2}]}}`
	if m, err := ParseObject([]byte(ok)); err != nil || len(m) != 41 {
		t.Fatalf("41 members: %d %v", len(m), err)
	}
	dup := b.String() + `"m35":0}`
	if _, err := ParseObject([]byte(dup)); err == nil || !strings.Contains(err.Error(), `duplicate member "m35"`) {
		t.Fatalf("duplicate past 16 members: %v", err)
	}
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	if _, err := ParseObject([]byte(deep)); err == nil {
		t.Fatal("nesting beyond the depth limit accepted")
	}
}
