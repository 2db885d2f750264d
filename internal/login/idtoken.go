package login

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pingedge/pingedge/internal/httpclient"
	"github.com/pingedge/pingedge/internal/secret"
)

// idTokenAlgs are the signature algorithms accepted on ID tokens. Symmetric (HS*) algorithms are
// never accepted: a public client has no secret to share, and accepting them would let a
// token signed with a public key as the HMAC secret pass (the classic algorithm confusion).
var idTokenAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// idTokenLeeway tolerates clock skew between the laptop and the issuer.
const idTokenLeeway = 2 * time.Minute

// Identity is what pingedge keeps from a verified ID token.
type Identity struct {
	Subject  string
	Username string // preferred_username, else email, else name; for display only
	Expiry   time.Time
}

type idClaims struct {
	jwt.Claims
	Nonce             string `json:"nonce"`
	AuthorizedParty   string `json:"azp"`
	PreferredUsername string `json:"preferred_username"`
	Email             string `json:"email"`
	Name              string `json:"name"`
}

// verifyIDToken checks an ID token as OIDC Core §3.1.3.7 requires: signature by a key from the
// issuer's JWKS, iss equal to the issuer, aud containing the client ID, azp (when present) equal to
// it, exp/iat within leeway, and the nonce sent in the authorization request (when one was sent).
func verifyIDToken(ctx context.Context, hc *http.Client, md *Metadata, clientID string, raw secret.String, nonce string, now time.Time) (*Identity, error) {
	if raw.Empty() {
		return nil, errors.New("the issuer sent no ID token: the openid scope is required")
	}
	tok, err := jwt.ParseSigned(raw.Reveal(), algsFor(md))
	if err != nil {
		return nil, fmt.Errorf("ID token: %w", err)
	}
	keys, err := fetchJWKS(ctx, hc, md.JWKSURI)
	if err != nil {
		return nil, err
	}
	var c idClaims
	if err := tok.Claims(pickKey(keys, tok.Headers[0].KeyID), &c); err != nil {
		return nil, fmt.Errorf("ID token signature: %w", err)
	}
	return c.check(md.Issuer, clientID, nonce, now)
}

func (c *idClaims) check(issuer, clientID, nonce string, now time.Time) (*Identity, error) {
	exp := jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{clientID}, Time: now}
	if err := c.ValidateWithLeeway(exp, idTokenLeeway); err != nil {
		return nil, fmt.Errorf("ID token claims: %w", err)
	}
	if c.Expiry == nil || c.Subject == "" {
		return nil, errors.New("ID token claims: exp or sub missing")
	}
	if len(c.Audience) > 1 && c.AuthorizedParty == "" || c.AuthorizedParty != "" && c.AuthorizedParty != clientID {
		return nil, errors.New("ID token claims: azp does not name this client")
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1 {
		return nil, errors.New("ID token nonce does not match the one pingedge sent: a replayed or injected sign-in; try again")
	}
	id := &Identity{Subject: c.Subject, Expiry: c.Expiry.Time()}
	id.Username = firstNonEmpty(c.PreferredUsername, c.Email, c.Name)
	return id, nil
}

// algsFor narrows the accepted algorithms to what the issuer says it signs ID tokens with.
func algsFor(md *Metadata) []jose.SignatureAlgorithm {
	var out []jose.SignatureAlgorithm
	for _, a := range idTokenAlgs {
		if len(md.IDTokenSigningAlgs) == 0 || slices.Contains(md.IDTokenSigningAlgs, string(a)) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return idTokenAlgs
	}
	return out
}

// pickKey returns the key set itself (go-jose then selects by kid), or the only key when the
// token has no kid and the set holds one signing key.
func pickKey(keys *jose.JSONWebKeySet, kid string) any {
	if kid == "" {
		var sig []jose.JSONWebKey
		for _, k := range keys.Keys {
			if k.Use == "" || k.Use == "sig" {
				sig = append(sig, k)
			}
		}
		if len(sig) == 1 {
			return sig[0]
		}
	}
	return keys
}

func fetchJWKS(ctx context.Context, hc *http.Client, uri string) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	resp, err := httpclient.Enforce(hc).Do(req)
	if err != nil {
		return nil, requestError(ctx, "jwks", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: %s answered HTTP %d", uri, resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(&set); err != nil {
		return nil, fmt.Errorf("jwks: %s: %w", uri, jsonErr(err))
	}
	return &set, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
