package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

var enc = base64.RawURLEncoding.EncodeToString

func withClaims(mod func(map[string]any)) map[string]any {
	c := goodClaims()
	mod(c)
	return c
}

// TestAttacks is the table of issue 3: each forged or malformed token must be rejected, and for
// the reason named (the sentinel and a fragment of the message), not by accident; and Explain
// (the inspect checklist) must report exactly the failure Verify returns.
func TestAttacks(t *testing.T) {
	e := newTestEngine(t, testPolicy())
	s := testSigners(t)
	good := mint(t, jose.RS256, goodClaims(), nil)
	parts := strings.Split(good, ".")
	hdr := func(h string) string { return enc([]byte(h)) }
	payload := parts[1]
	rsaPub := s[jose.RS256].priv.Public().(*rsa.PublicKey)
	attacker, _ := rsa.GenerateKey(rand.Reader, 2048)
	attackerEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecInput := strings.Join(strings.Split(mint(t, jose.ES256, goodClaims(), nil), ".")[:2], ".")

	hs256 := func(key []byte) string {
		in := hdr(`{"alg":"HS256","kid":"rsa-1","typ":"at+jwt"}`) + "." + payload
		m := hmac.New(sha256.New, key)
		m.Write([]byte(in))
		return in + "." + enc(m.Sum(nil))
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(rsaPub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	derSig, _ := ecdsa.SignASN1(rand.Reader, s[jose.ES256].priv.(*ecdsa.PrivateKey), sha256Sum(ecInput))
	attackerJWK, _ := json.Marshal(jwkOf("rsa-1", &attacker.PublicKey, jose.RS256))

	var jkuHits atomic.Int32
	jku := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		jkuHits.Add(1)
		b, _ := json.Marshal(map[string]any{"keys": []any{jwkOf("evil", &attacker.PublicKey, jose.RS256)}})
		_, _ = w.Write(b)
	}))
	defer jku.Close()
	signedBy := func(priv *rsa.PrivateKey, header string, claims map[string]any) string {
		pb, _ := json.Marshal(claims)
		return signRaw(t, &signer{priv: priv}, jose.RS256, []byte(header), pb)
	}
	raw := func(header, claims string) string {
		return signRaw(t, s[jose.RS256], jose.RS256, []byte(header), []byte(claims))
	}
	okHeader := `{"alg":"RS256","kid":"rsa-1","typ":"at+jwt"}`
	exp := testNow.Add(time.Hour).Unix()
	claimsJSON := func(extra string) string {
		return `{"iss":"` + testIssuer + `","aud":"` + testAudience + `","exp":` + itoa(exp) + extra + `}`
	}

	cases := []struct {
		name, token string
		want        error
		msg         string
	}{
		{"control: valid RS256", good, nil, ""},
		{"alg none", hdr(`{"alg":"none"}`) + "." + payload + ".", jose.ErrAlgorithm, "unsigned"},
		{"alg None", hdr(`{"alg":"None","kid":"rsa-1"}`) + "." + payload + ".", jose.ErrAlgorithm, "unsigned"},
		{"alg NONE with signature", hdr(`{"alg":"NONE"}`) + "." + payload + "." + parts[2], jose.ErrAlgorithm, "unsigned"},
		{"alg nOnE", hdr(`{"alg":"nOnE"}`) + "." + payload + ".", jose.ErrAlgorithm, "unsigned"},
		{"HS256 keyed with the RSA public key PEM", hs256(pubPEM), jose.ErrAlgorithm, "symmetric"},
		{"HS256 keyed with the RSA modulus", hs256(rsaPub.N.Bytes()), jose.ErrAlgorithm, "symmetric"},
		{"hs512 lower case", hdr(`{"alg":"hs512","kid":"rsa-1"}`) + "." + payload + "." + parts[2], jose.ErrAlgorithm, "symmetric"},
		{"unknown alg ES512", hdr(`{"alg":"ES512","kid":"ec-1"}`) + "." + payload + "." + parts[2], jose.ErrAlgorithm, "not supported"},
		{"RSA kid with ES256", mint(t, jose.ES256, goodClaims(), map[string]any{"kid": "rsa-1"}), jose.ErrKeyMismatch, "cannot verify ES256"},
		{"EC kid with RS256", mint(t, jose.RS256, goodClaims(), map[string]any{"kid": "ec-1"}), jose.ErrKeyMismatch, "cannot verify RS256"},
		{"P-256 kid with ES384", mint(t, jose.ES384, goodClaims(), map[string]any{"kid": "ec-1"}), jose.ErrKeyMismatch, "cannot verify ES384"},
		{"Ed25519 kid with ES256", mint(t, jose.ES256, goodClaims(), map[string]any{"kid": "ed-1"}), jose.ErrKeyMismatch, "cannot verify"},
		{"real kid, attacker's signature", signedBy(attacker, okHeader, goodClaims()), jose.ErrSignature, "does not verify"},
		{"tampered payload", parts[0] + "." + enc(mustJSON(withClaims(func(c map[string]any) { c["roles"] = []string{"admin"} }))) + "." + parts[2], jose.ErrSignature, "does not verify"},
		{"stripped signature", parts[0] + "." + payload + ".", jose.ErrSignature, "missing"},
		{"stripped signature, unknown kid", hdr(`{"alg":"RS256","kid":"forged-kid","typ":"at+jwt"}`) + "." + payload + ".", jose.ErrSignature, "missing"},
		{"signature and dot stripped", parts[0] + "." + payload, jose.ErrMalformed, "three"},
		{"PS256 header over a PKCS1v15 signature", strings.Replace(mint(t, jose.RS256, goodClaims(), map[string]any{"kid": "pss-1"}), hdr(`{"alg":"RS256","kid":"pss-1","typ":"at+jwt"}`), hdr(`{"alg":"PS256","kid":"pss-1","typ":"at+jwt"}`), 1), jose.ErrSignature, "does not verify"},
		{"zero ECDSA signature", ecInput + "." + enc(make([]byte, 64)), jose.ErrSignature, "does not verify"},
		{"DER-encoded ECDSA signature", ecInput + "." + enc(derSig), jose.ErrSignature, "must be 64 bytes"},
		{"ECDSA r||s with a trailing zero", ecInput + "." + enc(append(rawSignature(t, s[jose.ES256].priv, jose.ES256, []byte(ecInput)), 0)), jose.ErrSignature, "must be 64 bytes"},
		{"attacker's EC key signature", ecInput + "." + enc(rawSignature(t, attackerEC, jose.ES256, []byte(ecInput))), jose.ErrSignature, "does not verify"},
		{"four segments", good + ".x", jose.ErrMalformed, "three"},
		{"many dots", strings.Repeat(".", 200), jose.ErrMalformed, ""},
		{"one segment", "abc", jose.ErrMalformed, "three"},
		{"empty", "", jose.ErrMalformed, "three"},
		{"JWE (five segments)", hdr(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a.b.c.d", jose.ErrMalformed, "JWE"},
		{"JSON serialization", `{"payload":"` + payload + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`, jose.ErrMalformed, "JSON serialization"},
		{"flattened JSON serialization", ` {"payload":"x","protected":"y","signature":"z"}`, jose.ErrMalformed, "JSON serialization"},
		{"oversized header", hdr(`{"alg":"RS256","kid":"rsa-1","x":"`+strings.Repeat("a", 9000)+`"}`) + "." + payload + "." + parts[2], jose.ErrMalformed, "header larger"},
		{"oversized token", parts[0] + "." + enc(mustJSON(withClaims(func(c map[string]any) { c["pad"] = strings.Repeat("a", 17000) }))) + "." + parts[2], jose.ErrMalformed, "limit"},
		{"padded base64", parts[0] + "=." + payload + "." + parts[2], jose.ErrMalformed, "base64url"},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(parts[0]+"."+payload+"."+parts[2]) + "+/", jose.ErrMalformed, "base64url"},
		{"non-canonical base64 (unused bits set)", parts[0] + "." + payload + "." + parts[2][:len(parts[2])-1] + flipLast(parts[2]), jose.ErrMalformed, "base64url"},
		{"space in signature", parts[0] + "." + payload + ". " + parts[2], jose.ErrMalformed, "base64url"},
		{"kid path traversal", mint(t, jose.RS256, goodClaims(), map[string]any{"kid": "../../../../etc/passwd"}), jose.ErrUnknownKey, "no key with kid"},
		{"10 KB kid", hdr(`{"alg":"RS256","kid":"`+strings.Repeat("k", 5000)+`"}`) + "." + payload + "." + parts[2], jose.ErrHeader, "kid longer"},
		{"kid not a string", raw(`{"alg":"RS256","kid":7}`, claimsJSON("")), jose.ErrHeader, "kid is not a string"},
		{"no kid, two RSA keys fit", mint(t, jose.RS256, goodClaims(), map[string]any{"kid": nil}), jose.ErrUnknownKey, "no kid"},
		{"duplicate alg in header", raw(`{"alg":"RS256","alg":"none","kid":"rsa-1"}`, claimsJSON("")), jose.ErrMalformed, "duplicate member \"alg\""},
		{"escaped duplicate alg", raw(`{"alg":"RS256","\u0061lg":"HS256","kid":"rsa-1"}`, claimsJSON("")), jose.ErrMalformed, "duplicate member \"alg\""},
		{"duplicate aud in claims", raw(okHeader, claimsJSON(`,"aud":"https://evil.example"`)), jose.ErrClaims, "duplicate member \"aud\""},
		{"duplicate nested member", raw(okHeader, claimsJSON(`,"cnf":{"jkt":"a","jkt":"b"}`)), jose.ErrClaims, "duplicate member \"jkt\""},
		{"aud upper-case member only", raw(okHeader, `{"iss":"`+testIssuer+`","AUD":"`+testAudience+`","exp":`+itoa(exp)+`}`), jose.ErrAudience, "aud does not contain"},
		{"aud value in another case", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["aud"] = strings.ToUpper(testAudience) }), nil), jose.ErrAudience, ""},
		{"aud with trailing slash", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["aud"] = testAudience + "/" }), nil), jose.ErrAudience, ""},
		{"aud empty array", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["aud"] = []string{} }), nil), jose.ErrClaims, "aud: must not be empty"},
		{"aud [\"\"]", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["aud"] = []string{""} }), nil), jose.ErrClaims, "empty string"},
		{"aud number", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["aud"] = 1 }), nil), jose.ErrClaims, "aud"},
		{"aud array with a number", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["aud"] = []any{testAudience, 1} }), nil), jose.ErrClaims, "aud"},
		{"AUD beside a wrong aud", raw(okHeader, `{"iss":"`+testIssuer+`","aud":"x","AUD":"`+testAudience+`","exp":`+itoa(exp)+`}`), jose.ErrAudience, ""},
		{"cty JWT (nested token)", mint(t, jose.RS256, goodClaims(), map[string]any{"cty": "JWT"}), jose.ErrHeader, "nested"},
		{"cty application/jwt", mint(t, jose.RS256, goodClaims(), map[string]any{"cty": "application/JWT"}), jose.ErrHeader, "nested"},
		{"b64 false", mint(t, jose.RS256, goodClaims(), map[string]any{"b64": false, "crit": []string{"b64"}}), jose.ErrHeader, ""},
		{"b64 false without crit", mint(t, jose.RS256, goodClaims(), map[string]any{"b64": false}), jose.ErrHeader, "b64"},
		{"unknown crit", mint(t, jose.RS256, goodClaims(), map[string]any{"crit": []string{"exp"}, "exp": 1}), jose.ErrHeader, "crit"},
		{"embedded jwk of the attacker", signedBy(attacker, `{"alg":"RS256","kid":"rsa-1","jwk":`+string(attackerJWK)+`}`, goodClaims()), jose.ErrSignature, "does not verify"},
		{"jku to the attacker's JWKS", signedBy(attacker, `{"alg":"RS256","kid":"evil","jku":"`+jku.URL+`"}`, goodClaims()), jose.ErrUnknownKey, "evil"},
		{"x5u to the attacker", signedBy(attacker, `{"alg":"RS256","kid":"evil","x5u":"`+jku.URL+`"}`, goodClaims()), jose.ErrUnknownKey, ""},
		{"x5c of the attacker", signedBy(attacker, `{"alg":"RS256","kid":"rsa-1","x5c":["MIIB"]}`, goodClaims()), jose.ErrSignature, ""},
		{"typ JOSE refused", mint(t, jose.RS256, goodClaims(), map[string]any{"typ": "dpop+jwt"}), jose.ErrHeader, "typ"},
		{"header not an object", raw(`["RS256"]`, claimsJSON("")), jose.ErrMalformed, "header"},
		{"header without alg", raw(`{"kid":"rsa-1"}`, claimsJSON("")), jose.ErrMalformed, "no alg"},
		{"header invalid UTF-8", raw("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x\":\"\xff\"}", claimsJSON("")), jose.ErrMalformed, ""},
		{"payload not JSON", raw(okHeader, `not json`), jose.ErrClaims, "payload"},
		{"payload an array", raw(okHeader, `[1,2]`), jose.ErrClaims, "payload"},
		{"trailing data after claims", raw(okHeader, claimsJSON("")+`{}`), jose.ErrClaims, "payload"},
		{"exp missing", mint(t, jose.RS256, withClaims(func(c map[string]any) { delete(c, "exp") }), nil), jose.ErrClaims, "exp is required"},
		{"exp a string", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["exp"] = "9999999999" }), nil), jose.ErrClaims, "exp"},
		{"exp null", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["exp"] = nil }), nil), jose.ErrClaims, "exp"},
		{"expired", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["exp"] = testNow.Add(-time.Minute).Unix() }), nil), jose.ErrExpired, "expired at"},
		{"nbf in the future", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["nbf"] = testNow.Add(time.Minute).Unix() }), nil), jose.ErrNotYetValid, "nbf"},
		{"iat in the future", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["iat"] = testNow.Add(time.Hour).Unix() }), nil), jose.ErrNotYetValid, "iat"},
		{"control: exp 20s ago within leeway", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["exp"] = testNow.Add(-20 * time.Second).Unix() }), nil), nil, ""},
		{"iss other issuer", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["iss"] = "https://evil.example.com/as" }), nil), jose.ErrIssuer, ""},
		{"iss with trailing slash", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["iss"] = testIssuer + "/" }), nil), jose.ErrIssuer, ""},
		{"iss missing", mint(t, jose.RS256, withClaims(func(c map[string]any) { delete(c, "iss") }), nil), jose.ErrIssuer, ""},
		{"iss number", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["iss"] = 5 }), nil), jose.ErrClaims, "iss"},
		{"scope not a string", mint(t, jose.RS256, withClaims(func(c map[string]any) { c["scope"] = []string{"a"} }), nil), jose.ErrClaims, "scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Verify(bg, tc.token)
			// Explain runs the same ordered checks: its first failure is Verify's error, always.
			if r := e.Explain(bg, tc.token); fmt.Sprint(r.Err) != fmt.Sprint(err) || r.OK() != (err == nil) {
				t.Fatalf("Explain and Verify disagree: Explain %v, Verify %v", r.Err, err)
			}
			if tc.want == nil {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not say %q", err, tc.msg)
			}
			if len(err.Error()) > 300 {
				t.Fatalf("error is %d bytes: hostile input must not flood logs", len(err.Error()))
			}
		})
	}
	if n := jkuHits.Load(); n != 0 {
		t.Fatalf("jku/x5u URL was fetched %d times; token-supplied URLs must never be fetched", n)
	}
}

// TestKeyAlgPinned: a JWK that names its alg is used for that alg only (RS256 key, PS256 token).
func TestKeyAlgPinned(t *testing.T) {
	s := testSigners(t)[jose.PS256]
	jwks, _ := json.Marshal(map[string]any{"keys": []any{jwkOf("pss-1", s.priv.Public(), jose.RS256)}})
	ks, err := jose.NewStaticKeySet(jwks)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := NewEngine(testPolicy(), EngineOptions{KeySet: ks, Now: func() time.Time { return testNow }})
	_, err = e.Verify(bg, mint(t, jose.PS256, goodClaims(), nil))
	if !errors.Is(err, jose.ErrKeyMismatch) || !strings.Contains(err.Error(), "is for RS256") {
		t.Fatalf("want key pinned to RS256, got %v", err)
	}
}

// TestEveryAlgorithm: each supported algorithm verifies, and the policy's list narrows them.
func TestEveryAlgorithm(t *testing.T) {
	e := newTestEngine(t, testPolicy())
	for _, alg := range jose.SupportedAlgorithms {
		c, err := e.Verify(bg, mint(t, alg, goodClaims(), nil))
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if c.Subject != "user-1" || c.Header.Alg != string(alg) || !c.HasScope("api:read") || !c.HasRole("engineer") {
			t.Fatalf("%s: claims not read: %+v", alg, c)
		}
	}
	p := testPolicy()
	p.Algorithms = []jose.Algorithm{jose.ES256}
	narrow := newTestEngine(t, p)
	if _, err := narrow.Verify(bg, mint(t, jose.RS256, goodClaims(), nil)); !errors.Is(err, jose.ErrAlgorithm) {
		t.Fatalf("RS256 outside the policy's algorithms: got %v", err)
	}
	if _, err := narrow.Verify(bg, mint(t, jose.ES256, goodClaims(), nil)); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func sha256Sum(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// flipLast changes the last base64url character so that its unused low bits are non-zero.
func flipLast(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, seg[len(seg)-1])
	return string(alphabet[i|1])
}
