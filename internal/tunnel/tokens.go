package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
	"github.com/pingedge/pingedge/internal/secret"
)

// TokenSource is what the tunnel needs from a login session. login.Source satisfies it; the
// tunnel declares it here so it does not depend on the login package (docs/architecture.md, "Import rules").
type TokenSource interface {
	// Token returns a token valid for at least minTTL, refreshing when needed, one refresh at a time.
	Token(ctx context.Context, minTTL time.Duration) (secret.AccessToken, error)
	// Refresh forces a refresh unless the held token already differs from rejected.
	Refresh(ctx context.Context, rejected secret.String) (secret.AccessToken, error)
}

var (
	// ErrSessionGone means the login session ended (revoked, expired, logged out): only a new
	// `pingedge login` helps. The tunnel answers 401 and keeps polling for a new login.
	ErrSessionGone = errors.New("login session ended")
	// ErrIssuerUnavailable means no valid token is held and the issuer could not be reached.
	ErrIssuerUnavailable = errors.New("issuer unavailable")

	errRejectedAgain = errors.New("upstream rejected a freshly refreshed token")
)

const (
	maxBackoff   = 30 * time.Second
	firstBackoff = 500 * time.Millisecond
	loginProbe   = time.Second // how often a request may look for a new login while the session is gone
	refreshAt    = 0.8         // proactive refresh at this fraction of the lifetime…
	jitterFrac   = 0.05        // …minus up to this fraction, so tunnels started together spread out
)

// held is the current token and when it was first seen (IssuedAt may be zero).
type held struct {
	tok    secret.AccessToken
	from   time.Time
	jitter float64 // in [0,1): how far ahead of 80 % of the lifetime this token is refreshed
	cred   credential
}

// credential is what a request carries, computed once per token rather than once per request
// (a JWT is about a kilobyte): the Authorization value and, with DPoP, the token's hash for
// every proof's ath (RFC 9449 §4.2).
type credential struct {
	authz string // "Bearer <token>" or "DPoP <token>"
	ath   string // base64url(SHA-256(token)) with DPoP, else ""
}

func (h *held) tokExpiry() time.Time {
	if h == nil {
		return time.Time{}
	}
	return h.tok.Expiry
}

func (h *held) lifetime() time.Duration {
	if h == nil || h.tok.Expiry.IsZero() {
		return 0
	}
	return h.tok.Expiry.Sub(h.from)
}

// keeper holds the token the tunnel attaches. The hot path is one atomic load and a clock read;
// refreshes happen in the background ahead of expiry, on demand when the held token is too old,
// and forced when the upstream rejects it.
type keeper struct {
	scheme  string // "Bearer " or "DPoP " (dpop.go)
	src     TokenSource
	now     func() time.Time
	isLogin func(error) bool
	log     *slog.Logger
	minTTL  time.Duration
	jitter  func() float64
	every   time.Duration   // least time between forced refreshes that the upstream keeps rejecting
	base    context.Context // the tunnel's lifetime; forced refreshes run under it

	cur  atomic.Pointer[held]
	gone atomic.Bool
	wake chan struct{}

	mu      sync.Mutex
	retryAt time.Time // no on-demand attempt before this (issuer down or session gone)
	backoff time.Duration
	forced  *forcedRefresh
}

// margin is how long a token must still be valid when a request leaves with it: MinTTL, or a
// quarter of a short token's lifetime. The request's own transit, and an issuer whose expires_in
// runs a little past the token's exp, eat into it; for short tokens this is what keeps an
// expired token from ever reaching the upstream.
func (k *keeper) margin(h *held) time.Duration {
	if l := h.lifetime(); l > 0 && l/4 < k.minTTL {
		return l / 4
	}
	return k.minTTL
}

func (k *keeper) usable(h *held) bool {
	return h != nil && h.tok.Valid(k.now(), k.margin(h))
}

