package keyset

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// RemoteOptions tune a RemoteKeySet. Zero values take the defaults in brackets.
type RemoteOptions struct {
	Issuer   string  // for discovery when the JWKS URL is empty
	Fetcher  Fetcher // [HTTPFetcher]
	Now      func() time.Time
	Logger   *slog.Logger  // [discard]
	Metrics  FetchCounter  // [none]
	Cooldown time.Duration // at most one refetch per cooldown [30s]
	// MinRefresh and MaxRefresh bound Cache-Control max-age [1m, 24h]; DefaultRefresh is used
	// when the response has none [15m].
	MinRefresh, MaxRefresh, DefaultRefresh time.Duration
	// UnknownKidTTL is how long a kid that was not in a fresh set is remembered as unknown [5m].
	UnknownKidTTL time.Duration
}

// RemoteKeySet fetches a JWKS over HTTP and keeps it: refreshed when its max-age runs out and
// when a token names an unknown kid, one fetch at a time, at most one refetch per cooldown,
// unknown kids remembered so a flood of forged kids cannot become a flood of fetches, and the
// keys already held kept when the issuer is down (stale-if-error).
type RemoteKeySet struct {
	url  string
	opts RemoteOptions

	mu        sync.RWMutex
	keys      []*jose.Key
	expires   time.Time // when the held keys should be refreshed
	lastTry   time.Time // last fetch attempt, for the cooldown
	lastErr   error
	unknown   map[string]time.Time
	inflight  *call
	staleSeen bool
}

type call struct {
	done chan struct{}
	err  error
}

const maxUnknownKids = 4096

// NewRemoteKeySet returns a key set for jwksURL; with an empty URL it discovers jwks_uri from
// opts.Issuer's /.well-known/openid-configuration on first use. Nothing is fetched until the
// first Key or Refresh call.
func NewRemoteKeySet(jwksURL string, opts RemoteOptions) *RemoteKeySet {
	if opts.Fetcher == nil {
		opts.Fetcher = defaultFetcher()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	setDefault(&opts.Cooldown, 30*time.Second)
	setDefault(&opts.MinRefresh, time.Minute)
	setDefault(&opts.MaxRefresh, 24*time.Hour)
	setDefault(&opts.DefaultRefresh, 15*time.Minute)
	setDefault(&opts.UnknownKidTTL, 5*time.Minute)
	return &RemoteKeySet{url: jwksURL, opts: opts, unknown: map[string]time.Time{}}
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// Ready implements KeySet.
func (r *RemoteKeySet) Ready() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.keys) > 0
}

// URL returns the JWKS URL (after discovery, if any happened).
func (r *RemoteKeySet) URL() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.url
}

// Key implements KeySet.
func (r *RemoteKeySet) Key(ctx context.Context, kid string, alg jose.Algorithm) (*jose.Key, error) {
	now := r.opts.Now()
	r.mu.RLock()
	keys, fresh := r.keys, now.Before(r.expires)
	r.mu.RUnlock()
	if len(keys) == 0 {
		// Nothing held yet. Checked before PickKey, whose "no key with kid" error would be
		// formatted only to be dropped: in a cold Worker isolate that is the first fmt call,
		// which costs milliseconds there (docs/performance.md, "Where the time went").
		if tried, ferr := r.tryRefresh(ctx, "", now); !tried || ferr != nil {
			return nil, r.unavailable(ferr)
		}
		return r.pick(kid, alg)
	}
	k, err := jose.PickKey(keys, kid, alg)
	switch {
	case err == nil && fresh:
		return k, nil
	case err == nil:
		// Expired: refresh if the cooldown allows; on failure the held keys stay (stale-if-error).
		_, _ = r.tryRefresh(ctx, "", now)
		if k2, err2 := r.pick(kid, alg); err2 == nil {
			return k2, nil
		}
		return k, nil
	}
	// Unknown kid: refetch once per cooldown, never for a kid just found missing. A kid refused
	// only because of the cooldown is not remembered: it may be a key the issuer has just
	// rotated in, and must get its fetch once the cooldown ends.
	if tried, _ := r.tryRefresh(ctx, kid, now); !tried {
		return nil, err
	}
	k, err = r.pick(kid, alg)
	if err != nil && kid != "" {
		r.rememberUnknown(kid, r.opts.Now())
	}
	return k, err
}

func (r *RemoteKeySet) pick(kid string, alg jose.Algorithm) (*jose.Key, error) {
	r.mu.RLock()
	keys := r.keys
	r.mu.RUnlock()
	if len(keys) == 0 {
		return nil, r.unavailable(nil)
	}
	return jose.PickKey(keys, kid, alg)
}

func (r *RemoteKeySet) unavailable(err error) error {
	if err != nil {
		return err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return errorf(jose.ErrKeysUnavailable, "no keys held; last fetch: %v (next try after the %s cooldown)", r.lastErr, r.opts.Cooldown)
}

func (r *RemoteKeySet) rememberUnknown(kid string, now time.Time) {
	if kid == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.unknown) >= maxUnknownKids {
		for k, until := range r.unknown {
			if now.After(until) || len(r.unknown) >= maxUnknownKids {
				delete(r.unknown, k)
			}
		}
	}
	r.unknown[kid] = now.Add(r.opts.UnknownKidTTL)
}

// Refresh fetches the JWKS now, ignoring the cooldown (one fetch at a time: concurrent callers
// wait for the same one). On failure the keys already held stay in use.
func (r *RemoteKeySet) Refresh(ctx context.Context) error {
	r.mu.Lock()
	c := r.startLocked()
	r.mu.Unlock()
	return r.wait(ctx, c)
}

