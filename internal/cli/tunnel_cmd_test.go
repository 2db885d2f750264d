package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/tunnel"
	"github.com/pingedge/pingedge/internal/ui"
)

// started is a command running in-process until its context is cancelled.
type started struct {
	out, errOut *lockedBuffer
	code        chan int
	cancel      context.CancelFunc
}

// start runs a long-lived command (tunnel) with a context the test cancels, as Ctrl-C would.
func (e *cliEnv) start(args ...string) *started {
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{out: &lockedBuffer{}, errOut: &lockedBuffer{}, code: make(chan int, 1), cancel: cancel}
	f := &Factory{
		IO:     IOStreams{In: strings.NewReader(""), Out: io.MultiWriter(s.out, e.all), ErrOut: io.MultiWriter(s.errOut, e.all)},
		Getenv: func(k string) string { return e.env[k] }, Now: e.clock.Now,
		HTTP: &http.Client{Timeout: 10 * time.Second}, Global: &GlobalOptions{}, Keyring: e.keyring,
	}
	go func() { s.code <- Run(ctx, f, args) }()
	e.t.Cleanup(cancel)
	return s
}

var listeningRE = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)

// url waits for the banner and returns the tunnel's address.
func (s *started) url(t *testing.T) string {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if u := listeningRE.FindString(s.errOut.String()); u != "" {
			return u
		}
		select {
		case c := <-s.code:
			t.Fatalf("exited %d before listening: %s", c, s.errOut.String())
		default:
		}
	}
	t.Fatalf("no banner: %s", s.errOut.String())
	return ""
}

// stop cancels (Ctrl-C) and returns the exit code.
func (s *started) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case c := <-s.code:
		return c
	case <-time.After(15 * time.Second):
		t.Fatal("did not stop after Ctrl-C")
	}
	return -1
}

type authRecorder struct {
	mu    sync.Mutex
	authz []string
}

