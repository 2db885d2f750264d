package tunnel

import (
	"context"
	"errors"
	"time"

	"github.com/pingedge/pingedge/internal/secret"
)

// refreshTimeout bounds one refresh started on behalf of waiting requests, so a request that
// gives up does not cancel the refresh the others wait for.
const refreshTimeout = 30 * time.Second

// run refreshes the held token ahead of expiry until ctx ends: at about 80 % of its lifetime
// (earlier for short-lived tokens), minus jitter, so requests never wait for the issuer and tunnels started together do not refresh
// in lockstep. Failures back off; a lost session waits for a request to find a new login.
func (k *keeper) run(ctx context.Context) {
	var timer *time.Timer
	for {
		wait, ok := k.nextRefresh()
		var fire <-chan time.Time
		if ok {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			stopTimer(timer)
			return
		case <-k.wake:
			stopTimer(timer)
		case <-fire:
			k.proactive(ctx)
		}
	}
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// nextRefresh says how long to wait before the next proactive refresh; ok is false when there is
// nothing to schedule (no token, no expiry, or the session is gone).
func (k *keeper) nextRefresh() (time.Duration, bool) {
	h := k.cur.Load()
	if h == nil || h.tok.Expiry.IsZero() || k.gone.Load() {
		return 0, false
	}
	k.mu.Lock()
	retryAt := k.retryAt
	k.mu.Unlock()
	l := h.lifetime()
	// At 80 % of the lifetime, but for short tokens early enough to be done before requests stop
	// using the token (its last margin), so that requests never wait for the issuer.
	lead := max(time.Duration(float64(l)*(1-refreshAt)), k.margin(h)+l/20)
	at := h.from.Add(l - lead - time.Duration(float64(l)*jitterFrac*h.jitter))
	if retryAt.After(at) {
		at = retryAt
	}
	return max(at.Sub(k.now()), 0), true
}

// proactive asks the source for a token valid for half a lifetime: the held one no longer is, so
// the source refreshes, unless another process or request already did.
func (k *keeper) proactive(ctx context.Context) {
	h := k.cur.Load()
	if wait, ok := k.nextRefresh(); !ok || wait > 0 {
		return // a request refreshed on demand meanwhile; the loop reschedules
	}
	tok, err := k.src.Token(ctx, h.lifetime()/2)
	if err == nil && tok.Value == h.tok.Value {
		err = errors.New("the token source returned the token it was asked to replace")
	}
	if err != nil {
		if ctx.Err() == nil {
			_ = k.failed(err)
		}
		return
	}
	k.store(tok)
}

// forcedRefresh is one forced refresh that every request rejected with the same token waits for.
type forcedRefresh struct {
	rejected secret.String
	done     chan struct{}
	finished time.Time
	tok      secret.AccessToken
	err      error
}

// forceRefresh replaces a token the upstream rejected. Concurrent callers rejected with the same
// token share one refresh; if the upstream also rejects the token that refresh produced within
// k.every, it is not refreshed again (the upstream refuses this identity; refreshing cannot help).
func (k *keeper) forceRefresh(ctx context.Context, rejected secret.String) (secret.AccessToken, error) {
	if h := k.cur.Load(); h != nil && h.tok.Value != rejected && k.usable(h) {
		return h.tok, nil
	}
	f, err := k.joinForced(rejected)
	if err != nil {
		return secret.AccessToken{}, err
	}
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return secret.AccessToken{}, ctx.Err()
	}
}

func (k *keeper) joinForced(rejected secret.String) (*forcedRefresh, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if f := k.forced; f != nil {
		if f.rejected == rejected {
			return f, nil
		}
		select {
		case <-f.done:
			if f.err == nil && f.tok.Value == rejected && k.now().Sub(f.finished) < k.rejectWindow(f.tok) {
				return nil, errRejectedAgain
			}
		default:
			return f, nil // a refresh is under way; its token is newer than either rejected one
		}
	}
	f := &forcedRefresh{rejected: rejected, done: make(chan struct{})}
	k.forced = f
	go k.doForced(f)
	return f, nil
}

// rejectWindow: a token the upstream rejects this soon after a forced refresh produced it is
// refused for a reason a refresh cannot fix. Short-lived tokens get a quarter of their lifetime.
func (k *keeper) rejectWindow(tok secret.AccessToken) time.Duration {
	if l := tok.Expiry.Sub(tok.IssuedAt); !tok.Expiry.IsZero() && !tok.IssuedAt.IsZero() && l/4 < k.every {
		return l / 4
	}
	return k.every
}

func (k *keeper) doForced(f *forcedRefresh) {
	ctx, cancel := context.WithTimeout(k.base, refreshTimeout)
	defer cancel()
	tok, err := k.src.Refresh(ctx, f.rejected)
	switch {
	case err != nil:
		err = k.failed(err)
	case tok.Value == f.rejected:
		err = errors.New("the issuer returned the rejected token again")
	default:
		k.store(tok)
	}
	k.mu.Lock()
	f.tok, f.err, f.finished = tok, err, k.now()
	k.mu.Unlock()
	close(f.done)
}
