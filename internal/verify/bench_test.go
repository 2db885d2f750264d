package verify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
)

// The benchmarks compare, on the same tokens and keys, in one run:
//   - pingedge: Engine.Verify uncached (parse, header rules, key lookup, signature, claims);
//   - crypto: the bare crypto/* verification of the same signature (hash + verify), the floor;
//   - golang-jwt/v5, go-jose/v4, lestrrat-go/jwx/v3: parse + verify + exp/iss/aud validation.
// Command and figures: docs/performance.md.

func BenchmarkVerify(b *testing.B) {
	e := newTestEngine(b, testPolicy())
	for _, alg := range SupportedAlgorithms {
		tok := mint(b, alg, goodClaims(), nil)
		pub := testSigners(b)[alg].priv.Public()
		b.Run(string(alg)+"/crypto", func(b *testing.B) { benchBareCrypto(b, alg, pub, tok) })
		b.Run(string(alg)+"/pingedge", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Verify(bg, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(alg)+"/golang-jwt", func(b *testing.B) { benchLoop(b, golangJWTVerifier(b, alg, pub, tok)) })
		b.Run(string(alg)+"/go-jose", func(b *testing.B) { benchLoop(b, goJoseVerifier(b, alg, pub, tok)) })
		b.Run(string(alg)+"/jwx", func(b *testing.B) { benchLoop(b, jwxVerifier(b, alg, pub, tok)) })
	}
}

func benchBareCrypto(b *testing.B, alg Algorithm, pub any, tok string) {
	verify := bareVerifier(b, alg, pub, tok)
	b.ReportAllocs()
	for b.Loop() {
		verify()
	}
}

// bareVerifier returns the floor: hash the signing input and call crypto/* on the signature.
func bareVerifier(b *testing.B, alg Algorithm, pub any, tok string) func() {
	i := strings.LastIndexByte(tok, '.')
	input, sig := []byte(tok[:i]), mustB64(b, tok[i+1:])
	spec, _ := specOf(alg)
	return func() {
		var ok bool
		if spec.family == famEdDSA {
			ok = ed25519.Verify(pub.(ed25519.PublicKey), input, sig)
		} else {
			h := spec.hash.New()
			h.Write(input)
			d := h.Sum(nil)
			switch spec.family {
			case famRSA:
				ok = rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), spec.hash, d, sig) == nil
			case famPSS:
				ok = rsa.VerifyPSS(pub.(*rsa.PublicKey), spec.hash, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
			case famECDSA:
				r, s := new(big.Int).SetBytes(sig[:spec.size]), new(big.Int).SetBytes(sig[spec.size:])
				ok = ecdsa.Verify(pub.(*ecdsa.PublicKey), d, r, s)
			}
		}
		if !ok {
			b.Fatal("bare verify failed")
		}
	}
}

func benchLoop(b *testing.B, run func()) {
	b.ReportAllocs()
	for b.Loop() {
		run()
	}
}

func golangJWTVerifier(b *testing.B, alg Algorithm, pub any, tok string) func() {
	p := gojwt.NewParser(gojwt.WithValidMethods([]string{string(alg)}), gojwt.WithTimeFunc(func() time.Time { return testNow }),
		gojwt.WithIssuer(testIssuer), gojwt.WithAudience(testAudience), gojwt.WithExpirationRequired(), gojwt.WithLeeway(30*time.Second))
	keyFunc := func(*gojwt.Token) (any, error) { return pub, nil }
	return func() {
		if _, err := p.Parse(tok, keyFunc); err != nil {
			b.Fatal(err)
		}
	}
}

func goJoseVerifier(b *testing.B, alg Algorithm, pub any, tok string) func() {
	want := josejwt.Expected{Issuer: testIssuer, AnyAudience: josejwt.Audience{testAudience}, Time: testNow}
	return func() {
		t, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			b.Fatal(err)
		}
		var c josejwt.Claims
		if err := t.Claims(pub, &c); err != nil {
			b.Fatal(err)
		}
		if err := c.ValidateWithLeeway(want, 30*time.Second); err != nil {
			b.Fatal(err)
		}
	}
}

func jwxVerifier(b *testing.B, alg Algorithm, pub any, tok string) func() {
	algs := map[Algorithm]jwa.SignatureAlgorithm{RS256: jwa.RS256(), RS384: jwa.RS384(), RS512: jwa.RS512(),
		PS256: jwa.PS256(), PS384: jwa.PS384(), PS512: jwa.PS512(), ES256: jwa.ES256(), ES384: jwa.ES384(), EdDSA: jwa.EdDSA()}
	opts := []jwxjwt.ParseOption{jwxjwt.WithKey(algs[alg], pub), jwxjwt.WithIssuer(testIssuer), jwxjwt.WithAudience(testAudience),
		jwxjwt.WithClock(jwxjwt.ClockFunc(func() time.Time { return testNow })), jwxjwt.WithAcceptableSkew(30 * time.Second)}
	raw := []byte(tok)
	return func() {
		if _, err := jwxjwt.Parse(raw, opts...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideCached is the edge's hot path: a repeated token, answered from the result
// cache, matched against the policy, with identity headers and the audit record.
func BenchmarkDecideCached(b *testing.B) {
	p, err := ParsePolicy([]byte(strings.Replace(samplePolicy, "https://auth.pingone.com/env-1/as", testIssuer, 1)))
	if err != nil {
		b.Fatal(err)
	}
	p.Audience, p.Algorithms = []string{testAudience}, nil
	ks, _ := NewStaticKeySet(testJWKS(b))
	e, _ := NewEngine(p, EngineOptions{KeySet: ks, Now: func() time.Time { return testNow }})
	tok := mint(b, RS256, withClaims(func(c map[string]any) {
		c["pi"] = map[string]any{"roles": []string{"engineer"}}
	}), nil)
	req := Request{Method: "GET", Path: "/api/v1/items", Token: tok}
	if d := e.Decide(bg, req); !d.Allow {
		b.Fatal(d.Reason)
	}
	b.ReportAllocs()
	for b.Loop() {
		if d := e.Decide(bg, req); !d.Allow {
			b.Fatal(d.Reason)
		}
	}
}

// BenchmarkJWKS decides pingedge's own JWK parsing against go-jose and jwx on the same set.
func BenchmarkJWKS(b *testing.B) {
	set := testJWKS(b)
	b.Run("pingedge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseJWKS(set); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-jose", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s jose.JSONWebKeySet
			if err := json.Unmarshal(set, &s); err != nil || len(s.Keys) != 5 {
				b.Fatal(err)
			}
		}
	})
	b.Run("jwx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jwk.Parse(set); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func mustB64(b *testing.B, s string) []byte {
	v, err := b64.DecodeString(s)
	if err != nil {
		b.Fatal(err)
	}
	return v
}