func (a *authRecorder) server(t *testing.T, name string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.authz = append(a.authz, r.Header.Get("Authorization"))
		a.mu.Unlock()
		fmt.Fprintf(w, "%s %s", name, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func httpGet(t *testing.T, u string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestTunnelCommandAttachesTheProfilesToken(t *testing.T) {
	e := newCLIEnv(t, devop.Config{AccessTokenTTL: 5 * time.Minute})
	e.mustRun(e.loginArgs()...)
	tok, _ := e.mustRun("token")
	tok = strings.TrimSpace(tok)
	rec := &authRecorder{}
	api, billing := rec.server(t, "api"), rec.server(t, "billing")

	s := e.start("tunnel", "--to", api.URL, "--route", "/billing="+billing.URL, "--listen", "127.0.0.1:0")
	u := s.url(t)
	if code, body := httpGet(t, u+"/billing/invoices?key=querysecret", "Authorization", "Bearer mine"); code != 200 || body != "billing /billing/invoices" {
		t.Errorf("billing route: %d %q", code, body)
	}
	if code, body := httpGet(t, u+"/v1/items"); code != 200 || body != "api /v1/items" {
		t.Errorf("default route: %d %q", code, body)
	}
	if code, _ := httpGet(t, u+"/v1/items", "Sec-Fetch-Site", "cross-site"); code != 403 {
		t.Errorf("cross-site request: %d, want 403", code)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d after Ctrl-C, want 0: %s", code, s.errOut.String())
	}
	for _, a := range rec.authz {
		if a != "Bearer "+tok {
			t.Errorf("upstream saw %q, want the profile's token", a)
		}
	}
	errOut, out := s.errOut.String(), s.out.String()
	for _, want := range []string{"pingedge tunnel", "/billing", billing.URL, "alice", e.op.Issuer(), "valid until"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("banner lacks %q:\n%s", want, errOut)
		}
	}
	for _, want := range []string{"GET    /billing/invoices 200", "GET    /v1/items 200", "GET    /v1/items 403", "refused: cross-site"} {
		if !strings.Contains(out, want) {
			t.Errorf("access log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{tok, "querysecret", "Bearer mine"} {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("the tunnel printed %q", secret)
		}
	}
}

func TestTunnelCommandJSONAndProfileRoutes(t *testing.T) {
	e := newCLIEnv(t, devop.Config{AccessTokenTTL: 5 * time.Minute})
	e.mustRun(e.loginArgs()...)
	rec := &authRecorder{}
	api := rec.server(t, "api")
	file, err := config.Load(e.env["PINGEDGE_CONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	p := file.Profiles["default"]
	p.Routes, p.Listen = []config.Route{{Prefix: "/api", URL: api.URL}}, "127.0.0.1:0"
	if err := file.Save(e.env["PINGEDGE_CONFIG"]); err != nil {
		t.Fatal(err)
	}
	s := e.start("tunnel", "-o", "json")
	u := s.url(t)
	httpGet(t, u+"/api/x")
	if code, _ := httpGet(t, u+"/other"); code != 404 {
		t.Errorf("path outside the profile's routes: %d", code)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	var banner struct {
		Listening string            `json:"listening"`
		Routes    map[string]string `json:"routes"`
		User      string            `json:"user"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(s.errOut.String(), "\n", 2)[0]), &banner); err != nil ||
		banner.Routes["/api"] != api.URL || banner.User != "alice" || banner.Listening != u {
		t.Errorf("JSON banner %+v %v:\n%s", banner, err, s.errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(s.out.String()), "\n")
	var first struct {
		Method, Path, Route string
		Status              int
		LatencyMS           *float64 `json:"latency_ms"`
	}
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &first) != nil || first.Path != "/api/x" ||
		first.Status != 200 || first.Route != "/api" || first.LatencyMS == nil {
		t.Errorf("JSON access log: %+v\n%s", first, s.out.String())
	}
}

func TestTunnelCommandErrors(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"tunnel", "--to", "http://127.0.0.1:1", "--listen", "0.0.0.0:0"}, ExitUsage, "--allow-remote"},
		{[]string{"tunnel"}, ExitUsage, "no upstream"},
		{[]string{"tunnel", "--route", "api=http://x"}, ExitUsage, "must start with /"},
		{[]string{"tunnel", "--to", "ftp://x"}, ExitUsage, "not an absolute http or https URL"},
		{[]string{"tunnel", "--to", "http://127.0.0.1:1"}, ExitLoginRequired, "pingedge login"},
	}
	for _, c := range cases {
		code, _, errOut := e.run(c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d %q, want %d with %q", c.args, code, errOut, c.code, c.msg)
		}
	}
	e.mustRun(e.loginArgs()...)
	// An address in use is a usage error (exit 2) naming the flag, like edge serve (issue 12 item 7).
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	code, _, errOut := e.run("tunnel", "--to", "http://127.0.0.1:1", "--listen", busy.Addr().String())
	if code != ExitUsage || !strings.Contains(errOut, "address already in use") || !strings.Contains(errOut, "try: choose a free loopback address with --listen") {
		t.Errorf("tunnel on a busy port: exit %d %q, want 2 with the --listen hint", code, errOut)
	}
	for _, args := range [][]string{
		{"tunnel", "--to", "http://127.0.0.1:1", "--listen", "127.0.0.1:0", "--allow-origin", "*"},
		{"tunnel", "--to", "http://127.0.0.1:1", "--listen", "127.0.0.1:0", "--ca-file", "/nonexistent.pem"},
	} {
		if code, _, errOut := e.run(args...); code != ExitUsage {
			t.Errorf("%v: exit %d %s, want 2", args, code, errOut)
		}
	}
}

func TestTunnelCommandWarnsAboutRemoteListenAndStartsWithIssuerDown(t *testing.T) {
	e := newCLIEnv(t, devop.Config{AccessTokenTTL: 5 * time.Minute})
	e.mustRun(e.loginArgs()...)
	rec := &authRecorder{}
	api := rec.server(t, "api")

	s := e.start("tunnel", "--to", api.URL, "--listen", "0.0.0.0:0", "--allow-remote")
	waitOutput(t, s, "Ctrl-C to stop")
	if !strings.Contains(s.errOut.String(), "beyond loopback: anyone who can connect acts as alice") {
		t.Errorf("no warning for a remote listener:\n%s", s.errOut.String())
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}

	e.op.SetDown(true)
	e.clock.Add(6 * time.Minute) // the cached token has expired and cannot be refreshed
	s = e.start("tunnel", "--to", api.URL, "--listen", "127.0.0.1:0")
	u := s.url(t)
	if !strings.Contains(s.errOut.String(), "warning: no token yet") {
		t.Errorf("no warning about the missing token:\n%s", s.errOut.String())
	}
	if code, body := httpGet(t, u+"/x"); code != 503 || !strings.Contains(body, "issuer unavailable") {
		t.Errorf("issuer down, no token: %d %q", code, body)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

func waitOutput(t *testing.T, s *started, want string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(s.errOut.String(), want) {
			return
		}
	}
	select {
	case c := <-s.code:
		t.Fatalf("exited %d: %s", c, s.errOut.String())
	default:
	}
	t.Fatalf("no %q in:\n%s", want, s.errOut.String())
}

// TestTunnelCommandRefusesCleartextUpstreams is issue 16 finding 2: an http:// upstream beyond
// loopback exits 2 with the reason and the flag, before any token is used; with
// --allow-cleartext-upstream the banner warns on every start.
func TestTunnelCommandRefusesCleartextUpstreams(t *testing.T) {
	e := newCLIEnv(t, devop.Config{AccessTokenTTL: 5 * time.Minute})
	for _, args := range [][]string{
		{"tunnel", "--to", "http://api.example.com", "--listen", "127.0.0.1:0"},
		{"tunnel", "--to", "https://api.example.com", "--route", "/b=http://10.1.2.3:8080", "--listen", "127.0.0.1:0"},
	} {
		code, out, errOut := e.run(args...)
		if code != ExitUsage || !strings.Contains(errOut, "unencrypted") || !strings.Contains(errOut, "--allow-cleartext-upstream") || out != "" {
			t.Errorf("%v: exit %d, stderr %q, want 2 naming the risk and the flag", args, code, errOut)
		}
	}
	e.mustRun(e.loginArgs()...)
	for range 2 {
		s := e.start("tunnel", "--to", "http://192.0.2.1", "--allow-cleartext-upstream", "--listen", "127.0.0.1:0")
		waitOutput(t, s, "Ctrl-C to stop")
		if !strings.Contains(s.errOut.String(), "warning: route / sends your token in clear text to http://192.0.2.1") {
			t.Errorf("no clear-text warning in the banner:\n%s", s.errOut.String())
		}
		if code := s.stop(t); code != 0 {
			t.Errorf("exit %d", code)
		}
	}
}

// TestTunnelCommandAccessLogIsInert is issue 10 finding 5 end to end: what a web page puts in a
// path (here refused as cross-site, and forwarded) cannot forge a log line or reach the terminal.
func TestTunnelCommandAccessLogIsInert(t *testing.T) {
	e := newCLIEnv(t, devop.Config{AccessTokenTTL: 5 * time.Minute})
	e.mustRun(e.loginArgs()...)
	api := (&authRecorder{}).server(t, "api")
	s := e.start("tunnel", "--to", api.URL, "--listen", "127.0.0.1:0")
	u := s.url(t)
	httpGet(t, u+"/x%0a12:00:00%20GET%20/forged%20200%1b]0;pwned%07", "Sec-Fetch-Site", "cross-site")
	httpGet(t, u+"/y%1b[2J%c2%9b")
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	out := s.out.String()
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("%d log lines for 2 requests:\n%s", n, out)
	}
	if strings.ContainsAny(out, "\x1b\x07\u009b") {
		t.Errorf("raw control characters in the access log: %q", out)
	}
	for _, want := range []string{`/x\n12:00:00\x20GET\x20/forged\x20200\x1b]0;pwned\x07 403`, `/y\x1b[2J\u{009b} 200`} {
		if !strings.Contains(out, want) {
			t.Errorf("access log lacks %s:\n%s", want, out)
		}
	}
}

// TestAccessLogPalette: on a terminal the log's colours are the house styles' escape sequences,
// computed once; without colour there are none.
func TestAccessLogPalette(t *testing.T) {
	if p := palette(ui.New(io.Discard, false)); p != (tunnel.Palette{}) {
		t.Errorf("palette without colour = %q", p)
	}
	p := palette(ui.New(io.Discard, true))
	for name, seq := range map[string]string{"dim": p.Dim, "ok": p.OK, "warn": p.Warn, "fail": p.Fail, "reset": p.Reset} {
		if !strings.HasPrefix(seq, "\x1b[") || strings.Contains(seq, "x") {
			t.Errorf("%s sequence %q", name, seq)
		}
	}
}
