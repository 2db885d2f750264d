package lambdaauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

// FuzzInvoke: whatever event API Gateway relays (headers and paths are the client's), the
// authorizer never panics and never allows a protected route: the key set holds a key nobody
// signs with, so no token can verify, and only /public is open.
func FuzzInvoke(f *testing.F) {
	for _, s := range []string{
		`{"version":"2.0","rawPath":"/api/items","headers":{"authorization":"Bearer a.b.c"},"requestContext":{"http":{"method":"GET"}}}`,
		`{"type":"REQUEST","methodArn":"arn:x","path":"/admin/../api","httpMethod":"GET","multiValueHeaders":{"Authorization":["Bearer x","Bearer y"]}}`,
		`{"version":"2.0","rawPath":"/public/%2e%2e/api","rawQueryString":"a=b"}`,
		`{"version":"1.0"}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ks := jose.NewStaticKeys(&jose.Key{ID: "k", Type: "EC", Alg: jose.ES256, Public: &key.PublicKey})
	p, err := policyfile.Parse([]byte("issuer: https://issuer.example\naudience: https://api.example.com\nrules:\n  - path: /public/**\n    allow: anyone\ndefault: deny\n"))
	if err != nil {
		f.Fatal(err)
	}
	eng, err := verify.NewEngine(p, verify.EngineOptions{KeySet: ks})
	if err != nil {
		f.Fatal(err)
	}
	a := New(eng, nil)
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := a.Invoke(context.Background(), payload)
		if err != nil {
			return
		}
		switch r := out.(type) {
		case events.APIGatewayV2CustomAuthorizerSimpleResponse:
			if r.IsAuthorized && len(r.Context) > 0 {
				t.Fatalf("an identity without a verifiable token: %v", r)
			}
		case events.APIGatewayCustomAuthorizerResponse:
			if r.PrincipalID != "anonymous" {
				t.Fatalf("principal %q without a verifiable token", r.PrincipalID)
			}
		}
	})
}
