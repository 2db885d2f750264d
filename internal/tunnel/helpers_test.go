package tunnel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/secret"
)

var errTestLogin = errors.New("invalid_grant: session revoked")

// testSource issues opaque tokens with a fixed lifetime and remembers them, so the test upstream
// can check what it receives. It is a token source, not a protocol peer: the end-to-end test
// covers the real OpenID provider.
type testSource struct {
	ttl time.Duration

	mu        sync.Mutex
	cur       secret.AccessToken
	n         int
	issued    map[string]time.Time // token -> expiry
	revoked   map[string]bool      // tokens the upstream must refuse
	err       error                // refreshes fail with this while set
	calls     atomic.Int64         // Token and Refresh calls
	onDemand  atomic.Int64         // Token calls made while serving a request (not by the refresher)
	refreshes atomic.Int64         // tokens minted
}

func newTestSource(ttl time.Duration) *testSource {
	return &testSource{ttl: ttl, issued: map[string]time.Time{}, revoked: map[string]bool{}}
}

func (s *testSource) Token(ctx context.Context, minTTL time.Duration) (secret.AccessToken, error) {
	s.calls.Add(1)
	if ctx.Value(http.ServerContextKey) != nil { // net/http puts this in every request's context
		s.onDemand.Add(1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.Valid(time.Now(), minTTL) {
		return s.cur, nil
	}
	return s.mintLocked()
}

func (s *testSource) Refresh(ctx context.Context, rejected secret.String) (secret.AccessToken, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.Value != rejected && s.cur.Valid(time.Now(), 0) {
		return s.cur, nil
	}
	return s.mintLocked()
}

func (s *testSource) mintLocked() (secret.AccessToken, error) {
	if s.err != nil {
		return secret.AccessToken{}, s.err
	}
	time.Sleep(5 * time.Millisecond) // a refresh takes a round trip; concurrent callers pile up
	s.n++
	now := time.Now()
	s.cur = secret.AccessToken{Value: secret.String(fmt.Sprintf("tok-%d", s.n)), Expiry: now.Add(s.ttl), IssuedAt: now}
	s.issued[s.cur.Value.Reveal()] = s.cur.Expiry
	s.refreshes.Add(1)
	return s.cur, nil
}

func (s *testSource) setErr(err error) { s.mu.Lock(); s.err = err; s.mu.Unlock() }

func (s *testSource) revoke(tok string) { s.mu.Lock(); s.revoked[tok] = true; s.mu.Unlock() }

// check reports why an Authorization header would be refused, or "" when it is valid.
func (s *testSource) check(authz string) string {
	tok, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok {
		return "no bearer token"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, known := s.issued[tok]
	switch {
	case !known:
		return "unknown token"
	case s.revoked[tok]:
		return "revoked"
	case !time.Now().Before(exp):
		return "expired"
	}
	return ""
}

// authUpstream answers 401 for tokens the source did not issue (or revoked or expired), and
// otherwise calls next.
func authUpstream(t *testing.T, src *testSource, next http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if why := src.check(r.Header.Get("Authorization")); why != "" {
			http.Error(w, why, http.StatusUnauthorized)
			return
		}
		next(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// logBuffer is a concurrency-safe slog sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *logBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

type running struct {
	url     string // http://127.0.0.1:PORT
	port    int
	logs    *logBuffer
	entries *entryLog
	done    chan error
	cancel  context.CancelFunc
}

type entryLog struct {
	mu sync.Mutex
	es []Entry
}

func (l *entryLog) add(e Entry) { l.mu.Lock(); l.es = append(l.es, e); l.mu.Unlock() }
func (l *entryLog) all() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Entry(nil), l.es...)
}

// startTunnel serves a tunnel on a loopback port until the test ends.
func startTunnel(t *testing.T, opts Options) *running {
	t.Helper()
	ln, err := Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, ln, opts)
}

func serveOn(t *testing.T, ln net.Listener, opts Options) *running {
	t.Helper()
	r := &running{logs: &logBuffer{}, entries: &entryLog{}, done: make(chan error, 1)}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.AccessLog == nil {
		opts.AccessLog = r.entries.add
	}
	tun, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.port = listenerPort(ln)
	r.url = fmt.Sprintf("http://127.0.0.1:%d", r.port)
	go func() { r.done <- tun.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-r.done; err != nil {
			t.Errorf("Serve returned %v after cancel, want nil", err)
		}
	})
	return r
}

func mustRoute(t testing.TB, prefix, raw string) Route {
	t.Helper()
	r, err := NewRoute(prefix, raw)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// get sends a request with extra headers and returns status and body.
func get(t *testing.T, method, url string, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}
