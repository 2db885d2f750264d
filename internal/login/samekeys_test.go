package login

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	gojose "github.com/go-jose/go-jose/v4"

	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policy"

	"github.com/pingedge/pingedge/internal/verify/keyset"
)

// TestLoginAndEdgeAcceptTheSameKeys is the shared table of issue 13: an ID token signed with each
// algorithm and key size is accepted by login exactly when the edge engine (which verify, inspect
// and edge serve run) accepts the same token over the same JWKS. Login used to accept ES512 and
// 1024-bit RSA keys the edge refuses.
func TestLoginAndEdgeAcceptTheSameKeys(t *testing.T) {
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		alg    gojose.SignatureAlgorithm
		key    crypto.Signer
		accept bool
	}{
		{gojose.RS256, rsa2048, true}, {gojose.RS384, rsa2048, true}, {gojose.RS512, rsa2048, true},
		{gojose.PS256, rsa2048, true}, {gojose.PS384, rsa2048, true}, {gojose.PS512, rsa2048, true},
		{gojose.ES256, p256, true}, {gojose.ES384, p384, true}, {gojose.EdDSA, ed, true},
		{gojose.RS256, rsa1024, false}, {gojose.PS256, rsa1024, false}, {gojose.ES512, p521, false},
	}
	now := time.Now()
	for _, tc := range cases {
		t.Run(string(tc.alg)+"/"+keyName(tc.key), func(t *testing.T) {
			set := gojose.JSONWebKeySet{Keys: []gojose.JSONWebKey{{Key: tc.key.Public(), KeyID: "k1", Use: "sig"}}}
			body, _ := json.Marshal(set)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
			defer srv.Close()
			f := &idFixture{now: now, md: &Metadata{Provider: keyset.Provider{Issuer: testIssuer, JWKSURI: srv.URL}}}
			tok := f.sign(t, tc.alg, tc.key, "k1", f.claims(nil))

			_, loginErr := verifyIDToken(t.Context(), http.DefaultClient, f.md, "cli", tok, "n1", now)
			e, err := verify.NewEngine(&policy.Policy{Issuer: testIssuer, Audience: []string{"cli"}, JWKSURI: srv.URL},
				verify.EngineOptions{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			_, edgeErr := e.Verify(context.Background(), tok.Reveal())
			_, parseErr := jose.ParseJWKS(body) // what doctor counts as usable keys
			if (loginErr == nil) != tc.accept || (edgeErr == nil) != tc.accept || (parseErr == nil) != tc.accept {
				t.Fatalf("accept want %v: login %v, edge %v, JWKS %v", tc.accept, loginErr, edgeErr, parseErr)
			}
		})
	}
}

func keyName(k crypto.Signer) string {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return "rsa" + itoa(k.N.BitLen())
	case *ecdsa.PrivateKey:
		return k.Curve.Params().Name
	}
	return "ed25519"
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
