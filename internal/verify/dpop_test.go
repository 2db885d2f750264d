package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
	"github.com/pingedge/pingedge/internal/verify/dpop"
	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

const dpopURL = "https://api.example.com/items"

type dpopFixture struct {
	t      *testing.T
	client *ecdsa.PrivateKey
	signer *dpopkey.Signer
	token  string // bound to client's key
}

func newDPoPFixture(t *testing.T) *dpopFixture {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := dpopkey.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	c := goodClaims()
	c["cnf"] = map[string]any{"jkt": s.JKT()}
	return &dpopFixture{t: t, client: k, signer: s, token: mint(t, jose.ES256, c, nil)}
}

func (f *dpopFixture) proof(method, url, token string, iat time.Time) string {
	p, err := f.signer.Proof(method, url, token, "", iat)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// craft signs a proof with arbitrary header and payload members (nil deletes a member).
func (f *dpopFixture) craft(priv any, hdr, claims map[string]any) string {
	jwk := jwkOf("", &f.client.PublicKey, "")
	delete(jwk, "kid")
	delete(jwk, "use")
	h := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}
	p := map[string]any{"jti": base64.RawURLEncoding.EncodeToString([]byte(time.Now().String())), "htm": "GET",
		"htu": dpopURL, "iat": testNow.Unix(), "ath": dpop.TokenHash(f.token)}
	for k, v := range hdr {
		h[k] = v
		if v == nil {
			delete(h, k)
		}
	}
	for k, v := range claims {
		p[k] = v
		if v == nil {
			delete(p, k)
		}
	}
	hb, _ := json.Marshal(h)
	pb, _ := json.Marshal(p)
	enc := base64.RawURLEncoding.EncodeToString
	input := enc(hb) + "." + enc(pb)
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		return input + "." + enc(rawSignature(f.t, k, jose.ES256, []byte(input)))
	case *rsa.PrivateKey:
		return input + "." + enc(rawSignature(f.t, k, jose.RS256, []byte(input)))
	case []byte:
		return input + "." + enc(k)
	}
	return input + "."
}

func dpopEngine(t *testing.T, mode policy.DPoPMode, nonce bool) *Engine {
	p := testPolicy()
	p.DPoP, p.DPoPNonce, p.Default = mode, nonce, policy.AccessAuthenticated
	return newTestEngine(t, p)
}

func dpopReq(method, scheme, token string, proofs ...string) Request {
	h := map[string][]string{"Authorization": {scheme + " " + token}}
	if len(proofs) > 0 {
		h["Dpop"] = proofs
	}
	return Request{Method: method, Path: "/items", URL: dpopURL, Header: h}
}

