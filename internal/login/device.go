package login

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// deviceGrant is RFC 8628 §3.4's grant type.
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// deviceAuth is the device authorization response (RFC 8628 §3.2).
type deviceAuth struct {
	DeviceCode              string       `json:"device_code"`
	UserCode                string       `json:"user_code"`
	VerificationURI         string       `json:"verification_uri"`
	VerificationURIComplete string       `json:"verification_uri_complete"`
	ExpiresIn               flexibleSecs `json:"expires_in"`
	Interval                flexibleSecs `json:"interval"`
}

// maxTransportRetries tolerates a few network blips while the user is typing the code.
const maxTransportRetries = 3

// runDevice runs the device flow: ask for a code, show it on the prompt stream (and open the page
// when a browser can be opened), then poll the token endpoint.
func (l *loginRun) runDevice(ctx context.Context) (*tokenResponse, error) {
	form := url.Values{"client_id": {l.p.ClientID}, "scope": {joinScopes(l.p.Scopes)}}
	if l.p.Resource != "" {
		form.Set("resource", l.p.Resource)
	}
	var da deviceAuth
	if err := postForm(ctx, l.env.HTTP, l.md.DeviceAuthorizationEndpoint, "device authorization", form, &da); err != nil {
		return nil, fmt.Errorf("start the device flow: %w", err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, errors.New("start the device flow: the issuer's answer lacks device_code, user_code or verification_uri")
	}
	l.showDeviceCode(ctx, &da)
	if l.env.OnDeviceCode != nil {
		stop := l.env.OnDeviceCode(DeviceCode{
			UserCode: da.UserCode, VerificationURI: da.VerificationURI,
			VerificationURIComplete: da.VerificationURIComplete, ExpiresAt: l.expiresAt(&da),
		})
		defer stop()
	}
	return l.pollDevice(ctx, &da)
}

// DeviceCode is what the user needs to approve a device-flow login (RFC 8628 §3.3). The user code
// is not a secret on its own (it is shown on screen and useless without the device code).
type DeviceCode struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string    // empty when the issuer gives none
	ExpiresAt               time.Time // zero when the issuer gives no expires_in
}

func (l *loginRun) expiresAt(da *deviceAuth) time.Time {
	if da.ExpiresIn <= 0 {
		return time.Time{}
	}
	return l.env.Now().Add(time.Duration(da.ExpiresIn) * time.Second)
}

func (l *loginRun) showDeviceCode(ctx context.Context, da *deviceAuth) {
	w := l.env.Prompt
	fmt.Fprintf(w, "To sign in, open %s\nand enter the code: %s\n", clean(da.VerificationURI, 500), clean(da.UserCode, 64))
	open := da.VerificationURI
	if da.VerificationURIComplete != "" {
		open = da.VerificationURIComplete
		fmt.Fprintf(w, "(or open %s, which fills in the code)\n", clean(da.VerificationURIComplete, 500))
	}
	if l.canOpen() {
		if err := l.env.Browser.Open(ctx, open); err != nil {
			l.env.Logf("could not open a browser: %v", err)
		}
	}
	fmt.Fprintln(w, "Waiting for you to finish signing in (Ctrl-C to cancel)…")
}

// pollDevice polls at the issuer's interval (RFC 8628 §3.5): authorization_pending means wait,
// slow_down adds 5 seconds to this and every later interval, access_denied and expired_token end
// the flow. It also stops on its own when expires_in has passed.
func (l *loginRun) pollDevice(ctx context.Context, da *deviceAuth) (*tokenResponse, error) {
	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second // RFC 8628 §3.2: the default when interval is absent
	}
	var deadline time.Time
	if da.ExpiresIn > 0 {
		deadline = l.env.Now().Add(time.Duration(da.ExpiresIn) * time.Second)
	}
	form := url.Values{"grant_type": {deviceGrant}, "device_code": {da.DeviceCode}, "client_id": {l.p.ClientID}}
	blips := 0
	for {
		if err := l.env.Sleep(ctx, interval); err != nil {
			return nil, fmt.Errorf("login cancelled: %w", err)
		}
		if !deadline.IsZero() && l.env.Now().After(deadline) {
			return nil, ErrDeviceCodeExpired
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
			interval += 5 * time.Second
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

// SleepContext waits d or until ctx ends; it is the production Env.Sleep.
func SleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
