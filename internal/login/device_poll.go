package login

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Polling bounds (RFC 8628 §3.2 gives 5 s as the default interval and no limits; an issuer that
// asks for 0, a negative number or 1e12 seconds is broken or hostile).
const (
	defaultInterval   = 5 * time.Second
	minInterval       = 1 * time.Second
	maxInterval       = 60 * time.Second
	maxDeviceLifetime = 30 * time.Minute // longest wait for a code, whatever expires_in says
)

// pollInterval bounds the issuer's interval to 1–60 s, in whole seconds before any multiplication
// so a huge value cannot overflow into a tiny one.
func pollInterval(secs flexibleSecs) time.Duration {
	switch {
	case secs <= 0:
		return defaultInterval
	case secs > flexibleSecs(maxInterval/time.Second):
		return maxInterval
	}
	return max(time.Duration(secs)*time.Second, minInterval)
}

// deviceDeadline is when pingedge stops waiting: the code's expiry (RFC 8628 §3.2 expires_in,
// bounded by maxDeviceLifetime) or the caller's timeout, whichever comes first.
func (l *loginRun) deviceDeadline(da *deviceAuth) (deadline, expiry time.Time) {
	life := maxDeviceLifetime
	if da.ExpiresIn > 0 && da.ExpiresIn < flexibleSecs(maxDeviceLifetime/time.Second) {
		life = time.Duration(da.ExpiresIn) * time.Second
	}
	now := l.env.Now()
	expiry = now.Add(life)
	if l.p.Timeout > 0 && l.p.Timeout < life {
		return now.Add(l.p.Timeout), expiry
	}
	return expiry, expiry
}

// pollDevice polls at the issuer's (bounded) interval (RFC 8628 §3.5): authorization_pending
// means wait, slow_down adds 5 seconds to this and every later interval, access_denied and
// expired_token end the flow. It always stops at the deadline, never sleeping past it.
func (l *loginRun) pollDevice(ctx context.Context, da *deviceAuth, deadline, expiry time.Time) (*tokenResponse, error) {
	interval := pollInterval(da.Interval)
	form := url.Values{"grant_type": {deviceGrant}, "device_code": {da.DeviceCode}, "client_id": {l.p.ClientID}}
	blips := 0
	for {
		left := deadline.Sub(l.env.Now())
		if left <= 0 {
			return nil, l.deviceTimeout(deadline, expiry)
		}
		if err := l.env.Sleep(ctx, min(interval, left)); err != nil {
			return nil, fmt.Errorf("login cancelled: %w", err)
		}
		if !l.env.Now().Before(deadline) {
			return nil, l.deviceTimeout(deadline, expiry)
		}
		resp, err := tokenRequest(ctx, l.env.HTTP, l.md.TokenEndpoint, form)
		if err == nil {
			return resp, nil
		}
		var oe *OAuthError
		var te *TransientError
		switch {
		case errors.As(err, &te) && blips < maxTransportRetries:
			blips++
			l.env.Logf("token endpoint unreachable (%v); retrying", te.Err)
			continue
		case !errors.As(err, &oe):
			return nil, err
		}
		blips = 0
		switch oe.Code {
		case "authorization_pending":
		case "slow_down":
			interval = min(interval+5*time.Second, maxInterval)
			l.env.Logf("the issuer asked pingedge to slow down; polling every %s", interval)
		case "access_denied":
			return nil, fmt.Errorf("%w in the browser", ErrAccessDenied)
		case "expired_token":
			return nil, ErrDeviceCodeExpired
		default:
			return nil, fmt.Errorf("device flow: %w", oe)
		}
	}
}

// deviceTimeout says which bound ended the wait: the caller's timeout or the code's expiry.
func (l *loginRun) deviceTimeout(deadline time.Time, expiry time.Time) error {
	if deadline.Before(expiry) {
		return fmt.Errorf("%w after %s", ErrDeviceTimeout, l.p.Timeout)
	}
	return ErrDeviceCodeExpired
}