// TestDPoPAttacks is the proof verification's attack table (RFC 9449 §4.3, §7.1, §11): each
// row is a request a thief or a broken client could send with the bound token; only the first
// passes. Every refusal is a 401 with a DPoP challenge, and no proof or token in the reason.
func TestDPoPAttacks(t *testing.T) {
	f := newDPoPFixture(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherSigner, _ := dpopkey.NewSigner(other)
	rsaKey := testSigners(t)[jose.RS256].priv.(*rsa.PrivateKey)
	rsaJWK := jwkOf("", rsaKey.Public(), "")
	delete(rsaJWK, "kid")
	privJWK := jwkOf("", &f.client.PublicKey, "")
	privJWK["d"] = base64.RawURLEncoding.EncodeToString(f.client.D.Bytes())
	good := f.proof("GET", dpopURL, f.token, testNow)
	fromOther, _ := otherSigner.Proof("GET", dpopURL, f.token, "", testNow)
	cases := []struct {
		name, want string
		req        Request
	}{
		{"valid proof", "", dpopReq("GET", "DPoP", f.token, good)},
		{"replayed proof", "already used", dpopReq("GET", "DPoP", f.token, good)},
		{"bound token as Bearer", "presented as a bearer", dpopReq("GET", "Bearer", f.token)},
		{"bound token as Bearer with proof", "presented as a bearer", dpopReq("GET", "Bearer", f.token, f.proof("GET", dpopURL, f.token, testNow))},
		{"no proof", "no DPoP proof", dpopReq("GET", "DPoP", f.token)},
		{"two proofs", "more than one", dpopReq("GET", "DPoP", f.token, f.proof("GET", dpopURL, f.token, testNow), f.proof("GET", dpopURL, f.token, testNow))},
		{"proof from another key", "not the one the token is bound to", dpopReq("GET", "DPoP", f.token, fromOther)},
		{"other method", "htm", dpopReq("GET", "DPoP", f.token, f.proof("POST", dpopURL, f.token, testNow))},
		{"lower-case method", "htm", dpopReq("GET", "DPoP", f.token, f.proof("get", dpopURL, f.token, testNow))},
		{"other path", "htu", dpopReq("GET", "DPoP", f.token, f.proof("GET", "https://api.example.com/admin", f.token, testNow))},
		{"other host", "htu", dpopReq("GET", "DPoP", f.token, f.proof("GET", "https://evil.example.com/items", f.token, testNow))},
		{"other scheme", "htu", dpopReq("GET", "DPoP", f.token, f.proof("GET", "http://api.example.com/items", f.token, testNow))},
		{"stale iat", "older than", dpopReq("GET", "DPoP", f.token, f.proof("GET", dpopURL, f.token, testNow.Add(-2*time.Minute)))},
		{"future iat", "future", dpopReq("GET", "DPoP", f.token, f.proof("GET", dpopURL, f.token, testNow.Add(2*time.Minute)))},
		{"missing ath", "ath missing", dpopReq("GET", "DPoP", f.token, f.proof("GET", dpopURL, "", testNow))},
		{"ath of another token", "ath is not", dpopReq("GET", "DPoP", f.token, f.proof("GET", dpopURL, "another.token.x", testNow))},
		{"missing jti", "jti", dpopReq("GET", "DPoP", f.token, f.craft(f.client, nil, map[string]any{"jti": nil}))},
		{"missing iat", "iat missing", dpopReq("GET", "DPoP", f.token, f.craft(f.client, nil, map[string]any{"iat": nil}))},
		{"iat as string", "iat has the wrong type", dpopReq("GET", "DPoP", f.token, f.craft(f.client, nil, map[string]any{"iat": "1"}))},
		{"private members in jwk", "private key material", dpopReq("GET", "DPoP", f.token, f.craft(f.client, map[string]any{"jwk": privJWK}, nil))},
		{"no jwk", "no jwk", dpopReq("GET", "DPoP", f.token, f.craft(f.client, map[string]any{"jwk": nil}, nil))},
		{"typ JWT", "typ", dpopReq("GET", "DPoP", f.token, f.craft(f.client, map[string]any{"typ": "JWT"}, nil))},
		{"alg none", "unsigned", dpopReq("GET", "DPoP", f.token, f.craft(nil, map[string]any{"alg": "none"}, nil))},
		{"HMAC with the thumbprint as secret", "symmetric", dpopReq("GET", "DPoP", f.token, f.craft([]byte("sig"), map[string]any{"alg": "HS256", "jwk": map[string]any{"kty": "oct", "k": "c2VjcmV0"}}, nil))},
		{"signed by another key, claiming the bound jwk", "signature", dpopReq("GET", "DPoP", f.token, f.craft(other, nil, nil))},
		{"RSA key not bound", "not the one the token is bound to", dpopReq("GET", "DPoP", f.token, f.craft(rsaKey, map[string]any{"alg": "RS256", "jwk": rsaJWK}, nil))},
		{"alg ES256 with an RSA jwk", "cannot verify", dpopReq("GET", "DPoP", f.token, f.craft(f.client, map[string]any{"jwk": rsaJWK}, nil))},
		{"oversized proof", "limit", dpopReq("GET", "DPoP", f.token, f.craft(f.client, nil, map[string]any{"pad": strings.Repeat("A", 5000)}))},
		{"duplicate htu member", "duplicate", dpopReq("GET", "DPoP", f.token, dupMember(f))},
	}
	e := dpopEngine(t, policy.DPoPRequired, false)
	for _, c := range cases {
		d := e.Decide(bg, c.req)
		if c.want == "" {
			if !d.Allow || d.Audit.DPoP != "bound" {
				t.Errorf("%s: refused (%d %s)", c.name, d.Status, d.Reason)
			}
			continue
		}
		switch {
		case d.Allow:
			t.Errorf("%s: allowed", c.name)
		case d.Status != 401 || !strings.HasPrefix(d.WWWAuthenticate, "DPoP error="):
			t.Errorf("%s: %d %q", c.name, d.Status, d.WWWAuthenticate)
		case !strings.Contains(d.Reason, c.want):
			t.Errorf("%s: reason %q, want it to say %q", c.name, d.Reason, c.want)
		case strings.Contains(d.Reason, f.token[:20]) || strings.Contains(d.WWWAuthenticate, f.token[:20]):
			t.Errorf("%s: the token leaked into the answer", c.name)
		}
	}
}

// dupMember is a proof whose payload names htu twice: a JSON parser that keeps the last
// member would check a different URL than one that keeps the first.
func dupMember(f *dpopFixture) string {
	enc := base64.RawURLEncoding.EncodeToString
	jwk, _ := json.Marshal(jwkOf("", &f.client.PublicKey, ""))
	h := `{"typ":"dpop+jwt","alg":"ES256","jwk":` + string(jwk) + `}`
	p := `{"jti":"dup","htm":"GET","htu":"https://evil.example.com/","htu":"` + dpopURL + `","iat":` +
		jsonInt(testNow.Unix()) + `,"ath":"` + dpop.TokenHash(f.token) + `"}`
	input := enc([]byte(h)) + "." + enc([]byte(p))
	return input + "." + enc(rawSignature(f.t, f.client, jose.ES256, []byte(input)))
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
