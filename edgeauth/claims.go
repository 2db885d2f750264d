package edgeauth

import (
	"context"
	"encoding/json"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// Claims are the verified claims of the request's access token.
type Claims struct {
	Subject  string
	Issuer   string
	ClientID string
	Audience []string
	Roles    []string // from the policy's roles_claim
	c        *jose.Claims
}

// Claim unmarshals the claim at path (dots for nested objects, as in the policy's forward
// mapping) into v. It reports false when the token has no such claim.
func (c *Claims) Claim(path string, v any) (bool, error) {
	raw, ok := c.c.Lookup(path)
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

type claimsKey struct{}

func withClaims(ctx context.Context, c *jose.Claims) context.Context {
	if c == nil {
		return ctx // an allow: anyone route: no token was verified
	}
	return context.WithValue(ctx, claimsKey{}, &Claims{Subject: c.Subject, Issuer: c.Issuer, ClientID: c.ClientID,
		Audience: append([]string(nil), c.Audience...), Roles: append([]string(nil), c.Roles...), c: c})
}

// ClaimsFromContext returns the claims Handler verified for this request; false on a route the
// policy opens to anyone (no token is verified there) or outside Handler.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}
