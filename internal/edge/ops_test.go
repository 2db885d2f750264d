package edge

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pingedge/pingedge/internal/devop"
)

// TestMetricsEndpoint: the Prometheus text carries decisions by outcome, the latency histogram,
// cache hits, JWKS fetches and readiness.
func TestMetricsEndpoint(t *testing.T) {
	op, gw := gateway(t)
	waitFor(t, "keys loaded", func() bool { return ready(t, gw) })
	alice := mint(t, op, "alice", "engineer")
	do(t, "GET", gw.url, "/api/a", bearer(alice))
	do(t, "GET", gw.url, "/api/a", bearer(alice))
	do(t, "GET", gw.url, "/admin/a", bearer(alice))
	do(t, "GET", gw.url, "/api/a", nil)
	resp, body := do(t, "GET", gw.url, "/metrics", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	text := string(body)
	for _, want := range []string{
		`pingedge_edge_decisions_total{outcome="allow"} 2`,
		`pingedge_edge_decisions_total{outcome="forbidden"} 1`,
		`pingedge_edge_decisions_total{outcome="unauthorized"} 1`,
		`pingedge_edge_verify_duration_seconds_bucket{le="+Inf"} 4`,
		`pingedge_edge_verify_duration_seconds_count 4`,
		"pingedge_edge_cache_hits_total 2",
		"pingedge_edge_jwks_fetches_total 1",
		"pingedge_edge_jwks_fetch_failures_total 0",
		"pingedge_edge_keys_ready 1",
		"go_goroutines",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if resp, _ := do(t, "GET", gw.url, "/healthz", nil); resp.StatusCode != 200 {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}
	// An encoded spelling of an ops path is not the ops endpoint: it goes to the policy.
	if resp, _ := do(t, "GET", gw.url, "/%6detrics", nil); resp.StatusCode != 403 {
		t.Errorf("/%%6detrics: %d, want the policy's 403", resp.StatusCode)
	}
}

// reloadSetup starts a provider and an echo origin and writes the test policy for that
// provider to a file of its own: what every reload test starts from.
func reloadSetup(t *testing.T) (op *devop.Server, origin *url.URL, path, good string) {
	t.Helper()
	op = startOP(t)
	origin, _ = url.Parse(echoOrigin(t).URL)
	path = filepath.Join(t.TempDir(), "policy.yaml")
	good = strings.Replace(testPolicy, "%s", op.Issuer(), 1)
	writeFile(t, path, good)
	return op, origin, path, good
}

// TestPolicyReload: an edit takes effect without a restart, a broken edit keeps the last good
// policy and says why, SIGHUP reloads at once.
func TestPolicyReload(t *testing.T) {
	op, u, path, good := reloadSetup(t)
	hup := make(chan os.Signal, 1)
	gw := startEdge(t, Options{PolicyFile: path, Origin: u, ReloadInterval: 20 * time.Millisecond, Reload: hup})
	alice := bearer(mint(t, op, "alice", "engineer"))
	status := func() int { resp, _ := do(t, "GET", gw.url, "/api/a", alice); return resp.StatusCode }
	if s := status(); s != 200 {
		t.Fatalf("before the edit: %d", s)
	}

	fetches := op.Stats().JWKSFetches
	stricter := strings.Replace(good, "roles: [engineer, admin]", "roles: [admin]", 1)
	replaceFile(t, path, stricter)
	waitFor(t, "the stricter policy", func() bool { return status() == 403 })
	if n := op.Stats().JWKSFetches; n != fetches {
		t.Errorf("a policy edit with the same issuer refetched the keys (%d -> %d fetches)", fetches, n)
	}

	replaceFile(t, path, stricter+"rules: [oops\n")
	waitFor(t, "the reload error in the log", func() bool {
		return strings.Contains(gw.logs.String(), "policy reload failed; keeping the last good policy")
	})
	if s := status(); s != 403 {
		t.Fatalf("after a broken edit: %d, want the last good policy's 403", s)
	}
	// The broken file is reported once, not on every poll.
	time.Sleep(100 * time.Millisecond)
	if n := strings.Count(gw.logs.String(), "policy reload failed"); n != 1 {
		t.Errorf("the broken file was reported %d times", n)
	}

	_, body := do(t, "GET", gw.url, "/metrics", nil)
	for _, want := range []string{`pingedge_edge_policy_reloads_total{result="ok"} 1`, `pingedge_edge_policy_reloads_total{result="error"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestPolicyReloadWaitsForAHalfWrittenFile: a poll that finds the file changed acts only once
// it has kept its size and mtime for a whole interval, so an editor or `cat > policy.yaml`
// caught half-way is neither loaded nor reported as broken. Polls are driven by hand (no
// ticker), so the test does not depend on the machine's speed.
func TestPolicyReloadWaitsForAHalfWrittenFile(t *testing.T) {
	op, u, path, good := reloadSetup(t)
	gw := startEdge(t, Options{PolicyFile: path, Origin: u, ReloadInterval: -1, Reload: make(chan os.Signal)})
	alice := bearer(mint(t, op, "alice", "engineer"))
	status := func() int { resp, _ := do(t, "GET", gw.url, "/api/a", alice); return resp.StatusCode }
	poll := func() { gw.Server.reload(t.Context(), "poll", false) }

	stricter := strings.Replace(good, "roles: [engineer, admin]", "roles: [admin]", 1)
	half := stricter[:strings.Index(stricter, "rules:")+len("rules:\n  - path: [")]
	writeFile(t, path, half) // an in-place write caught half-way: not valid YAML
	poll()
	if strings.Contains(gw.logs.String(), "policy reload failed") || status() != 200 {
		t.Fatalf("a file seen changing for the first time was loaded or reported:\n%s", gw.logs)
	}
	writeFile(t, path, stricter) // the writer finishes before the next poll
	poll()
	if strings.Contains(gw.logs.String(), "policy reload failed") || status() != 200 {
		t.Fatalf("the file changed again since the last poll, yet was loaded or reported:\n%s", gw.logs)
	}
	poll() // unchanged for one interval: settled
	if s := status(); s != 403 {
		t.Fatalf("the settled file was not loaded: %d\n%s", s, gw.logs)
	}
	if strings.Contains(gw.logs.String(), "policy reload failed") {
		t.Errorf("the half-written state was reported as a broken policy:\n%s", gw.logs)
	}
}

// TestPolicyReloadOnSIGHUP: with polling off, an edit waits for a real SIGHUP to the process.
func TestPolicyReloadOnSIGHUP(t *testing.T) {
	op, u, path, good := reloadSetup(t)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	gw := startEdge(t, Options{PolicyFile: path, Origin: u, ReloadInterval: -1, Reload: hup})
	alice := bearer(mint(t, op, "alice", "engineer"))
	status := func() int { resp, _ := do(t, "GET", gw.url, "/api/a", alice); return resp.StatusCode }

	writeFile(t, path, strings.Replace(good, "roles: [engineer, admin]", "roles: [admin]", 1))
	time.Sleep(100 * time.Millisecond)
	if s := status(); s != 200 {
		t.Fatalf("the edit took effect without SIGHUP and with polling off: %d", s)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the SIGHUP reload", func() bool { return status() == 403 })
	if !strings.Contains(gw.logs.String(), "trigger=SIGHUP") {
		t.Errorf("the reload was not logged with its trigger:\n%s", gw.logs)
	}
}

// TestStreamingAndWebSocket: a streamed response reaches the client chunk by chunk, and a
// WebSocket is passed through both ways with the identity header set on the upgrade.
func TestStreamingAndWebSocket(t *testing.T) {
	op := startOP(t)
	release := make(chan struct{})
	origin := echoOriginWith(t, func(w http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case "/api/stream":
			_, _ = io.WriteString(w, "first\n")
			w.(http.Flusher).Flush()
			<-release // the second chunk waits until the client has read the first
			_, _ = io.WriteString(w, "second\n")
			return true
		case "/api/ws":
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return true
			}
			ctx := r.Context()
			_, msg, err := c.Read(ctx)
			if err == nil {
				_ = c.Write(ctx, websocket.MessageText, []byte(r.Header.Get("X-Auth-User")+":"+string(msg)))
			}
			c.Close(websocket.StatusNormalClosure, "")
			return true
		}
		return false
	})
	u, _ := url.Parse(origin.URL)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, strings.Replace(testPolicy, "%s", op.Issuer(), 1))
	gw := startEdge(t, Options{PolicyFile: path, Origin: u})
	tok := mint(t, op, "alice", "engineer")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", gw.url+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first\n" {
		t.Fatalf("first chunk %q, %v (buffered by the gateway?)", buf, err)
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second\n" {
		t.Errorf("second chunk %q", rest)
	}

	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(gw.url, "http")+"/api/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}})
	if err != nil {
		t.Fatalf("websocket through the gateway: %v", err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	_, msg, err := c.Read(ctx)
	if err != nil || string(msg) != "alice:ping" {
		t.Errorf("websocket echo %q, %v", msg, err)
	}
	if _, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(gw.url, "http")+"/api/ws", nil); err == nil {
		t.Error("a websocket without a token was let through")
	}
}

// echoOriginWith serves special paths with h (true when handled) and echoes the rest.
func echoOriginWith(t *testing.T, h func(http.ResponseWriter, *http.Request) bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h(w, r) {
			echoHandler(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestGracefulShutdown: a request in flight when the server is told to stop still gets its
// answer; Serve returns only after it, and the port is closed.
func TestGracefulShutdown(t *testing.T) {
	op := startOP(t)
	entered, release := make(chan struct{}), make(chan struct{})
	origin := echoOriginWith(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/slow" {
			return false
		}
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
		return true
	})
	u, _ := url.Parse(origin.URL)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, strings.Replace(testPolicy, "%s", op.Issuer(), 1))
	gw := startEdge(t, Options{PolicyFile: path, Origin: u})
	tok := mint(t, op, "alice", "engineer")

	got := make(chan string, 1)
	go func() {
		_, body := do(t, "GET", gw.url, "/api/slow", bearer(tok))
		got <- string(body)
	}()
	<-entered
	stopped := make(chan struct{})
	go func() { gw.stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Serve returned while a request was in flight")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if body := <-got; body != "done" {
		t.Errorf("in-flight request got %q", body)
	}
	<-stopped
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(gw.url, "http://"), time.Second); err == nil {
		c.Close()
		t.Error("the port still accepts connections after shutdown")
	}
}
