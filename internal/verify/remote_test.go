package verify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/keyset"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

// clock is the tests' only fake: a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// jwksServer is a real HTTP server on loopback whose JWKS, status and Cache-Control the test
// changes; it counts requests.
type jwksServer struct {
	*httptest.Server
	mu     sync.Mutex
	body   []byte
	status int
	cc     string
	hits   atomic.Int32
	delay  time.Duration
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{body: body, status: 200}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body, status, cc, delay := s.body, s.status, s.cc, s.delay
		s.mu.Unlock()
		if r.URL.Path == "/.well-known/openid-configuration" {
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, s.URL, s.URL+"/jwks")
			return
		}
		s.hits.Add(1)
		time.Sleep(delay)
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(body []byte, status int, cc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.status, s.cc = body, status, cc
}

func jwksOf(keys ...map[string]any) []byte { return mustJSON(map[string]any{"keys": keys}) }

// ecSigner makes a new P-256 signer with its own kid, for rotation tests.
func ecSigner(t *testing.T, kid string) *signer {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{kid: kid, alg: jose.ES256, priv: priv}
}

func (s *signer) jwk() map[string]any { return jwkOf(s.kid, s.priv.Public(), "") }

func (s *signer) token(t *testing.T, claims map[string]any) string {
	return signRaw(t, s, s.alg, mustJSON(map[string]any{"alg": s.alg, "kid": s.kid}), mustJSON(claims))
}

func remoteEngine(t *testing.T, url string, clk *clock, logs *bytes.Buffer) (*Engine, *keyset.RemoteKeySet) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(logs, nil))
	m := &Metrics{}
	ks := keyset.NewRemoteKeySet(url, keyset.RemoteOptions{Now: clk.Now, Logger: log, Metrics: m})
	e, err := NewEngine(testPolicy(), EngineOptions{KeySet: ks, Now: clk.Now, Metrics: m, Logger: log, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	return e, ks
}

func TestRemoteKeyRotation(t *testing.T) {
	a, b := ecSigner(t, "key-a"), ecSigner(t, "key-b")
	srv := newJWKSServer(t, jwksOf(a.jwk()))
	clk := &clock{t: testNow}
	e, _ := remoteEngine(t, srv.URL, clk, &bytes.Buffer{})
	if _, err := e.Verify(bg, a.token(t, goodClaims())); err != nil {
		t.Fatal(err)
	}
	// The issuer rotates: b published, a withdrawn.
	srv.set(jwksOf(b.jwk()), 200, "")
	clk.Advance(31 * time.Second)
	if _, err := e.Verify(bg, b.token(t, goodClaims())); err != nil {
		t.Fatalf("new kid after rotation: %v", err)
	}
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("want 2 fetches (initial, unknown kid), got %d", got)
	}
	if _, err := e.Verify(bg, a.token(t, goodClaims())); !errors.Is(err, jose.ErrUnknownKey) {
		t.Fatalf("withdrawn key must be unknown, got %v", err)
	}
}

