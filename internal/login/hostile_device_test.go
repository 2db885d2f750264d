package login_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/hostileop"
	"github.com/pingedge/pingedge/internal/login"
)

// openRecorder is a browser that records what it was asked to open.
type openRecorder struct {
	mu     sync.Mutex
	opened []string
}

func (o *openRecorder) Open(_ context.Context, u string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.opened = append(o.opened, u)
	return nil
}

func (o *openRecorder) list() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.opened...)
}

// deviceLogin runs a device-flow login that may open a browser.
func (h *hostile) deviceLogin(browser login.Browser, timeout time.Duration) error {
	p := h.params(login.FlowDevice)
	p.NoBrowser, p.Timeout = false, timeout
	_, err := login.Login(h.t.Context(), p, h.env(h.hc, browser))
	return err
}

// TestHostileVerificationURIs: the opener only ever gets https (or loopback http) URLs that
// cannot be read as options; a page on another host than the issuer's is flagged in the prompt.
func TestHostileVerificationURIs(t *testing.T) {
	for _, tc := range []struct {
		name, uri, complete string
		wantErr, wantWarn   string
		wantOpen            string // "" = nothing opened
	}{
		{name: "smb", uri: "smb://evil.example/share", wantErr: "not an https URL"},
		{name: "file", uri: "file:///etc/passwd", wantErr: "not an absolute web URL"},
		{name: "option", uri: "--help", wantErr: "starts with '-'"},
		{name: "option with space", uri: " -a evil", wantErr: "starts with '-'"},
		{name: "plain http elsewhere", uri: "http://evil.example/device", wantErr: "not an https URL"},
		{name: "javascript", uri: "javascript:alert(1)", wantErr: "not an absolute web URL"},
		{name: "other host", uri: "https://login.evil.example/device", wantWarn: "not on the issuer's host", wantOpen: "https://login.evil.example/device"},
		{name: "complete is an option", uri: "ISSUER/device", complete: "--new-window=smb://x", wantWarn: "ignoring the issuer's verification_uri_complete", wantOpen: "ISSUER/device"},
		{name: "complete on other host", uri: "ISSUER/device", complete: "https://evil.example/d?c=1", wantWarn: "another host", wantOpen: "ISSUER/device"},
		{name: "good", uri: "ISSUER/device", complete: "ISSUER/device?c=1", wantOpen: "ISSUER/device?c=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHostile(t, hostileop.Config{})
			// The provider's own URL is known only once it listens.
			fill := func(s string) string { return strings.ReplaceAll(s, "ISSUER", h.op.Issuer()) }
			h.op.SetDeviceURIs(fill(tc.uri), fill(tc.complete))
			rec := &openRecorder{}
			err := h.deviceLogin(rec, 0)
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			case tc.wantErr == "" && err != nil:
				t.Fatalf("login: %v\n%s", err, h.out.String())
			}
			opened := rec.list()
			if want := fill(tc.wantOpen); want == "" && len(opened) > 0 || want != "" && (len(opened) != 1 || opened[0] != want) {
				t.Fatalf("opened %q, want %q", opened, want)
			}
			if tc.wantWarn != "" && !strings.Contains(h.out.String(), tc.wantWarn) {
				t.Fatalf("prompt lacks %q:\n%s", tc.wantWarn, h.out.String())
			}
			if tc.wantWarn == "" && strings.Contains(h.out.String(), "warning:") {
				t.Fatalf("unexpected warning:\n%s", h.out.String())
			}
		})
	}
}

// TestHostileIntervals: whatever interval and expires_in the issuer sends, pingedge polls every
// 1–60 s and stops at expires_in (or --timeout), never polling forever or in a tight loop.
func TestHostileIntervals(t *testing.T) {
	for _, tc := range []struct {
		interval, expires string
		timeout           time.Duration
		wantWait          time.Duration // every wait but the last (which may be cut by the deadline)
		wantLife          time.Duration // how long (fake time) pingedge waited in total
	}{
		{interval: "0", expires: "60", wantWait: 5 * time.Second, wantLife: time.Minute},
		{interval: "-5", expires: "60", wantWait: 5 * time.Second, wantLife: time.Minute},
		{interval: "1e12", expires: "600", wantWait: time.Minute, wantLife: 10 * time.Minute},
		{interval: "9223372036", expires: "600", wantWait: time.Minute, wantLife: 10 * time.Minute},
		{interval: "0.3", expires: "30", wantWait: 5 * time.Second, wantLife: 30 * time.Second},
		{interval: "2", expires: "1e12", timeout: 10 * time.Second, wantWait: 2 * time.Second, wantLife: 10 * time.Second},
		{interval: "3", expires: "-1", wantWait: 3 * time.Second, wantLife: 30 * time.Minute},
		{interval: "1", expires: "1e12", wantWait: time.Second, wantLife: 30 * time.Minute},
	} {
		t.Run(tc.interval+"/"+tc.expires, func(t *testing.T) {
			h := newHostile(t, hostileop.Config{Interval: tc.interval, ExpiresIn: tc.expires, PendingPolls: -1})
			p := h.params(login.FlowDevice)
			p.Timeout = tc.timeout
			start := h.clock.Now()
			_, err := login.Login(t.Context(), p, h.env(h.hc, nil))
			if !errors.Is(err, login.ErrDeviceCodeExpired) && !(tc.timeout > 0 && errors.Is(err, login.ErrDeviceTimeout)) {
				t.Fatalf("err = %v", err)
			}
			waits := h.sl.Waits()
			for i, w := range waits {
				if w < time.Second && i < len(waits)-1 || w > time.Minute || i < len(waits)-1 && w != tc.wantWait {
					t.Fatalf("wait %d is %s (want %s)", i, w, tc.wantWait)
				}
			}
			if got := h.clock.Now().Sub(start); got != tc.wantLife {
				t.Fatalf("waited %s in all, want %s (%d polls)", got, tc.wantLife, len(waits))
			}
			if polls := h.op.Hits("token"); polls > len(waits) || polls > 2000 {
				t.Fatalf("%d polls for %d waits", polls, len(waits))
			}
		})
	}
}
