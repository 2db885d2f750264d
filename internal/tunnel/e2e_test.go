package tunnel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/tunnel"
)

// TestMain keeps what zitadel/oidc (inside devop) logs through slog.Default out of the test
// output; the provider's refusals after a revocation are expected here.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}

// e2e is a real login against the in-process OpenID provider, and an upstream that verifies every
// token it receives against the provider's JWKS.
type e2e struct {
	t     *testing.T
	op    *devop.Server
	store credstore.Store
	state string
	keys  jose.JSONWebKeySet

	mu     sync.Mutex
	seen   map[string]bool // distinct tokens the upstream accepted
	denied []string        // why the upstream refused tokens
}

func newE2E(t *testing.T, ttl time.Duration) *e2e {
	t.Helper()
	op, err := devop.Start(t.Context(), devop.Config{AccessTokenTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Close() })
	e := &e2e{t: t, op: op, store: &credstore.Keychain{Backend: credstore.NewMemoryBackend()},
		state: t.TempDir(), seen: map[string]bool{}}
	e.fetchJWKS()
	return e
}

func (e *e2e) fetchJWKS() {
	req, _ := http.NewRequestWithContext(e.t.Context(), "GET", e.op.JWKSURI(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &e.keys); err != nil || len(e.keys.Keys) == 0 {
		e.t.Fatalf("jwks: %v %s", err, b)
	}
}

// login signs in with PKCE, a scripted browser walking devop's auto-login page.
func (e *e2e) login() { e.loginWith(&http.Client{Timeout: 10 * time.Second}) }

// loginWith is login with a given HTTP client (the DPoP tests pass the DPoP transport).
func (e *e2e) loginWith(httpc *http.Client) {
	e.t.Helper()
	browser := login.BrowserFunc(func(ctx context.Context, u string) error {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
		go func() {
			if resp, err := c.Get(u); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		return nil
	})
	_, err := login.Login(e.t.Context(), login.Params{
		Profile: "p", Issuer: e.op.Issuer(), ClientID: e.op.ClientID(), Flow: login.FlowPKCE, Timeout: 20 * time.Second,
	}, login.Env{
		HTTP: httpc, Now: time.Now, Sleep: login.SleepContext,
		Browser: browser, CanOpenBrowser: true, Prompt: io.Discard, Store: e.store, StateDir: e.state,
	})
	if err != nil {
		e.t.Fatalf("login: %v", err)
	}
}

func (e *e2e) source() *login.Source {
	e.t.Helper()
	s, err := login.NewSource(login.SourceConfig{Profile: "p", StateDir: e.state, Store: e.store,
		HTTP: &http.Client{Timeout: 5 * time.Second}, Now: time.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// upstream is an API that accepts only tokens signed by the provider, issued by it and not expired.
func (e *e2e) upstream() string {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if err := e.check(raw); err != nil {
			e.mu.Lock()
			e.denied = append(e.denied, err.Error())
			e.mu.Unlock()
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "ok")
	}), ReadHeaderTimeout: 5 * time.Second}
	ln, err := tunnel.Listen("127.0.0.1:0", false)
	if err != nil {
		e.t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	e.t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func (e *e2e) check(raw string) error {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256})
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	var claims jwt.Claims
	if err := tok.Claims(e.keys, &claims); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: e.op.Issuer(), Time: time.Now()}, 0); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	e.mu.Lock()
	e.seen[raw] = true
	e.mu.Unlock()
	return nil
}

