package login_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/login"
)

// syncBuffer collects output written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// clock is the one fake: tests move time forward instead of waiting.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// sleeper records the waits the device flow asks for and advances the clock instead of sleeping.
type sleeper struct {
	mu    sync.Mutex
	clock *clock
	waits []time.Duration
	// before, when set, runs at the start of every Sleep: a test that counts polls uses it to
	// let the asynchronous browser finish first, as a real wait would.
	before func()
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	if s.before != nil {
		s.before()
	}
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	s.clock.Add(d)
	return ctx.Err()
}

func (s *sleeper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// scriptedBrowser is a user agent with a cookie jar that follows redirects: opening the
// authorize URL walks through devop's auto-login page into pingedge's loopback callback, as a
// person's browser would. It records every URL it visited (to grep output for the code).
type scriptedBrowser struct {
	t       testing.TB
	mu      sync.Mutex
	visited []string
	done    chan error
}

func newScriptedBrowser(t testing.TB) *scriptedBrowser {
	return &scriptedBrowser{t: t, done: make(chan error, 8)}
}

func (b *scriptedBrowser) Open(_ context.Context, u string) error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		b.record(r.URL.String())
		return nil
	}}
	b.record(u)
	go func() {
		resp, err := c.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("browser ended at %s with HTTP %d", resp.Request.URL.Path, resp.StatusCode)
			}
		}
		b.done <- err
	}()
	return nil
}

func (b *scriptedBrowser) record(u string) {
	b.mu.Lock()
	b.visited = append(b.visited, u)
	b.mu.Unlock()
}

// codes returns every authorization code the browser carried.
func (b *scriptedBrowser) codes() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, v := range b.visited {
		if u, err := url.Parse(v); err == nil && u.Query().Get("code") != "" {
			out = append(out, u.Query().Get("code"))
		}
	}
	return out
}

// harness is one provider plus everything a login needs.
type harness struct {
	t       testing.TB
	op      *devop.Server
	opLog   *syncBuffer
	clock   *clock
	sleeper *sleeper
	browser *scriptedBrowser
	out     *syncBuffer // prompt + verbose log
	backend *credstore.MemoryBackend
	store   credstore.Store
	state   string
}

func newHarness(t testing.TB, cfg devop.Config) *harness {
	t.Helper()
	opLog := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(opLog, &slog.HandlerOptions{Level: slog.LevelDebug}))
	op, err := devop.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("devop: %v", err)
	}
	t.Cleanup(func() { _ = op.Close() })
	c := newClock()
	be := credstore.NewMemoryBackend()
	return &harness{
		t: t, op: op, opLog: opLog, clock: c, sleeper: &sleeper{clock: c}, browser: newScriptedBrowser(t),
		out: &syncBuffer{}, backend: be, store: &credstore.Keychain{Backend: be}, state: t.TempDir(),
	}
}

func (h *harness) env() login.Env {
	return login.Env{
		HTTP: &http.Client{Timeout: 10 * time.Second}, Now: h.clock.Now, Sleep: h.sleeper.Sleep,
		Browser: h.browser, CanOpenBrowser: true, Prompt: h.out,
		Logf: func(f string, a ...any) { fmt.Fprintf(h.out, f+"\n", a...) }, Store: h.store, StateDir: h.state,
	}
}

func (h *harness) params(flow string) login.Params {
	return login.Params{Profile: "p", Issuer: h.op.Issuer(), ClientID: h.op.ClientID(), Flow: flow, Timeout: 20 * time.Second}
}

func (h *harness) login(flow string) *login.Result {
	h.t.Helper()
	res, err := login.Login(h.t.Context(), h.params(flow), h.env())
	if err != nil {
		h.t.Fatalf("login (%s): %v\noutput:\n%s", flow, err, h.out.String())
	}
	return res
}

func (h *harness) sourceConfig() login.SourceConfig {
	return login.SourceConfig{
		Profile: "p", StateDir: h.state, Store: h.store, HTTP: &http.Client{Timeout: 10 * time.Second},
		Now: h.clock.Now, Logf: func(f string, a ...any) { fmt.Fprintf(h.out, f+"\n", a...) },
	}
}

func (h *harness) source() *login.Source {
	h.t.Helper()
	s, err := login.NewSource(h.sourceConfig())
	if err != nil {
		h.t.Fatalf("NewSource: %v", err)
	}
	return s
}

func (h *harness) refreshToken() string {
	h.t.Helper()
	rt, err := h.store.Get(context.Background(), "p")
	if err != nil {
		h.t.Fatalf("store: %v", err)
	}
	return rt.Reveal()
}

// assertNoSecrets fails when any secret value appears in any captured output.
func assertNoSecrets(t *testing.T, outputs map[string]string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("secret %q too short to grep for meaningfully", s)
		}
		for name, out := range outputs {
			if strings.Contains(out, s) {
				t.Errorf("%s contains a secret value (%d chars)", name, len(s))
			}
		}
	}
}