// authorization is the credential for one request: the held one when it is usable (the hot
// path: an atomic load, a clock read, no allocation), else a fetched token's.
func (k *keeper) authorization(ctx context.Context) (credential, error) {
	if h := k.cur.Load(); k.usable(h) && !k.gone.Load() {
		return h.cred, nil
	}
	tok, err := k.fetch(ctx)
	if err != nil {
		return credential{}, err
	}
	return k.credential(tok), nil
}

// credential builds tok's Authorization value, and its ath when the tunnel signs DPoP proofs.
func (k *keeper) credential(tok secret.AccessToken) credential {
	c := credential{authz: k.scheme + tok.Value.Reveal()}
	if k.scheme == dpopScheme {
		c.ath = dpopkey.TokenHash(tok.Value.Reveal())
	}
	return c
}

func (k *keeper) fetch(ctx context.Context) (secret.AccessToken, error) {
	h := k.cur.Load()
	if err := k.mayAttempt(); err != nil {
		return k.fallback(h, err)
	}
	var minTTL time.Duration
	if h != nil {
		minTTL = k.margin(h)
	}
	tok, err := k.src.Token(ctx, minTTL)
	if err != nil {
		return k.fallback(h, k.failed(err))
	}
	if h != nil && tok.Value == h.tok.Value && k.gone.Load() {
		return secret.AccessToken{}, ErrSessionGone // the old session's token, not a new login
	}
	k.store(tok)
	return tok, nil
}

// fallback keeps using the held token while it is still valid at all: an issuer outage must not
// drop requests that the upstream would still accept.
func (k *keeper) fallback(h *held, err error) (secret.AccessToken, error) {
	if h != nil && h.tok.Valid(k.now(), 0) && !errors.Is(err, ErrSessionGone) {
		return h.tok, nil
	}
	return secret.AccessToken{}, err
}

func (k *keeper) mayAttempt() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.now().Before(k.retryAt) {
		if k.gone.Load() {
			return ErrSessionGone
		}
		return fmt.Errorf("%w: retrying in %s", ErrIssuerUnavailable, k.retryAt.Sub(k.now()).Round(100*time.Millisecond))
	}
	return nil
}

// failed records a failed refresh and classifies it. A lost session is logged once per loss.
func (k *keeper) failed(err error) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.isLogin(err) {
		k.retryAt = k.now().Add(loginProbe)
		if k.gone.CompareAndSwap(false, true) {
			k.log.Warn("login session ended; requests get 401 until you log in again", "error", err)
		}
		return fmt.Errorf("%w: %w", ErrSessionGone, err)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	k.backoff = min(max(2*k.backoff, firstBackoff), k.maxBackoff())
	k.retryAt = k.now().Add(k.backoff)
	k.log.Warn("token refresh failed; keeping the current token while it is valid", "retry_in", k.backoff, "error", err)
	return fmt.Errorf("%w: %w", ErrIssuerUnavailable, err)
}

// maxBackoff caps retries at 30s, or at a quarter of a short token's lifetime, so an outage
// shorter than the lifetime is noticed before the held token runs out.
func (k *keeper) maxBackoff() time.Duration {
	if l := k.cur.Load().lifetime(); l > 0 && l/4 < maxBackoff {
		return max(l/4, firstBackoff)
	}
	return maxBackoff
}

// store makes tok current unless it is already held or older, and wakes the refresher.
func (k *keeper) store(tok secret.AccessToken) {
	from := tok.IssuedAt
	if from.IsZero() {
		from = k.now()
	}
	for {
		old := k.cur.Load()
		older := tok.Expiry.Before(old.tokExpiry()) && !k.gone.Load() // a new login always wins
		if old != nil && (old.tok.Value == tok.Value || older) {
			return
		}
		h := &held{tok: tok, from: from, jitter: k.jitter(), cred: k.credential(tok)}
		if k.cur.CompareAndSwap(old, h) {
			break
		}
	}
	k.mu.Lock()
	k.backoff, k.retryAt = 0, time.Time{}
	k.mu.Unlock()
	if k.gone.CompareAndSwap(true, false) {
		k.log.Info("new login picked up; forwarding requests again")
	}
	select {
	case k.wake <- struct{}{}:
	default:
	}
}
