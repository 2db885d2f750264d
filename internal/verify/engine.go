package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/keyset"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

// EngineOptions are the engine's external edges. Only KeySet or Fetcher matter for keys:
// without a KeySet, a RemoteKeySet is built for the policy's jwks_uri (or discovery) on Fetcher.
type EngineOptions struct {
	KeySet  jose.KeySet
	Fetcher keyset.Fetcher
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics *Metrics // nil: the engine makes its own (see Engine.Metrics)
	// CacheSize overrides the policy's cache_size; negative disables the cache.
	CacheSize int
	// OnDecision, when set, receives every decision's audit record (the edge writes it as a
	// JSON line). It runs on the request path: keep it quick.
	OnDecision func(AuditRecord)
	// ResultStore, when set, is a second-level result cache shared between processes (the
	// Worker's Workers KV namespace), consulted by Decide after an in-memory miss (store.go).
	ResultStore ResultStore
}

// Engine verifies tokens and decides requests against one policy. Safe for concurrent use.
type Engine struct {
	policy  *policy.Policy
	keys    jose.KeySet
	v       *jose.Verifier // the token checks; the engine adds roles, policy and caching
	now     func() time.Time
	log     *slog.Logger
	metrics *Metrics
	cache   *resultCache
	strip   []string
	audit   func(AuditRecord)
	store   ResultStore
	dpop    *dpopState // nil when the policy's dpop is off
}

// NewEngine validates p and builds an engine. Nothing is fetched until the first token.
func NewEngine(p *policy.Policy, opts EngineOptions) (*Engine, error) {
	if p == nil {
		return nil, errors.New("verify: nil policy")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{policy: p, keys: opts.KeySet, now: opts.Now, log: opts.Logger, metrics: opts.Metrics, audit: opts.OnDecision,
		store: opts.ResultStore}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.metrics == nil {
		e.metrics = &Metrics{}
	}
	if e.keys == nil {
		e.keys = keyset.NewRemoteKeySet(p.JWKSURI, keyset.RemoteOptions{Issuer: p.Issuer, Fetcher: opts.Fetcher,
			Now: e.now, Logger: e.log, Metrics: e.metrics})
	}
	e.v = jose.NewVerifier(e.keys, jose.Config{Issuer: p.Issuer, Audiences: p.Audience, Algorithms: p.Algorithms,
		TokenTypes: p.TokenTypes, Leeway: p.Leeway, Now: e.now, MaxTokenBytes: p.MaxTokenBytes})
	size := p.CacheSize
	if opts.CacheSize != 0 {
		size = opts.CacheSize
	}
	if size > 0 {
		e.cache = newResultCache(size)
	}
	e.strip = p.StripHeaders()
	var err error
	if e.dpop, err = newDPoPState(e); err != nil {
		return nil, err
	}
	return e, nil
}

// Policy returns the engine's validated policy.
func (e *Engine) Policy() *policy.Policy { return e.policy }

// KeySet returns the engine's key set.
func (e *Engine) KeySet() jose.KeySet { return e.keys }

// Metrics returns the engine's counters.
func (e *Engine) Metrics() *Metrics { return e.metrics }

// Ready reports whether the engine holds keys and can verify tokens now.
func (e *Engine) Ready() bool { return e.keys.Ready() }

// Verify checks token completely: structure, header, algorithm, key, signature, then claims
// (iss exact, aud, exp required, nbf/iat with leeway, typ), as jose.Verifier does, and reads the
// policy's roles_claim. The error wraps one of the sentinel errors (jose.ErrSignature,
// jose.ErrExpired via *jose.TokenExpiredError, ...). It does not use the result cache; Decide does.
func (e *Engine) Verify(ctx context.Context, token string) (*jose.Claims, error) {
	c, err := e.v.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	e.fillRoles(c)
	return c, nil
}

// claimsOf decodes the payload of a token whose signature was checked (or whose verified
// payload came back from the result store) and applies the policy's claim rules to it.
func (e *Engine) claimsOf(t *jose.Token) (*jose.Claims, error) {
	c, err := e.v.CheckClaims(t)
	if err != nil {
		return nil, err
	}
	e.fillRoles(c)
	return c, nil
}

// verifySignature runs every JWS step (parse, alg, typ, key, signature) without the claims.
func (e *Engine) verifySignature(ctx context.Context, token string) (*jose.Token, error) {
	return e.v.VerifySignature(ctx, token)
}

// fillRoles reads the policy's roles_claim: a string, a space-free list, or absent.
func (e *Engine) fillRoles(c *jose.Claims) {
	if e.policy.RolesClaim == "" {
		return
	}
	if v, ok := c.Lookup(e.policy.RolesClaim); ok {
		if roles, err := jose.DecodeStringOrList(v); err == nil {
			c.Roles = roles
		}
	}
}

// errorf wraps a sentinel with detail: errorf(jose.ErrHeader, "crit %q not understood", name).
func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}
