package login_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/login"
)

const ttl = 5 * time.Minute

func TestRefreshRotatesAndCaches(t *testing.T) {
	h := newHarness(t, devop.Config{AccessTokenTTL: ttl})
	h.login(login.FlowPKCE)
	src := h.source()
	first, _ := src.Token(t.Context(), time.Minute)
	rt1 := h.refreshToken()

	h.clock.Add(ttl) // expired
	tok, err := src.Token(t.Context(), time.Minute)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.Value.Reveal() == first.Value.Reveal() || !tok.Valid(h.clock.Now(), 4*time.Minute) {
		t.Fatal("Token after expiry did not return a fresh token")
	}
	if h.refreshToken() == rt1 {
		t.Error("the rotated refresh token was not saved")
	}
	// Another process (a new Source over the same state) reuses the token: no second refresh.
	if again, _ := h.source().Token(t.Context(), time.Minute); again.Value.Reveal() != tok.Value.Reveal() {
		t.Error("a second Source did not reuse the cached token")
	}
	if st := h.op.Stats(); st.Refreshes != 1 || st.ReusedRefreshTokens != 0 {
		t.Errorf("stats = %+v, want exactly 1 refresh and no reuse", st)
	}
	// The old refresh token is dead at the issuer: rotation really happened.
	if code := refreshWith(t, h, rt1); code != "invalid_grant" {
		t.Errorf("old refresh token answered %q, want invalid_grant", code)
	}
}

// refreshWith sends a refresh_token grant by hand and returns the error code ("" on success).
func refreshWith(t *testing.T, h *harness, rt string) string {
	t.Helper()
	resp, err := http.PostForm(h.op.Issuer()+"/oauth/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {h.op.ClientID()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return ""
	}
	body, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(body), "invalid_grant") {
		return "invalid_grant"
	}
	return string(body)
}

// TestConcurrentTokenCallsRefreshOnce hammers several Sources (as several processes would) from
// many goroutines at each expiry: one refresh per expiry, and never a reused refresh token.
func TestConcurrentTokenCallsRefreshOnce(t *testing.T) {
	h := newHarness(t, devop.Config{AccessTokenTTL: ttl})
	h.login(login.FlowPKCE)
	sources := []*login.Source{h.source(), h.source(), h.source(), h.source()}
	const rounds = 5
	for range rounds {
		h.clock.Add(ttl)
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				if _, err := sources[i%len(sources)].Token(t.Context(), time.Minute); err != nil {
					t.Errorf("Token: %v", err)
				}
			})
		}
		wg.Wait()
	}
	if st := h.op.Stats(); st.Refreshes != rounds || st.ReusedRefreshTokens != 0 {
		t.Errorf("stats = %+v, want %d refreshes and no reused refresh token", st, rounds)
	}
}

func TestForcedRefreshAfter401(t *testing.T) {
	h := newHarness(t, devop.Config{AccessTokenTTL: ttl})
	h.login(login.FlowPKCE)
	src := h.source()
	held, _ := src.Token(t.Context(), 0)
	fresh, err := src.Refresh(t.Context(), held.Value)
	if err != nil || fresh.Value.Reveal() == held.Value.Reveal() {
		t.Fatalf("Refresh(rejected=held) = %v; want a new token", err)
	}
	// A second caller that was rejected with the old token gets the new one without a refresh.
	again, err := h.source().Refresh(t.Context(), held.Value)
	if err != nil || again.Value.Reveal() != fresh.Value.Reveal() {
		t.Fatalf("Refresh(rejected=old) = %v, want the token already held", err)
	}
	if n := h.op.Stats().Refreshes; n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
}

func TestRevokedSessionNeedsLogin(t *testing.T) {
	h := newHarness(t, devop.Config{AccessTokenTTL: ttl})
	h.login(login.FlowPKCE)
	h.op.RevokeUser("alice")
	h.clock.Add(ttl)
	_, err := h.source().Token(t.Context(), time.Minute)
	if !errors.Is(err, login.ErrLoginRequired) {
		t.Fatalf("err = %v, want ErrLoginRequired", err)
	}
	if want := "session expired (profile p)"; err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
}

// TestOutageKeepsRefreshToken: a transient failure is not a reason to drop the session.
func TestOutageKeepsRefreshToken(t *testing.T) {
	h := newHarness(t, devop.Config{AccessTokenTTL: ttl})
	h.login(login.FlowPKCE)
	rt := h.refreshToken()
	h.clock.Add(ttl)
	h.op.SetDown(true)
	_, err := h.source().Token(t.Context(), time.Minute)
	var te *login.TransientError
	if !errors.As(err, &te) || errors.Is(err, login.ErrLoginRequired) {
		t.Fatalf("err = %v, want a transient error that does not ask for a login", err)
	}
	if h.refreshToken() != rt {
		t.Fatal("the refresh token changed during an outage")
	}
	h.op.SetDown(false)
	if _, err := h.source().Token(t.Context(), time.Minute); err != nil {
		t.Fatalf("Token after the outage: %v", err)
	}
}

func TestNotLoggedIn(t *testing.T) {
	h := newHarness(t, devop.Config{})
	_, err := login.NewSource(h.sourceConfig())
	if !errors.Is(err, login.ErrLoginRequired) || !strings.Contains(err.Error(), "not logged in (profile p)") {
		t.Fatalf("err = %v", err)
	}
}

func TestTokenHonoursContext(t *testing.T) {
	h := newHarness(t, devop.Config{AccessTokenTTL: ttl})
	h.login(login.FlowPKCE)
	h.clock.Add(ttl)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.source().Token(ctx, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestMinTTLBeyondLifetimeRefreshesOnce: asking for more than the issuer ever grants gets the
// freshest token, and concurrent callers do not refresh one after another.
func TestMinTTLBeyondLifetimeRefreshesOnce(t *testing.T) {
	h := newHarness(t, devop.Config{AccessTokenTTL: ttl})
	h.login(login.FlowPKCE)
	src := h.source()
	h.clock.Add(time.Second)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := src.Token(t.Context(), 2*time.Hour); err != nil {
				t.Errorf("Token: %v", err)
			}
		})
	}
	wg.Wait()
	if n := h.op.Stats().Refreshes; n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
}