func TestRemoteRefetchCooldownAndUnknownKidFlood(t *testing.T) {
	a := ecSigner(t, "key-a")
	srv := newJWKSServer(t, jwksOf(a.jwk()))
	clk := &clock{t: testNow}
	e, _ := remoteEngine(t, srv.URL, clk, &bytes.Buffer{})
	if _, err := e.Verify(bg, a.token(t, goodClaims())); err != nil {
		t.Fatal(err)
	}
	// A flood of forged kids inside the cooldown: not one fetch.
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			forged := ecSigner(t, fmt.Sprintf("forged-%d", i))
			if _, err := e.Verify(bg, forged.token(t, goodClaims())); !errors.Is(err, jose.ErrUnknownKey) {
				t.Errorf("forged kid: %v", err)
			}
		}()
	}
	wg.Wait()
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("unknown kids inside the cooldown caused %d fetches", got-1)
	}
	// After the cooldown one more flood costs at most one fetch; kids seen are remembered.
	clk.Advance(31 * time.Second)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = e.Verify(bg, ecSigner(t, fmt.Sprintf("again-%d", i)).token(t, goodClaims()))
		}()
	}
	wg.Wait()
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("a flood after the cooldown must cost one fetch, got %d", got-1)
	}
	// A kid found missing from a fresh fetch is remembered: asking again costs no fetch, even
	// after the cooldown.
	clk.Advance(31 * time.Second)
	probe := ecSigner(t, "probe")
	_, _ = e.Verify(bg, probe.token(t, goodClaims()))
	if got := srv.hits.Load(); got != 3 {
		t.Fatalf("an unknown kid after the cooldown must cost one fetch, got %d", got-2)
	}
	clk.Advance(31 * time.Second)
	_, _ = e.Verify(bg, probe.token(t, goodClaims()))
	if got := srv.hits.Load(); got != 3 {
		t.Fatalf("a remembered unknown kid caused a fetch")
	}
}

// A key rotated in during the cooldown is refused only until the cooldown ends, not for the
// unknown-kid memory: it was never checked against a fresh key set.
func TestRemoteRotationInsideCooldown(t *testing.T) {
	a, b := ecSigner(t, "key-a"), ecSigner(t, "key-b")
	srv := newJWKSServer(t, jwksOf(a.jwk()))
	clk := &clock{t: testNow}
	e, _ := remoteEngine(t, srv.URL, clk, &bytes.Buffer{})
	if _, err := e.Verify(bg, a.token(t, goodClaims())); err != nil {
		t.Fatal(err)
	}
	srv.set(jwksOf(a.jwk(), b.jwk()), 200, "")
	clk.Advance(10 * time.Second)
	if _, err := e.Verify(bg, b.token(t, goodClaims())); !errors.Is(err, jose.ErrUnknownKey) {
		t.Fatalf("inside the cooldown the new kid is not fetched yet: %v", err)
	}
	clk.Advance(21 * time.Second)
	if _, err := e.Verify(bg, b.token(t, goodClaims())); err != nil {
		t.Fatalf("after the cooldown the rotated-in key must be fetched and accepted: %v", err)
	}
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("want 2 fetches (initial, after the cooldown), got %d", got)
	}
}

func TestRemoteStaleIfError(t *testing.T) {
	a := ecSigner(t, "key-a")
	srv := newJWKSServer(t, jwksOf(a.jwk()))
	srv.set(jwksOf(a.jwk()), 200, "max-age=120")
	clk := &clock{t: testNow}
	logs := &bytes.Buffer{}
	e, ks := remoteEngine(t, srv.URL, clk, logs)
	tok := a.token(t, withClaims(func(c map[string]any) { c["exp"] = testNow.Add(24 * time.Hour).Unix() }))
	if _, err := e.Verify(bg, tok); err != nil {
		t.Fatal(err)
	}
	clk.Advance(100 * time.Second) // within max-age: no refresh
	if _, err := e.Verify(bg, tok); err != nil || srv.hits.Load() != 1 {
		t.Fatalf("within max-age: err %v, fetches %d", err, srv.hits.Load())
	}
	// The issuer goes down and max-age runs out: the held keys keep verifying.
	srv.set([]byte("down"), http.StatusBadGateway, "")
	clk.Advance(60 * time.Second)
	for range 5 {
		if _, err := e.Verify(bg, tok); err != nil {
			t.Fatalf("stale-if-error: %v", err)
		}
	}
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("want one failed refresh inside the cooldown, got %d fetches", got-1)
	}
	st := ks.Status()
	m := e.Metrics().Snapshot()
	if !st.Stale || !strings.Contains(st.LastErr, "502") || m.JWKSFetchFailures != 1 || m.StaleKeyRefreshes != 1 {
		t.Fatalf("outage not reported: status %+v, metrics %+v", st, m)
	}
	if !strings.Contains(logs.String(), "stale-if-error") {
		t.Fatalf("outage not logged: %s", logs)
	}
	// The issuer comes back: the next refresh clears the stale state.
	srv.set(jwksOf(a.jwk()), 200, "")
	clk.Advance(31 * time.Second)
	if _, err := e.Verify(bg, tok); err != nil || ks.Status().Stale {
		t.Fatalf("recovery: %v %+v", err, ks.Status())
	}
}

