package compare

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
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/pingedge/pingedge/internal/verify"
	pjose "github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

// The benchmarks compare, on the same tokens and keys, in one run:
//   - crypto: the bare crypto/* verification of the same signature (hash + verify), the floor;
//   - pingedge: Engine.Verify uncached (parse, header rules, key lookup, signature, claims);
//   - golang-jwt/v5, go-jose/v4, lestrrat-go/jwx/v3: parse + verify + exp/iss/aud validation.
// Figures: docs/performance.md and docs/dependencies.md.

const (
	issuer   = "https://issuer.example.com/as"
	audience = "https://api.example.com"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// fixture is one algorithm's key, a token signed with it and the key's public JWK.
type fixture struct {
	alg   string
	priv  crypto.Signer
	token string
	jwk   jose.JSONWebKey
}

func fixtures(b *testing.B) []fixture {
	b.Helper()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	keys := map[string]crypto.Signer{"RS256": rsaKey, "RS384": rsaKey, "RS512": rsaKey,
		"PS256": rsaKey, "PS384": rsaKey, "PS512": rsaKey, "ES256": p256, "ES384": p384, "EdDSA": ed}
	var out []fixture
	for _, alg := range pjose.SupportedAlgorithms {
		priv := keys[string(alg)]
		kid := string(alg) + "-key"
		out = append(out, fixture{alg: string(alg), priv: priv, token: sign(b, string(alg), kid, priv),
			jwk: jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: string(alg), Use: "sig"}})
	}
	return out
}

func sign(b *testing.B, alg, kid string, priv crypto.Signer) string {
	opts := (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: priv}, opts)
	if err != nil {
		b.Fatal(err)
	}
	claims := josejwt.Claims{Issuer: issuer, Audience: josejwt.Audience{audience}, Subject: "user-1",
		Expiry: josejwt.NewNumericDate(now.Add(10 * time.Minute)), IssuedAt: josejwt.NewNumericDate(now.Add(-time.Minute))}
	tok, err := josejwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

func jwks(b *testing.B, fs []fixture) []byte {
	var set jose.JSONWebKeySet
	for _, f := range fs {
		set.Keys = append(set.Keys, f.jwk)
	}
	raw, err := json.Marshal(set)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func BenchmarkVerify(b *testing.B) {
	fs := fixtures(b)
	ks, err := pjose.NewStaticKeySet(jwks(b, fs))
	if err != nil {
		b.Fatal(err)
	}
	e, err := verify.NewEngine(&policy.Policy{Issuer: issuer, Audience: []string{audience}},
		verify.EngineOptions{KeySet: ks, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range fs {
		pub := f.priv.Public()
		b.Run(f.alg+"/crypto", func(b *testing.B) { loop(b, bareVerifier(b, f.alg, pub, f.token)) })
		b.Run(f.alg+"/pingedge", func(b *testing.B) {
			loop(b, func() error { _, err := e.Verify(context.Background(), f.token); return err })
		})
		b.Run(f.alg+"/golang-jwt", func(b *testing.B) { loop(b, golangJWTVerifier(f.alg, pub, f.token)) })
		b.Run(f.alg+"/go-jose", func(b *testing.B) { loop(b, goJoseVerifier(f.alg, pub, f.token)) })
		b.Run(f.alg+"/jwx", func(b *testing.B) { loop(b, jwxVerifier(f.alg, pub, f.token)) })
	}
}

// BenchmarkJWKS compares pingedge's own JWK parsing with go-jose's and jwx's on the same set.
func BenchmarkJWKS(b *testing.B) {
	set := jwks(b, fixtures(b))
	b.Run("pingedge", func(b *testing.B) {
		loop(b, func() error { _, err := pjose.ParseJWKS(set); return err })
	})
	b.Run("go-jose", func(b *testing.B) {
		loop(b, func() error { var s jose.JSONWebKeySet; return json.Unmarshal(set, &s) })
	})
	b.Run("jwx", func(b *testing.B) {
		loop(b, func() error { _, err := jwk.Parse(set); return err })
	})
}

func loop(b *testing.B, run func() error) {
	b.ReportAllocs()
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
}

// bareVerifier is the floor: hash the signing input and call crypto/* on the signature.
func bareVerifier(b *testing.B, alg string, pub crypto.PublicKey, tok string) func() error {
	i := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:i])
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	hashes := map[byte]crypto.Hash{'2': crypto.SHA256, '3': crypto.SHA384, '5': crypto.SHA512}
	return func() error {
		if alg == "EdDSA" {
			return okOr(ed25519.Verify(pub.(ed25519.PublicKey), input, sig))
		}
		h := hashes[alg[2]]
		d := h.New()
		d.Write(input)
		sum := d.Sum(nil)
		switch alg[:2] {
		case "RS":
			return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), h, sum, sig)
		case "PS":
			return rsa.VerifyPSS(pub.(*rsa.PublicKey), h, sum, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		n := len(sig) / 2
		return okOr(ecdsa.Verify(pub.(*ecdsa.PublicKey), sum, new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])))
	}
}

func okOr(ok bool) error {
	if !ok {
		return jose.ErrCryptoFailure
	}
	return nil
}

func golangJWTVerifier(alg string, pub crypto.PublicKey, tok string) func() error {
	p := gojwt.NewParser(gojwt.WithValidMethods([]string{alg}), gojwt.WithTimeFunc(func() time.Time { return now }),
		gojwt.WithIssuer(issuer), gojwt.WithAudience(audience), gojwt.WithExpirationRequired(), gojwt.WithLeeway(30*time.Second))
	keyFunc := func(*gojwt.Token) (any, error) { return pub, nil }
	return func() error { _, err := p.Parse(tok, keyFunc); return err }
}

func goJoseVerifier(alg string, pub crypto.PublicKey, tok string) func() error {
	want := josejwt.Expected{Issuer: issuer, AnyAudience: josejwt.Audience{audience}, Time: now}
	return func() error {
		t, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			return err
		}
		var c josejwt.Claims
		if err := t.Claims(pub, &c); err != nil {
			return err
		}
		return c.ValidateWithLeeway(want, 30*time.Second)
	}
}

func jwxVerifier(alg string, pub crypto.PublicKey, tok string) func() error {
	algs := map[string]jwa.SignatureAlgorithm{"RS256": jwa.RS256(), "RS384": jwa.RS384(), "RS512": jwa.RS512(),
		"PS256": jwa.PS256(), "PS384": jwa.PS384(), "PS512": jwa.PS512(), "ES256": jwa.ES256(), "ES384": jwa.ES384(), "EdDSA": jwa.EdDSA()}
	opts := []jwxjwt.ParseOption{jwxjwt.WithKey(algs[alg], pub), jwxjwt.WithIssuer(issuer), jwxjwt.WithAudience(audience),
		jwxjwt.WithClock(jwxjwt.ClockFunc(func() time.Time { return now })), jwxjwt.WithAcceptableSkew(30 * time.Second)}
	raw := []byte(tok)
	return func() error { _, err := jwxjwt.Parse(raw, opts...); return err }
}
