package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/login"
)

// lockedBuffer is written by the command and by background goroutines (browser, provider log).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testClock is the only fake: time moves when a test says so.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// cliEnv is an in-memory Factory wired to a devop provider on loopback.
type cliEnv struct {
	t       *testing.T
	op      *devop.Server
	opLog   *lockedBuffer
	clock   *testClock
	env     map[string]string
	keyring *credstore.MemoryBackend
	// keyringOverride replaces the in-memory keychain when set.
	keyringOverride credstore.Backend
	visited         *lockedBuffer // every URL the scripted browser went through
	all             *lockedBuffer // every byte any run wrote to stdout or stderr, for the secret grep
	onSleep         func()        // runs at each device-flow poll, before the wait
}

func newCLIEnv(t *testing.T, cfg devop.Config) *cliEnv {
	t.Helper()
	opLog := &lockedBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(opLog, &slog.HandlerOptions{Level: slog.LevelDebug}))
	op, err := devop.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Close() })
	dir := t.TempDir()
	return &cliEnv{
		t: t, op: op, opLog: opLog, clock: &testClock{now: time.Now()}, keyring: credstore.NewMemoryBackend(),
		visited: &lockedBuffer{}, all: &lockedBuffer{},
		env: map[string]string{
			"PINGEDGE_CONFIG": filepath.Join(dir, "config.yaml"), "NO_COLOR": "1", "DISPLAY": ":0",
		},
	}
}

// browser follows redirects with a cookie jar: devop's auto-login page sends it on to the
// loopback callback, as a person's browser would.
func (e *cliEnv) browser() login.Browser {
	return login.BrowserFunc(func(_ context.Context, u string) error {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			e.visited.Write([]byte(r.URL.String() + "\n"))
			return nil
		}}
		e.visited.Write([]byte(u + "\n"))
		go func() {
			if resp, err := c.Get(u); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		return nil
	})
}

// run executes one pingedge command line in-process and returns its exit code and streams.
func (e *cliEnv) run(args ...string) (code int, stdout, stderr string) {
	var out, errOut lockedBuffer
	var kc credstore.Backend = e.keyring
	if e.keyringOverride != nil {
		kc = e.keyringOverride
	}
	f := &Factory{
		IO:      IOStreams{In: strings.NewReader(""), Out: io.MultiWriter(&out, e.all), ErrOut: io.MultiWriter(&errOut, e.all)},
		Getenv:  func(k string) string { return e.env[k] },
		Now:     e.clock.Now,
		HTTP:    &http.Client{Timeout: 10 * time.Second},
		Global:  &GlobalOptions{},
		Keyring: kc,
		Browser: e.browser(),
		Sleep: func(ctx context.Context, d time.Duration) error {
			if e.onSleep != nil {
				e.onSleep()
			}
			e.clock.Add(d)
			return ctx.Err()
		},
	}
	code = Run(e.t.Context(), f, args)
	return code, out.String(), errOut.String()
}

func (e *cliEnv) mustRun(args ...string) (stdout, stderr string) {
	e.t.Helper()
	code, out, errOut := e.run(args...)
	if code != 0 {
		e.t.Fatalf("pingedge %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out, errOut
}

func (e *cliEnv) loginArgs(extra ...string) []string {
	return append([]string{"login", "--issuer", e.op.Issuer(), "--client-id", e.op.ClientID()}, extra...)
}

// codes lists the authorization codes the browser carried.
func (e *cliEnv) codes() []string {
	var out []string
	for _, line := range strings.Split(e.visited.String(), "\n") {
		if u, err := url.Parse(line); err == nil && u.Query().Get("code") != "" {
			out = append(out, u.Query().Get("code"))
		}
	}
	return out
}

func (e *cliEnv) refreshToken(profile string) string {
	v, _ := e.keyring.Get(credstore.Service, profile)
	return v
}