func TestRemoteNoKeysIsUnavailable(t *testing.T) {
	srv := newJWKSServer(t, []byte("nope"))
	srv.set([]byte("nope"), 500, "")
	clk := &clock{t: testNow}
	e, _ := remoteEngine(t, srv.URL, clk, &bytes.Buffer{})
	tok := ecSigner(t, "k").token(t, goodClaims())
	if _, err := e.Verify(bg, tok); !errors.Is(err, jose.ErrKeysUnavailable) {
		t.Fatalf("want keys unavailable, got %v", err)
	}
	e.policy.Default = policy.AccessAuthenticated
	d := e.Decide(bg, Request{Method: "GET", Path: "/x", Token: tok})
	if d.Status != http.StatusServiceUnavailable || d.Allow {
		t.Fatalf("want 503, got %+v", d)
	}
	if srv.hits.Load() != 1 || e.Ready() {
		t.Fatalf("no-key outage must respect the cooldown: %d fetches", srv.hits.Load())
	}
}

func TestRemoteSingleFlight(t *testing.T) {
	a := ecSigner(t, "key-a")
	srv := newJWKSServer(t, jwksOf(a.jwk()))
	srv.delay = 50 * time.Millisecond
	clk := &clock{t: testNow}
	e, _ := remoteEngine(t, srv.URL, clk, &bytes.Buffer{})
	tok := a.token(t, goodClaims())
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.Verify(bg, tok); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("50 concurrent first requests made %d fetches", got)
	}
}

func TestRemoteRejectsOversizedAndBadJWKS(t *testing.T) {
	a := ecSigner(t, "key-a")
	big := jwksOf(a.jwk(), map[string]any{"kty": "oct", "k": strings.Repeat("A", jose.MaxJWKSBytes)})
	for name, body := range map[string][]byte{
		"oversized":     big,
		"not json":      []byte("<html>"),
		"off-curve key": jwksOf(map[string]any{"kty": "EC", "crv": "P-256", "kid": "x", "x": enc(make([]byte, 32)), "y": enc(make([]byte, 32))}),
		"1024-bit RSA":  jwksOf(map[string]any{"kty": "RSA", "kid": "r", "n": enc(append([]byte{0x80}, make([]byte, 127)...)), "e": "AQAB"}),
	} {
		t.Run(name, func(t *testing.T) {
			srv := newJWKSServer(t, body)
			e, _ := remoteEngine(t, srv.URL, &clock{t: testNow}, &bytes.Buffer{})
			_, err := e.Verify(bg, a.token(t, goodClaims()))
			if !errors.Is(err, jose.ErrKeysUnavailable) {
				t.Fatalf("want keys unavailable, got %v", err)
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	a := ecSigner(t, "key-a")
	srv := newJWKSServer(t, jwksOf(a.jwk()))
	p := testPolicy()
	p.Issuer = srv.URL
	e, err := NewEngine(p, EngineOptions{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Verify(bg, a.token(t, withClaims(func(c map[string]any) { c["iss"] = srv.URL }))); err != nil {
		t.Fatal(err)
	}
	if got := e.KeySet().(*keyset.RemoteKeySet).URL(); got != srv.URL+"/jwks" {
		t.Fatalf("jwks_uri not discovered: %q", got)
	}
	_, err = keyset.Discover(context.Background(), &keyset.HTTPFetcher{}, srv.URL+"/other")
	if !errors.Is(err, keyset.ErrDiscovery) {
		t.Fatalf("discovery for another issuer must fail, got %v", err)
	}
}