func (e *e2e) startTunnel(ctx context.Context, src tunnel.TokenSource, up string, logs io.Writer) string {
	e.t.Helper()
	tun, err := tunnel.New(tunnel.Options{
		Source: src, Routes: []tunnel.Route{mustRoute(e.t, "/", up)}, Profile: "p",
		IsLoginRequired: func(err error) bool { return errors.Is(err, login.ErrLoginRequired) },
		Logger:          slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	ln, err := tunnel.Listen("127.0.0.1:0", false)
	if err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tun.Serve(ctx, ln) }()
	e.t.Cleanup(func() {
		if err := <-done; err != nil {
			e.t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func mustRoute(t *testing.T, prefix, u string) tunnel.Route {
	r, err := tunnel.NewRoute(prefix, u)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// hammer sends requests from n workers through the tunnels until d has passed, and reports every
// status other than 200.
func hammer(t *testing.T, urls []string, n int, d time.Duration) (total int64, failures []string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	var count atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				resp, err := client.Get(urls[i%len(urls)] + "/api/items")
				count.Add(1)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%d %s", resp.StatusCode, b))
					mu.Unlock()
				}
				time.Sleep(5 * time.Millisecond) // a client's think time, so 2 cores are not saturated

			}
		})
	}
	wg.Wait()
	return count.Load(), failures
}

// TestEndToEndConcurrentRequestsAcrossExpiries: 200 concurrent clients through two tunnels (two
// token sources on one profile, as two processes would be) for several token lifetimes. Every
// request succeeds, every token the upstream sees verifies and is unexpired, the issuer sees about
// one refresh per lifetime, and no refresh token is ever presented twice.
func TestEndToEndConcurrentRequestsAcrossExpiries(t *testing.T) {
	// Tokens live 6s (5s once expires_in is rounded down): the last quarter a request may not
	// use is then longer than a request's transit on a loaded 2-core machine under -race.
	const ttl, run = 6 * time.Second, 14 * time.Second
	e := newE2E(t, ttl)
	e.login()
	up := e.upstream()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs strings.Builder
	urls := []string{e.startTunnel(ctx, e.source(), up, io.Discard), e.startTunnel(ctx, e.source(), up, &syncWriter{w: &logs})}
	before := e.op.Stats()

	total, failures := hammer(t, urls, 200, run)
	cancel()

	st := e.op.Stats()
	refreshes := st.Refreshes - before.Refreshes
	t.Logf("%d requests, %d distinct tokens, %d refreshes at the issuer", total, len(e.seen), refreshes)
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed, first: %s", len(failures), total, failures[0])
	}
	if len(e.denied) > 0 {
		t.Errorf("the upstream refused %d tokens, first: %s", len(e.denied), e.denied[0])
	}
	if total < 1000 {
		t.Errorf("only %d requests in %s", total, run)
	}
	// expires_in is whole seconds, so a 6s token may be scheduled as a 5s one, refreshed at about
	// 65 % of that (short tokens are refreshed before their last quarter): between run/6s and
	// run/(0.6*5s) refreshes, never one per request.
	if lo, hi := int64(run/ttl), int64(run/(6*(ttl-time.Second)/10))+2; refreshes < lo || refreshes > hi {
		t.Errorf("%d refreshes in %s of %s tokens, want about one per lifetime (%d..%d)", refreshes, run, ttl, lo, hi)
	}
	if st.ReusedRefreshTokens != 0 {
		t.Errorf("%d refresh tokens were presented twice", st.ReusedRefreshTokens)
	}
}

// TestEndToEndIssuerOutageAndRevokedSession: an outage shorter than the token's life goes
// unnoticed; a longer one gives 503 and recovers by itself; a revoked session gives 401 with the
// login hint, and a new login from "another terminal" is picked up without a restart.
func TestEndToEndIssuerOutageAndRevokedSession(t *testing.T) {
	e := newE2E(t, 6*time.Second) // a 5s lifetime once expires_in is rounded down
	e.login()
	up := e.upstream()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncWriter{w: &strings.Builder{}}
	url := e.startTunnel(ctx, e.source(), up, logs)
	status := func() (int, string) {
		resp, err := http.Get(url + "/api/items")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if c, b := status(); c != 200 {
		t.Fatalf("before the outage: %d %s", c, b)
	}

	// Start the outage right after a refresh, so the held token has most of its life left.
	fresh := func() int { e.mu.Lock(); defer e.mu.Unlock(); return len(e.seen) }
	first := fresh()
	waitStatus(t, func() (int, string) {
		c, b := status()
		if fresh() == first {
			c = 0 // not yet refreshed
		}
		return c, b
	}, 200, "", 8*time.Second)
	e.op.SetDown(true)
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if c, b := status(); c != 200 {
			t.Fatalf("short outage with a valid token: %d %s", c, b)
		}
	}
	saw503 := false
	for end := time.Now().Add(8 * time.Second); time.Now().Before(end) && !saw503; time.Sleep(100 * time.Millisecond) {
		c, _ := status()
		saw503 = c == 503
	}
	if !saw503 {
		t.Error("no 503 once the token ran out during a long outage")
	}
	e.op.SetDown(false)
	waitStatus(t, status, 200, "", 8*time.Second)

	e.op.RevokeUser(e.op.Users()[0].Subject)
	waitStatus(t, status, 401, "run `pingedge login --profile p`", 10*time.Second)
	if n := strings.Count(logs.String(), "login session ended"); n != 1 {
		t.Errorf("session loss logged %d times, want once:\n%s", n, logs.String())
	}
	e.login() // the engineer logs in again in another terminal
	waitStatus(t, status, 200, "", 8*time.Second)
	if st := e.op.Stats(); st.ReusedRefreshTokens != 0 {
		t.Errorf("%d refresh tokens were presented twice", st.ReusedRefreshTokens)
	}
}

func waitStatus(t *testing.T, status func() (int, string), want int, body string, d time.Duration) {
	t.Helper()
	var c int
	var b string
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if c, b = status(); c == want && strings.Contains(b, body) {
			return
		}
	}
	t.Fatalf("waited %s for %d %q, last got %d %q", d, want, body, c, b)
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
func (s *syncWriter) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.w.String() }
