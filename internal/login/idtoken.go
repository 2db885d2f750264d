package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/pingedge/pingedge/internal/httpclient"
	"github.com/pingedge/pingedge/internal/secret"
	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/keyset"
)

// idTokenTypes are the typ values accepted on ID tokens: "JWT" or none (OIDC Core §2 sets no typ).
// at+jwt is refused, so an access token cannot be replayed as an ID token (RFC 9068 §4).
var idTokenTypes = []string{"JWT", ""}

// idTokenLeeway tolerates clock skew between the laptop and the issuer.
const idTokenLeeway = 2 * time.Minute

// Identity is what pingedge keeps from a verified ID token.
type Identity struct {
	Subject  string
	Username string // preferred_username, else email, else name; for display only
	Expiry   time.Time
}

// verifyIDToken checks an ID token as OIDC Core §3.1.3.7 requires: signature by a key from the
// issuer's JWKS, iss equal to the issuer, aud containing the client ID, azp (when present) equal to
// it, exp/iat within leeway, and the nonce sent in the authorization request (when one was sent).
//
// The token is checked by the edge's own verifier (internal/verify/jose) over the edge's key set
// (internal/verify/keyset), so login accepts exactly the algorithms and keys the edge accepts:
// no ES512, no RSA key under 2048 bits, no symmetric algorithm, never none.
func verifyIDToken(ctx context.Context, hc *http.Client, md *Metadata, clientID string, raw secret.String, nonce string, now time.Time) (*Identity, error) {
	if raw.Empty() {
		return nil, errors.New("the issuer sent no ID token: the openid scope is required")
	}
	keys := keyset.NewRemoteKeySet(md.JWKSURI, keyset.RemoteOptions{
		Fetcher: &keyset.HTTPFetcher{Client: httpclient.Enforce(hc), Timeout: 30 * time.Second}, Now: func() time.Time { return now },
	})
	v := jose.NewVerifier(keys, jose.Config{Issuer: md.Issuer, Audiences: []string{clientID}, Algorithms: algsFor(md),
		TokenTypes: idTokenTypes, Leeway: idTokenLeeway, Now: func() time.Time { return now }})
	tok, err := v.VerifySignature(ctx, raw.Reveal())
	if err != nil {
		switch jose.Kind(err) {
		case "unknown_key", "key_mismatch", "signature", "keys_unavailable":
			return nil, fmt.Errorf("ID token signature: %w", err)
		}
		return nil, fmt.Errorf("ID token: %w", err)
	}
	c, err := v.CheckClaims(tok)
	if err != nil {
		return nil, fmt.Errorf("ID token claims: %w", err)
	}
	return checkIDClaims(c, clientID, nonce)
}

// checkIDClaims adds what OIDC Core §3.1.3.7 asks of an ID token beyond a JWT: sub, azp and nonce.
func checkIDClaims(c *jose.Claims, clientID, nonce string) (*Identity, error) {
	if c.Subject == "" {
		return nil, errors.New("ID token claims: exp or sub missing")
	}
	azp := stringClaim(c, "azp")
	if len(c.Audience) > 1 && azp == "" || azp != "" && azp != clientID {
		return nil, errors.New("ID token claims: azp does not name this client")
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(stringClaim(c, "nonce")), []byte(nonce)) != 1 {
		return nil, errors.New("ID token nonce does not match the one pingedge sent: a replayed or injected sign-in; try again")
	}
	id := &Identity{Subject: c.Subject, Expiry: c.Expiry}
	id.Username = firstNonEmpty(stringClaim(c, "preferred_username"), stringClaim(c, "email"), stringClaim(c, "name"))
	return id, nil
}

// stringClaim is a string claim's value, or "" when absent or not a string.
func stringClaim(c *jose.Claims, name string) string {
	var s string
	if raw, ok := c.Lookup(name); ok {
		_ = jose.DecodeString(raw, &s)
	}
	return s
}

// algsFor narrows the verifier's algorithms to what the issuer says it signs ID tokens with.
func algsFor(md *Metadata) []jose.Algorithm {
	var out []jose.Algorithm
	for _, a := range jose.SupportedAlgorithms {
		if len(md.IDTokenSigningAlgs) == 0 || slices.Contains(md.IDTokenSigningAlgs, string(a)) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return jose.SupportedAlgorithms
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
