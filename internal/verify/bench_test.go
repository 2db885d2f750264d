package verify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

// The benchmarks compare, on the same tokens and keys, in one run:
//   - pingedge: Engine.Verify uncached (parse, header rules, key lookup, signature, claims);
//   - crypto: the bare crypto/* verification of the same signature (hash + verify), the floor.
// The comparison with golang-jwt, go-jose and jwx lives in its own module, bench/compare, so
// those libraries stay out of pingedge's module graph. Command and figures: docs/performance.md.

func BenchmarkVerify(b *testing.B) {
	e := newTestEngine(b, testPolicy())
	for _, alg := range jose.SupportedAlgorithms {
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
	}
}

func benchBareCrypto(b *testing.B, alg jose.Algorithm, pub any, tok string) {
	verify := bareVerifier(b, alg, pub, tok)
	b.ReportAllocs()
	for b.Loop() {
		verify()
	}
}

// bareVerifier returns the floor: hash the signing input and call crypto/* on the signature.
func bareVerifier(b *testing.B, alg jose.Algorithm, pub any, tok string) func() {
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

// BenchmarkDecideCached is the edge's hot path: a repeated token, answered from the result
// cache, matched against the policy, with identity headers and the audit record.
func BenchmarkDecideCached(b *testing.B) {
	p, err := policyfile.Parse([]byte(strings.Replace(samplePolicy, "https://auth.pingone.com/env-1/as", testIssuer, 1)))
	if err != nil {
		b.Fatal(err)
	}
	p.Audience, p.Algorithms = []string{testAudience}, nil
	ks, _ := jose.NewStaticKeySet(testJWKS(b))
	e, _ := NewEngine(p, EngineOptions{KeySet: ks, Now: func() time.Time { return testNow }})
	tok := mint(b, jose.RS256, withClaims(func(c map[string]any) {
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

func mustB64(b *testing.B, s string) []byte {
	v, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		b.Fatal(err)
	}
	return v
}
