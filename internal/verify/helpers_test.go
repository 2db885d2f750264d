package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

const (
	testIssuer   = "https://issuer.example.com/as"
	testAudience = "https://api.example.com"
)

// testNow is the fixed clock of every test: the only fake in this package's tests.
var testNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

type signer struct {
	kid  string
	alg  jose.Algorithm
	priv crypto.Signer
}

var (
	signersOnce sync.Once
	signers     map[jose.Algorithm]*signer
)

// testSigners returns one freshly generated key per algorithm, made once per test binary
// (RSA generation is slow under -race).
func testSigners(t testing.TB) map[jose.Algorithm]*signer {
	t.Helper()
	signersOnce.Do(func() {
		rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
		rsaPSS, _ := rsa.GenerateKey(rand.Reader, 2048)
		p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		_, ed, _ := ed25519.GenerateKey(rand.Reader)
		signers = map[jose.Algorithm]*signer{}
		for _, s := range []*signer{
			{"rsa-1", jose.RS256, rsa2048}, {"rsa-1", jose.RS384, rsa2048}, {"rsa-1", jose.RS512, rsa2048},
			{"pss-1", jose.PS256, rsaPSS}, {"pss-1", jose.PS384, rsaPSS}, {"pss-1", jose.PS512, rsaPSS},
			{"ec-1", jose.ES256, p256}, {"ec384-1", jose.ES384, p384}, {"ed-1", jose.EdDSA, ed},
		} {
			signers[s.alg] = s
		}
	})
	return signers
}

// jwkOf renders the public JWK of a signer (alg omitted unless withAlg).
func jwkOf(kid string, pub crypto.PublicKey, alg jose.Algorithm) map[string]any {
	enc := base64.RawURLEncoding.EncodeToString
	m := map[string]any{"kid": kid, "use": "sig"}
	if alg != "" {
		m["alg"] = string(alg)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", enc(k.N.Bytes()), enc(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		m["kty"], m["crv"] = "EC", k.Curve.Params().Name
		m["x"], m["y"] = enc(k.X.FillBytes(make([]byte, size))), enc(k.Y.FillBytes(make([]byte, size)))
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", enc(k)
	}
	return m
}

// testJWKS is the JWKS of every test signer (one entry per key).
func testJWKS(t testing.TB) []byte {
	seen := map[string]bool{}
	var keys []any
	for _, alg := range jose.SupportedAlgorithms {
		s := testSigners(t)[alg]
		if !seen[s.kid] {
			seen[s.kid] = true
			keys = append(keys, jwkOf(s.kid, s.priv.Public(), ""))
		}
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// signRaw signs exactly the header and payload bytes given, so tests can craft duplicate
// members or odd encodings.
func signRaw(t testing.TB, s *signer, alg jose.Algorithm, header, payload []byte) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	input := enc(header) + "." + enc(payload)
	return input + "." + enc(rawSignature(t, s.priv, alg, []byte(input)))
}

func rawSignature(t testing.TB, priv crypto.Signer, alg jose.Algorithm, input []byte) []byte {
	t.Helper()
	spec, _ := specOf(alg)
	if spec.family == famEdDSA {
		return ed25519.Sign(priv.(ed25519.PrivateKey), input)
	}
	h := spec.hash.New()
	h.Write(input)
	digest := h.Sum(nil)
	var sig []byte
	var err error
	switch spec.family {
	case famRSA:
		sig, err = rsa.SignPKCS1v15(rand.Reader, priv.(*rsa.PrivateKey), spec.hash, digest)
	case famPSS:
		sig, err = rsa.SignPSS(rand.Reader, priv.(*rsa.PrivateKey), spec.hash, digest,
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case famECDSA:
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, priv.(*ecdsa.PrivateKey), digest)
		if err == nil {
			sig = append(r.FillBytes(make([]byte, spec.size)), s.FillBytes(make([]byte, spec.size))...)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// goodClaims are claims that pass the test policy at testNow.
func goodClaims() map[string]any {
	return map[string]any{
		"iss": testIssuer, "aud": testAudience, "sub": "user-1", "client_id": "cli",
		"exp": testNow.Add(10 * time.Minute).Unix(), "iat": testNow.Add(-time.Minute).Unix(),
		"scope": "openid api:read", "roles": []string{"engineer"}, "email": "u@example.com",
	}
}

// mint signs claims with the signer for alg, header {"alg","kid","typ":"at+jwt"} plus extra.
func mint(t testing.TB, alg jose.Algorithm, claims map[string]any, extra map[string]any) string {
	t.Helper()
	s := testSigners(t)[alg]
	h := map[string]any{"alg": string(alg), "kid": s.kid, "typ": "at+jwt"}
	for k, v := range extra {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	hb, _ := json.Marshal(h)
	pb, _ := json.Marshal(claims)
	return signRaw(t, s, alg, hb, pb)
}

func testPolicy() *policy.Policy {
	return &policy.Policy{Issuer: testIssuer, Audience: []string{testAudience}, RolesClaim: "roles"}
}

// newTestEngine builds an engine over the static test JWKS with the fixed clock.
func newTestEngine(t testing.TB, p *policy.Policy) *Engine {
	t.Helper()
	ks, err := jose.NewStaticKeySet(testJWKS(t))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(p, EngineOptions{KeySet: ks, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var bg = context.Background()

// The signing side of each algorithm, written again here so the tests do not share the
// verifier's own table (jose/alg.go) with the code they check.
type testAlgSpec struct {
	family string
	hash   crypto.Hash
	size   int // ECDSA: bytes of r and of s
}

const (
	famRSA   = "RS"
	famPSS   = "PS"
	famECDSA = "ES"
	famEdDSA = "Ed"
)

func specOf(alg jose.Algorithm) (testAlgSpec, bool) {
	hashes := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}
	a := string(alg)
	if a == "EdDSA" {
		return testAlgSpec{family: famEdDSA}, true
	}
	if len(a) != 5 {
		return testAlgSpec{}, false
	}
	s := testAlgSpec{family: a[:2], hash: hashes[a[2:]]}
	if s.family == famECDSA {
		s.size = map[string]int{"256": 32, "384": 48, "512": 66}[a[2:]]
	}
	return s, s.hash != 0
}

// samplePolicy is the policy file the decision tests run against; policyfile's tests parse the
// same file field by field.
var samplePolicy = mustRead("testdata/sample_policy.yaml")

func mustRead(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}
