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
	if err := l.checkVerificationURIs(&da); err != nil {
		return nil, err
	}
	deadline, expiry := l.deviceDeadline(&da)
	l.showDeviceCode(ctx, &da)
	if l.env.OnDeviceCode != nil {
		stop := l.env.OnDeviceCode(DeviceCode{
			UserCode: da.UserCode, VerificationURI: da.VerificationURI,
			VerificationURIComplete: da.VerificationURIComplete, ExpiresAt: deadline,
		})
		defer stop()
	}
	return l.pollDevice(ctx, &da, deadline, expiry)
}

// DeviceCode is what the user needs to approve a device-flow login (RFC 8628 §3.3). The user code
// is not a secret on its own (it is shown on screen and useless without the device code).
type DeviceCode struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string    // empty when the issuer gives none (or gave an unusable one)
	ExpiresAt               time.Time // when pingedge stops waiting: the code's expiry or --timeout
}

func (l *loginRun) showDeviceCode(ctx context.Context, da *deviceAuth) {
	w := l.env.Prompt
	fmt.Fprintf(w, "To sign in, open %s\nand enter the code: %s\n", clean(da.VerificationURI, 500), clean(da.UserCode, 64))
	open := da.VerificationURI
	if da.VerificationURIComplete != "" {
		open = da.VerificationURIComplete
		fmt.Fprintf(w, "(or open %s, which fills in the code)\n", clean(da.VerificationURIComplete, 500))
	}
	if host, ok := foreignHost(l.md.Issuer, da.VerificationURI); !ok {
		fmt.Fprintf(w, "warning: that page is on %s, not on the issuer's host %s: enter the code only if you know this page belongs to your sign-in service (a phishing page would ask for it)\n",
			clean(host, 200), clean(hostOf(l.md.Issuer), 200))
	}
	if l.canOpen() {
		if err := l.env.Browser.Open(ctx, open); err != nil {
			l.env.Logf("could not open a browser: %v", err)
		}
	}
	fmt.Fprintln(w, "Waiting for you to finish signing in (Ctrl-C to cancel)…")
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
