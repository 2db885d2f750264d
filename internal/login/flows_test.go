package login_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/login"
)

func TestPKCELoginEndToEnd(t *testing.T) {
	h := newHarness(t, devop.Config{})
	res := h.login(login.FlowPKCE)
	if err := <-h.browser.done; err != nil {
		t.Fatalf("browser: %v", err)
	}
	if res.Subject != "alice" || res.Username == "" || res.Flow != login.FlowPKCE {
		t.Errorf("result = %+v, want subject alice via pkce", res)
	}
	if got := h.op.Stats().AuthCodeExchanges; got != 1 {
		t.Errorf("code exchanges = %d, want 1", got)
	}
	assertSavedSession(t, h)
	auth := h.browser.visited[0]
	for _, want := range []string{"code_challenge_method=S256", "redirect_uri=http%3A%2F%2F127.0.0.1%3A", "nonce=", "state=", "offline_access"} {
		if !strings.Contains(auth, want) {
			t.Errorf("authorize URL lacks %q", want)
		}
	}
	if len(h.browser.codes()) != 1 {
		t.Fatalf("browser carried %d codes, want 1", len(h.browser.codes()))
	}
	assertNoSecrets(t, map[string]string{"prompt+log": h.out.String(), "devop log": h.opLog.String(), "op library log": defaultLog.String()},
		h.refreshToken(), h.source().Session().Access.Value.Reveal(), h.browser.codes()[0])
}

// assertSavedSession checks what a login leaves behind: the refresh token in the store, and a
// 0600 session file with a cached access token that a new Source reuses without the issuer.
func assertSavedSession(t *testing.T, h *harness) {
	t.Helper()
	if h.refreshToken() == "" {
		t.Fatal("no refresh token stored")
	}
	st, err := os.Stat(filepath.Join(h.state, "sessions", "p.json"))
	if err != nil {
		t.Fatalf("session file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("session file mode %v, want 0600", st.Mode().Perm())
	}
	before := h.op.Stats().TokenRequests
	tok, err := h.source().Token(t.Context(), time.Minute)
	if err != nil || tok.Value.Empty() {
		t.Fatalf("Token after login: %v", err)
	}
	if h.op.Stats().TokenRequests != before {
		t.Error("the cached access token was not reused: the issuer was asked again")
	}
}

func TestDeviceLoginEndToEnd(t *testing.T) {
	h := newHarness(t, devop.Config{})
	h.op.SetLoginUser("bob")
	res := h.login(login.FlowDevice)
	if res.Subject != "bob" || res.Flow != login.FlowDevice {
		t.Errorf("result = %+v, want bob via device", res)
	}
	out := h.out.String()
	if !strings.Contains(out, "enter the code: ") || !strings.Contains(out, "fills in the code") {
		t.Errorf("prompt lacks the user code or verification_uri_complete:\n%s", out)
	}
	if w := h.sleeper.Waits(); len(w) == 0 || w[0] != time.Second {
		t.Errorf("polling waits %v, want devop's interval of 1s first", w)
	}
	assertSavedSession(t, h)
}

// TestDeviceFlowWithoutBrowser approves the code the way a person on another device would:
// reading it from the prompt.
func TestDeviceFlowWithoutBrowser(t *testing.T) {
	h := newHarness(t, devop.Config{})
	env := h.env()
	env.CanOpenBrowser = false
	env.Sleep = func(ctx context.Context, d time.Duration) error {
		if code := userCode(h.out.String()); code != "" {
			_ = h.op.ApproveDevice(code, "alice")
		}
		return h.sleeper.Sleep(ctx, d)
	}
	res, err := login.Login(t.Context(), h.params(login.FlowAuto), env)
	if err != nil {
		t.Fatalf("login: %v\n%s", err, h.out.String())
	}
	if res.Flow != login.FlowDevice {
		t.Errorf("auto without a browser chose %s, want device", res.Flow)
	}
	if len(h.browser.visited) != 0 {
		t.Error("a browser was opened although none can be")
	}
}

func userCode(prompt string) string {
	_, after, ok := strings.Cut(prompt, "enter the code: ")
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(after, "\n")
	return code
}

// TestDeviceFlowErrors covers every RFC 8628 §3.5 token-endpoint error.
func TestDeviceFlowErrors(t *testing.T) {
	tests := []struct {
		inject  string
		times   int
		wantErr error
		waits   []time.Duration // the polling intervals, in order
	}{
		{"authorization_pending", 2, nil, []time.Duration{time.Second, time.Second, time.Second}},
		{"slow_down", 2, nil, []time.Duration{time.Second, 6 * time.Second, 11 * time.Second}},
		{"access_denied", 1, login.ErrAccessDenied, []time.Duration{time.Second}},
		{"expired_token", 1, login.ErrDeviceCodeExpired, []time.Duration{time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.inject, func(t *testing.T) {
			h := newHarness(t, devop.Config{})
			h.op.InjectDeviceTokenError(tt.inject, tt.times)
			// The sleeper does not wait, so without this gate the polls race the scripted
			// browser's approval and a busy machine sees extra authorization_pending rounds.
			h.sleeper.before = sync.OnceFunc(func() {
				select {
				case <-h.browser.done:
				case <-time.After(20 * time.Second):
					t.Error("the browser never finished the device approval")
				}
			})
			_, err := login.Login(t.Context(), h.params(login.FlowDevice), h.env())
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := h.sleeper.Waits(); !equalDurations(got, tt.waits) {
				t.Errorf("waits = %v, want %v", got, tt.waits)
			}
		})
	}
}

func TestDeviceFlowDeniedByUser(t *testing.T) {
	h := newHarness(t, devop.Config{})
	env := h.env()
	env.CanOpenBrowser = false
	env.Sleep = func(ctx context.Context, d time.Duration) error {
		_ = h.op.DenyDevice(userCode(h.out.String()))
		return h.sleeper.Sleep(ctx, d)
	}
	_, err := login.Login(t.Context(), h.params(login.FlowDevice), env)
	if !errors.Is(err, login.ErrAccessDenied) {
		t.Fatalf("err = %v, want access denied", err)
	}
}

// TestDeviceCodeExpiresLocally: nobody approves; pingedge stops at expires_in on its own.
func TestDeviceCodeExpiresLocally(t *testing.T) {
	h := newHarness(t, devop.Config{DeviceCodeTTL: 10 * time.Second})
	env := h.env()
	env.CanOpenBrowser = false
	_, err := login.Login(t.Context(), h.params(login.FlowDevice), env)
	if !errors.Is(err, login.ErrDeviceCodeExpired) {
		t.Fatalf("err = %v, want expired", err)
	}
	if n := len(h.sleeper.Waits()); n < 9 || n > 12 {
		t.Errorf("polled %d times within a 10s code at 1s intervals", n)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPKCENoBrowserPrintsURL: with --no-browser the URL goes to the prompt; the person opens it.
func TestPKCENoBrowserPrintsURL(t *testing.T) {
	h := newHarness(t, devop.Config{})
	p := h.params(login.FlowPKCE)
	p.NoBrowser = true
	go func() {
		for range 500 {
			if _, after, ok := strings.Cut(h.out.String(), "sign in:\n\n  "); ok {
				u, _, _ := strings.Cut(after, "\n")
				_ = h.browser.Open(context.Background(), u)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if _, err := login.Login(t.Context(), p, h.env()); err != nil {
		t.Fatalf("login: %v\n%s", err, h.out.String())
	}
	if !strings.Contains(h.out.String(), "Open this URL in a browser") {
		t.Errorf("prompt:\n%s", h.out.String())
	}
}
