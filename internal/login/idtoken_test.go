package login

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pingedge/pingedge/internal/secret"

	"github.com/pingedge/pingedge/internal/verify/keyset"
)

type idFixture struct {
	key   *rsa.PrivateKey
	md    *Metadata
	now   time.Time
	other *ecdsa.PrivateKey
}

// newIDFixture serves a JWKS with one RSA key; keys are generated per test.
func newIDFixture(t *testing.T) *idFixture {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(set) }))
	t.Cleanup(srv.Close)
	return &idFixture{key: key, other: other, now: time.Now(), md: &Metadata{Provider: keyset.Provider{Issuer: testIssuer, JWKSURI: srv.URL}}}
}

func (f *idFixture) sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) secret.String {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return secret.String(raw)
}

func (f *idFixture) claims(mod func(map[string]any)) map[string]any {
	c := map[string]any{
		"iss": testIssuer, "sub": "alice", "aud": "cli", "nonce": "n1",
		"exp": f.now.Add(time.Hour).Unix(), "iat": f.now.Unix(), "preferred_username": "alice@example.com",
	}
	if mod != nil {
		mod(c)
	}
	return c
}

// TestIDTokenAttacks is the attack table of ID token verification (OIDC Core §3.1.3.7).
func TestIDTokenAttacks(t *testing.T) {
	f := newIDFixture(t)
	hmacKey := []byte(strings.Repeat("k", 32))
	tests := []struct {
		name    string
		tok     func() secret.String
		wantErr string
	}{
		{"valid", func() secret.String { return f.sign(t, jose.RS256, f.key, "k1", f.claims(nil)) }, ""},
		{"no kid, single key", func() secret.String { return f.sign(t, jose.RS256, f.key, "", f.claims(nil)) }, ""},
		{"wrong nonce (replay)", func() secret.String {
			return f.sign(t, jose.RS256, f.key, "k1", f.claims(func(c map[string]any) { c["nonce"] = "other" }))
		}, "nonce"},
		{"missing nonce", func() secret.String {
			return f.sign(t, jose.RS256, f.key, "k1", f.claims(func(c map[string]any) { delete(c, "nonce") }))
		}, "nonce"},
		{"other audience", func() secret.String {
			return f.sign(t, jose.RS256, f.key, "k1", f.claims(func(c map[string]any) { c["aud"] = "someone-else" }))
		}, "audience"},
		{"two audiences without azp", func() secret.String {
			return f.sign(t, jose.RS256, f.key, "k1", f.claims(func(c map[string]any) { c["aud"] = []string{"cli", "x"} }))
		}, "azp"},
		{"azp names another client", func() secret.String {
			return f.sign(t, jose.RS256, f.key, "k1", f.claims(func(c map[string]any) { c["azp"] = "x" }))
		}, "azp"},
		{"other issuer", func() secret.String {
			return f.sign(t, jose.RS256, f.key, "k1", f.claims(func(c map[string]any) { c["iss"] = "https://evil.example" }))
		}, "issuer"},
		{"expired", func() secret.String {
			return f.sign(t, jose.RS256, f.key, "k1", f.claims(func(c map[string]any) { c["exp"] = f.now.Add(-time.Hour).Unix() }))
		}, "expired"},
		{"no sub", func() secret.String {
			return f.sign(t, jose.RS256, f.key, "k1", f.claims(func(c map[string]any) { delete(c, "sub") }))
		}, "sub"},
		{"signed by a key not in the JWKS", func() secret.String { return f.sign(t, jose.ES256, f.other, "k1", f.claims(nil)) }, "signature"},
		{"unknown kid", func() secret.String { return f.sign(t, jose.RS256, f.key, "k9", f.claims(nil)) }, "signature"},
		{"HS256 (algorithm confusion)", func() secret.String { return f.sign(t, jose.HS256, hmacKey, "k1", f.claims(nil)) }, "ID token"},
		{"alg none", func() secret.String {
			return secret.String("eyJhbGciOiJub25lIn0." + strings.Split(f.sign(t, jose.RS256, f.key, "k1", f.claims(nil)).Reveal(), ".")[1] + ".")
		}, "ID token"},
		{"absent", func() secret.String { return "" }, "no ID token"},
		{"garbage", func() secret.String { return "not-a-jwt" }, "ID token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := verifyIDToken(t.Context(), http.DefaultClient, f.md, "cli", tt.tok(), "n1", f.now)
			if tt.wantErr == "" {
				if err != nil || id.Subject != "alice" || id.Username != "alice@example.com" {
					t.Fatalf("id, err = %+v, %v", id, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzTokenResponse: whatever a token endpoint answers, parsing neither panics nor returns a token
// without an access_token, and an error never quotes the body.
func FuzzTokenResponse(f *testing.F) {
	f.Add(200, `{"access_token":"a","token_type":"Bearer","expires_in":"3600"}`)
	f.Add(400, `{"error":"invalid_grant","error_description":"bad\u0000\n"}`)
	f.Add(503, `<html>down</html>`)
	f.Add(200, `{"access_token":"a","token_type":"mac"}`)
	f.Add(200, `{"access_token":1}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 200 || status > 599 { // 1xx are interim answers, followed by a 200
			return
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		defer srv.Close()
		resp, err := tokenRequest(t.Context(), srv.Client(), srv.URL, nil)
		if err == nil && (resp.AccessToken.Empty() || status != 200) {
			t.Fatalf("accepted status %d body %q", status, body)
		}
		if err != nil && len(body) > 12 && strings.Contains(err.Error(), body) {
			t.Fatalf("error quotes the body: %v", err)
		}
	})
}