// tryRefresh joins the fetch under way, or starts one if the cooldown since the last attempt
// has passed and kid (when given) is not remembered as unknown. The check and the start happen
// under one lock, so a flood of requests cannot start two fetches. tried reports whether a
// fetch was joined or started.
func (r *RemoteKeySet) tryRefresh(ctx context.Context, kid string, now time.Time) (tried bool, err error) {
	r.mu.Lock()
	c := r.inflight
	if c == nil {
		if until, ok := r.unknown[kid]; kid != "" && ok && now.Before(until) {
			r.mu.Unlock()
			return false, nil
		}
		if !r.lastTry.IsZero() && now.Sub(r.lastTry) < r.opts.Cooldown {
			r.mu.Unlock()
			return false, nil
		}
		c = r.startLocked()
	}
	r.mu.Unlock()
	return true, r.wait(ctx, c)
}

func (r *RemoteKeySet) startLocked() *call {
	if r.inflight != nil {
		return r.inflight
	}
	c := &call{done: make(chan struct{})}
	r.inflight = c
	r.lastTry = r.opts.Now()
	go r.doFetch(c)
	return c
}

func (r *RemoteKeySet) wait(ctx context.Context, c *call) error {
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the JWKS: %w", ctx.Err())
	}
}

// doFetch runs detached from any one request's context, so a cancelled request cannot abort
// the fetch others are waiting for; the Fetcher's own timeout bounds it.
func (r *RemoteKeySet) doFetch(c *call) {
	keys, ttl, err := r.fetch(context.Background())
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	r.inflight = nil
	r.count(func(m FetchCounter) { m.JWKSFetch(err == nil) })
	if err != nil {
		r.lastErr = err
		c.err = err
		if len(r.keys) > 0 {
			r.staleSeen = true
			r.count(FetchCounter.StaleKeys)
			r.opts.Logger.Warn("jwks refresh failed; keeping the keys already held (stale-if-error)",
				"url", r.url, "keys", len(r.keys), "error", err.Error())
		} else {
			r.opts.Logger.Error("jwks fetch failed and no keys are held", "url", r.url, "error", err.Error())
		}
		close(c.done)
		return
	}
	r.keys, r.expires, r.lastErr, r.staleSeen = keys, now.Add(ttl), nil, false
	for kid := range r.unknown {
		if _, err := jose.PickKey(keys, kid, ""); err == nil {
			delete(r.unknown, kid)
		}
	}
	r.opts.Logger.Info("jwks loaded", "url", r.url, "keys", len(keys), "refresh_in", ttl.String())
	close(c.done)
}

func (r *RemoteKeySet) fetch(ctx context.Context) ([]*jose.Key, time.Duration, error) {
	url := r.URL()
	if url == "" {
		if r.opts.Issuer == "" {
			return nil, 0, errorf(jose.ErrKeysUnavailable, "no jwks_uri and no issuer to discover it from")
		}
		p, err := Discover(ctx, r.opts.Fetcher, r.opts.Issuer)
		if err != nil {
			return nil, 0, errorf(jose.ErrKeysUnavailable, "%w", err)
		}
		u := p.JWKSURI
		r.mu.Lock()
		r.url = u
		r.mu.Unlock()
		url = u
	}
	res, err := r.opts.Fetcher.Fetch(ctx, url)
	if err != nil {
		return nil, 0, errorf(jose.ErrKeysUnavailable, "%v", err)
	}
	if res.Status != statusOK {
		return nil, 0, errorf(jose.ErrKeysUnavailable, "GET %s: HTTP %d", url, res.Status)
	}
	keys, err := jose.ParseJWKS(res.Body)
	if err != nil {
		return nil, 0, errorf(jose.ErrKeysUnavailable, "%s: %v", url, err)
	}
	return keys, r.ttl(res.Header), nil
}

// ttl reads Cache-Control max-age (RFC 9111 §5.2.2.1), bounded to [MinRefresh, MaxRefresh].
func (r *RemoteKeySet) ttl(h map[string][]string) time.Duration {
	ttl := r.opts.DefaultRefresh
	for _, d := range strings.Split(headerGet(h, "Cache-Control"), ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		switch {
		case d == "no-store" || d == "no-cache":
			ttl = r.opts.MinRefresh
		case strings.HasPrefix(d, "max-age="):
			if n, err := strconv.Atoi(strings.TrimPrefix(d, "max-age=")); err == nil && n >= 0 {
				ttl = time.Duration(n) * time.Second
			}
		}
	}
	return min(max(ttl, r.opts.MinRefresh), r.opts.MaxRefresh)
}

// KeySetStatus describes a remote set for health checks and logs.
type KeySetStatus struct {
	URL     string
	Keys    int
	Expires time.Time
	Stale   bool   // the last refresh failed and older keys are in use
	LastErr string // the last fetch error, if any
}

// Status returns the set's state.
func (r *RemoteKeySet) Status() KeySetStatus {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := KeySetStatus{URL: r.url, Keys: len(r.keys), Expires: r.expires, Stale: r.staleSeen}
	if r.lastErr != nil {
		s.LastErr = r.lastErr.Error()
	}
	return s
}

// FetchCounter counts the key set's fetches for metrics (the engine's verify.Metrics is one).
type FetchCounter interface {
	JWKSFetch(ok bool) // one fetch, and whether it brought keys
	StaleKeys()        // a refresh failed while older keys stayed in use (stale-if-error)
}

func (r *RemoteKeySet) count(f func(FetchCounter)) {
	if r.opts.Metrics != nil {
		f(r.opts.Metrics)
	}
}

// errorf wraps a sentinel with detail.
func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}
