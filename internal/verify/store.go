package verify

import (
	"bytes"
	"context"
	"encoding/hex"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// ResultStore is a second-level result cache shared between processes: on Cloudflare, a
// Workers KV namespace, so a cold isolate answers a token another isolate verified without
// fetching the key set or checking the signature again. Keys are the hex SHA-256 of the token
// (never the token); values are the raw claims JSON the token carried. Implementations treat
// every failure as a miss (Get) or a no-op (Put): the store only saves work, it never decides.
type ResultStore interface {
	Get(ctx context.Context, key string) ([]byte, bool)
	// Put stores value for ttl, which is never under MinStoreTTL and never reaches past the
	// token's exp.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration)
}

// MinStoreTTL is the shortest time a result is put in a ResultStore for: Workers KV refuses
// an expirationTtl under 60 s, and a result worth less than that is not worth a write.
const MinStoreTTL = 60 * time.Second

// verifyFresh verifies a token the in-memory cache did not hold. A token that fails the
// key-free checks is refused before the store is asked, so garbage costs no store read.
func (e *Engine) verifyFresh(ctx context.Context, token string, key [32]byte, now time.Time) (*jose.Claims, error) {
	parsed, err := e.v.Parse(token)
	if err != nil {
		return nil, err
	}
	t := parsed.Token()
	if e.store == nil {
		if err := e.v.CheckSignature(ctx, parsed); err != nil {
			return nil, err
		}
		return e.claimsOf(t)
	}
	name := hex.EncodeToString(key[:])
	if c := e.fromStore(ctx, name, t, now); c != nil {
		return c, nil
	}
	if err := e.v.CheckSignature(ctx, parsed); err != nil {
		return nil, err
	}
	c, err := e.claimsOf(t)
	if err != nil {
		return nil, err
	}
	if ttl := min(e.policy.CacheTTL, c.Expiry.Sub(now)); ttl >= MinStoreTTL {
		e.store.Put(ctx, name, t.Payload, ttl)
	}
	return c, nil
}

// fromStore returns the claims stored for the token, or nil on a miss or a refused entry
// (then the token is verified in full). A stored value is accepted only when it is exactly
// the token's own payload (so an entry altered in the store cannot change the claims), it
// passes the policy's claim rules as they are now (iss, aud, exp, nbf, iat: the policy may
// have changed since it was stored, or another deployment shares the namespace), and exp
// lies ahead without the leeway, as for the in-memory cache.
func (e *Engine) fromStore(ctx context.Context, name string, t *jose.Token, now time.Time) *jose.Claims {
	val, ok := e.store.Get(ctx, name)
	if !ok {
		e.metrics.store(false)
		return nil
	}
	c, err := e.storedClaims(t, val, now)
	if err != nil {
		e.metrics.store(false)
		e.log.Debug("verify: stored result refused, checking the signature", "reason", jose.Reason(err))
		return nil
	}
	e.metrics.store(true)
	return c
}

func (e *Engine) storedClaims(t *jose.Token, val []byte, now time.Time) (*jose.Claims, error) {
	if !bytes.Equal(val, t.Payload) {
		return nil, errorf(jose.ErrClaims, "stored result is not this token's payload")
	}
	c, err := e.claimsOf(t)
	if err != nil {
		return nil, err
	}
	if !now.Before(c.Expiry) {
		return nil, &jose.TokenExpiredError{Expiry: c.Expiry}
	}
	return c, nil
}
