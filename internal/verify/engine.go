package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unsafe"

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
	now     func() time.Time
	log     *slog.Logger
	metrics *Metrics
	cache   *resultCache
	strip   []string
	audit   func(AuditRecord)
	store   ResultStore
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
	size := p.CacheSize
	if opts.CacheSize != 0 {
		size = opts.CacheSize
	}
	if size > 0 {
		e.cache = newResultCache(size)
	}
	e.strip = p.StripHeaders()
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
// (iss exact, aud, exp required, nbf/iat with leeway, typ). The error wraps one of the
// sentinel errors (ErrSignature, ErrExpired via *TokenExpiredError, ...). It does not use the
// result cache; Decide does.
func (e *Engine) Verify(ctx context.Context, token string) (*jose.Claims, error) {
	t, alg, err := e.parseToken(token)
	if err != nil {
		return nil, err
	}
	if err := e.checkSignature(ctx, t, alg); err != nil {
		return nil, err
	}
	return e.claimsOf(t)
}

// claimsOf decodes the payload of a token whose signature was checked (or whose verified
// payload came back from the result store) and applies the policy's claim rules to it.
func (e *Engine) claimsOf(t *jose.Token) (*jose.Claims, error) {
	c, err := jose.ParseClaims(t.Payload)
	if err != nil {
		return nil, err
	}
	c.Header = t.Header
	if err := e.checkClaims(c); err != nil {
		return nil, err
	}
	e.fillRoles(c)
	return c, nil
}

// parseToken runs the JWS steps that need no key: parse, alg, typ, a signature present.
func (e *Engine) parseToken(token string) (*jose.Token, jose.Algorithm, error) {
	t, err := jose.ParseUnverified(token, e.policy.MaxTokenBytes)
	if err != nil {
		return nil, "", err
	}
	alg, err := jose.CheckAlg(t.Header.Alg, e.policy.Algorithms)
	if err != nil {
		return nil, "", err
	}
	if err := jose.CheckTyp(t.Header.Typ, e.policy.TokenTypes); err != nil {
		return nil, "", err
	}
	if len(t.Signature) == 0 {
		return nil, "", errorf(jose.ErrSignature, "signature is missing")
	}
	return t, alg, nil
}

// verifySignature runs every JWS step (parse, alg, typ, key, signature) without the claims.
func (e *Engine) verifySignature(ctx context.Context, token string) (*jose.Token, error) {
	t, alg, err := e.parseToken(token)
	if err != nil {
		return nil, err
	}
	if err := e.checkSignature(ctx, t, alg); err != nil {
		return nil, err
	}
	return t, nil
}

// checkSignature finds the key and checks the signature of a parsed token.
func (e *Engine) checkSignature(ctx context.Context, t *jose.Token, alg jose.Algorithm) error {
	key, err := e.keys.Key(ctx, t.Header.Kid, alg)
	if err != nil {
		return err
	}
	input := unsafe.Slice(unsafe.StringData(t.SigningInput), len(t.SigningInput)) // read-only
	return jose.VerifySignature(alg, key, input, t.Signature)
}

// checkClaims applies the policy to verified claims.
func (e *Engine) checkClaims(c *jose.Claims) error {
	p, now := e.policy, e.now()
	if c.Issuer != p.Issuer {
		return errorf(jose.ErrIssuer, "iss %s is not %s", jose.QuoteShort(c.Issuer), p.Issuer)
	}
	if !audienceMatches(c.Audience, p.Audience) {
		return errorf(jose.ErrAudience, "aud does not contain %s", jose.QuoteShort(p.Audience[0]))
	}
	if !now.Before(c.Expiry.Add(p.Leeway)) {
		return &jose.TokenExpiredError{Expiry: c.Expiry}
	}
	if !c.NotBefore.IsZero() && now.Add(p.Leeway).Before(c.NotBefore) {
		return &jose.TokenNotYetValidError{Claim: "nbf", From: c.NotBefore}
	}
	if !c.IssuedAt.IsZero() && now.Add(p.Leeway).Before(c.IssuedAt) {
		return &jose.TokenNotYetValidError{Claim: "iat", From: c.IssuedAt}
	}
	return nil
}

// audienceMatches compares exactly (RFC 7519 §4.1.3: case-sensitive strings).
func audienceMatches(got, want []string) bool {
	for _, g := range got {
		if jose.ContainsString(want, g) {
			return true
		}
	}
	return false
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
