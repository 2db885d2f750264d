package login

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/pingedge/pingedge/internal/secret"
)

// defaultAccessTTL is assumed when the issuer says nothing about a token's lifetime (RFC 6749
// §5.1 makes expires_in only RECOMMENDED) and the token is not a JWT with exp: short enough that
// a token revoked at the issuer is not cached for long.
const defaultAccessTTL = 5 * time.Minute

// accessExpiry says when to stop reusing a new access token: expires_in when given, else the
// token's own exp (read without verification, only to schedule a refresh), else defaultAccessTTL.
func accessExpiry(resp *tokenResponse, now time.Time) time.Time {
	if resp.ExpiresIn > 0 {
		return now.Add(resp.ExpiresIn)
	}
	if exp := unverifiedExp(resp.AccessToken); !exp.IsZero() && exp.After(now) {
		return exp
	}
	return now.Add(defaultAccessTTL)
}

func unverifiedExp(tok secret.String) time.Time {
	parts := strings.Split(tok.Reveal(), ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var c struct {
		Exp float64 `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil || c.Exp <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(c.Exp), 0)
}
