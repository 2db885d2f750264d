package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/hostileop"
	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/ui"
)

// hostileNames are what a hostile issuer puts in user codes, names and claims: a window-title
// OSC, screen clear, an 8-bit CSI, a bidi override, a forged line, DEL and a raw non-UTF-8 byte.
const hostileNames = "\x1b]0;owned\x07\x1b[2J\u009b31m\u202egnp.exe\nerror: forged\x7f\xff"

// hostileCLI runs pingedge commands in-process against a hostile provider.
type hostileCLI struct {
	t     *testing.T
	op    *hostileop.Server
	clock *testClock
	env   map[string]string
	kc    *credstore.MemoryBackend
	http  *http.Client
}

func newHostileCLI(t *testing.T, cfg hostileop.Config) *hostileCLI {
	t.Helper()
	op, err := hostileop.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	dir := t.TempDir()
	return &hostileCLI{
		t: t, op: op, clock: &testClock{now: time.Now()}, kc: credstore.NewMemoryBackend(),
		http: defaultHTTPClient(),
		env: map[string]string{
			"PINGEDGE_CONFIG": filepath.Join(dir, "config.yaml"), "NO_COLOR": "1",
			"HOME": dir, "XDG_STATE_HOME": filepath.Join(dir, "state"),
		},
	}
}

// run executes one command line with stdout and stderr going to out and errOut.
func (h *hostileCLI) run(out, errOut io.Writer, args ...string) int {
	f := &Factory{
		IO:     IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut},
		Getenv: func(k string) string { return h.env[k] }, Now: h.clock.Now, HTTP: h.http,
		Global: &GlobalOptions{}, Keyring: h.kc,
		Sleep: func(ctx context.Context, d time.Duration) error { h.clock.Add(d); return ctx.Err() },
	}
	return Run(h.t.Context(), f, args)
}

func (h *hostileCLI) loginArgs(extra ...string) []string {
	return append([]string{"login", "--issuer", h.op.Issuer(), "--client-id", hostileop.ClientID, "--flow", "device", "--no-browser"}, extra...)
}

// controlLines returns the output lines that still hold a raw control byte, DEL, a C1 control, a
// bidi override or invalid UTF-8 (the definition ui.Sanitize escapes).
func controlLines(s string) []string {
	var bad []string
	for _, line := range strings.Split(s, "\n") {
		if ui.HasControl(line) {
			bad = append(bad, line)
		}
	}
	return bad
}

// TestHostileIssuerCannotDriveTheTerminal signs in to an issuer whose user code, user name,
// subject and token claims carry escape sequences, runs every command that shows them (text and
// -v), and scans every byte written to stdout and stderr for raw control characters.
func TestHostileIssuerCannotDriveTheTerminal(t *testing.T) {
	h := newHostileCLI(t, hostileop.Config{
		UserCode: "AB\x1b[2J" + hostileNames, Username: hostileNames, Subject: "sub" + hostileNames,
		AccessClaims: map[string]any{"roles": []string{"admin" + hostileNames}, hostileNames: hostileNames, "scope": "openid " + hostileNames},
	})
	cmds := [][]string{
		h.loginArgs("-v"), {"status"}, {"status", "--all"}, {"profiles"}, {"whoami", "-v"}, {"token", "-v"}, {"inspect"},
		{"inspect", "--verify", "--issuer", h.op.Issuer(), "--audience", "https://other.example"},
		{"doctor"}, {"logout", "-v"},
	}
	for _, args := range cmds {
		var out, errOut strings.Builder
		code := h.run(&out, &errOut, args...)
		if strings.Contains(out.String()+errOut.String(), "panic") {
			t.Fatalf("pingedge %s panicked", args[0])
		}
		// Each command must get as far as showing the hostile strings: only inspect --verify
		// (wrong audience) and doctor (an http issuer is a finding) may fail.
		if code != 0 && !(args[0] == "inspect" && len(args) > 1) && args[0] != "doctor" {
			t.Fatalf("pingedge %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
		}
		for stream, text := range map[string]string{"stdout": out.String(), "stderr": errOut.String()} {
			if args[0] == "token" && stream == "stdout" {
				continue // the token itself: checked below to be printable
			}
			if bad := controlLines(text); len(bad) > 0 {
				t.Errorf("pingedge %s wrote raw control bytes to %s:\n%q", strings.Join(args, " "), stream, bad)
			}
		}
		if args[0] == "login" && !strings.Contains(errOut.String(), `\x1b]0;owned\x07`) {
			t.Errorf("login must show the escaped name, not drop it:\n%s", errOut.String())
		}
	}
}

// TestHostileAccessTokenIsRefused: a token with an escape sequence in it never reaches
// `pingedge token`'s stdout (nor an Authorization header): login refuses it.
func TestHostileAccessTokenIsRefused(t *testing.T) {
	h := newHostileCLI(t, hostileop.Config{AccessToken: "eyJ\x1b]0;owned\x07.x.y"})
	var out, errOut strings.Builder
	if code := h.run(&out, &errOut, h.loginArgs()...); code != ExitFailed || !strings.Contains(errOut.String(), "printable ASCII") {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	if bad := controlLines(out.String() + errOut.String()); len(bad) > 0 {
		t.Fatalf("%q", bad)
	}
}

// TestDeviceFlowHonoursTimeout: `login --no-browser --timeout 2s` gives up after 2 seconds of
// real time, although the issuer's code lives 10 minutes (issue 12 item 5).
func TestDeviceFlowHonoursTimeout(t *testing.T) {
	h := newHostileCLI(t, hostileop.Config{Interval: "1", ExpiresIn: "600", PendingPolls: -1})
	done := make(chan string, 1)
	start := time.Now()
	go func() {
		var out, errOut strings.Builder
		f := &Factory{
			IO:     IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
			Getenv: func(k string) string { return h.env[k] }, Now: time.Now, HTTP: h.http,
			Global: &GlobalOptions{}, Keyring: h.kc, Sleep: login.SleepContext,
		}
		code := Run(h.t.Context(), f, h.loginArgs("--timeout", "2s"))
		done <- fmt.Sprintf("exit %d: %s", code, errOut.String())
	}()
	select {
	case res := <-done:
		if took := time.Since(start); took > 8*time.Second || !strings.Contains(res, "exit 1") || !strings.Contains(res, "approved after 2s") || !strings.Contains(res, "longer --timeout") {
			t.Fatalf("after %s: %s", took, res)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("login --timeout 2s still waiting after 20s")
	}
}

// TestStateLivesUnderXDGStateAndIsChecked: with the default paths the session (it holds the access
// token) is written under ~/.local/state/pingedge, not ~/.config; one left at the old place is
// moved there; a state directory others can write is refused with the command that fixes it.
func TestStateLivesUnderXDGStateAndIsChecked(t *testing.T) {
	h := newHostileCLI(t, hostileop.Config{})
	home := h.env["HOME"]
	delete(h.env, "PINGEDGE_CONFIG")
	delete(h.env, "XDG_STATE_HOME")
	var out, errOut strings.Builder
	if code := h.run(&out, &errOut, h.loginArgs()...); code != 0 {
		t.Fatalf("login: %s", errOut.String())
	}
	state := filepath.Join(home, ".local", "state", "pingedge")
	legacy := filepath.Join(home, ".config", "pingedge", "state")
	if _, err := os.Stat(filepath.Join(state, "sessions", "default.json")); err != nil {
		t.Fatalf("session not under the XDG state directory: %v", err)
	}
	if _, err := os.Stat(legacy); err == nil {
		t.Fatal("a state directory was created under ~/.config")
	}
	// An older pingedge's state directory is moved once, and the session keeps working.
	if err := os.Rename(state, legacy); err != nil {
		t.Fatal(err)
	}
	if code := h.run(&out, &errOut, "status"); code != 0 {
		t.Fatalf("status after migration: %s", errOut.String())
	}
	if fi, err := os.Stat(filepath.Join(state, "sessions", "default.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("migrated session: %v %v", fi, err)
	}
	os.Chmod(state, 0o777)
	errOut.Reset()
	if code := h.run(&out, &errOut, "token"); code != ExitUsage || !strings.Contains(errOut.String(), "run chmod 700 "+state) {
		t.Fatalf("token with a world-writable state directory: exit %d\n%s", code, errOut.String())
	}
}

// TestLogoutDoesNotClaimARedirectedRevocation: `pingedge logout` against a revocation endpoint
// that redirects elsewhere says the tokens stay valid at the issuer, never "revoked at the issuer".
func TestLogoutDoesNotClaimARedirectedRevocation(t *testing.T) {
	h := newHostileCLI(t, hostileop.Config{})
	sink := hostileop.StartSink()
	defer sink.Close()
	var out, errOut strings.Builder
	if code := h.run(&out, &errOut, h.loginArgs()...); code != 0 {
		t.Fatalf("login: %s", errOut.String())
	}
	h.op.SetRedirect("revocation", hostileop.Redirect{Code: 307, Location: sink.URL() + "/steal"})
	errOut.Reset()
	if code := h.run(&out, &errOut, "logout"); code != 0 {
		t.Fatalf("logout: exit %d\n%s", code, errOut.String())
	}
	if msg := errOut.String(); strings.Contains(msg, "revoked at the issuer") || !strings.Contains(msg, "redirected (HTTP 307)") || !strings.Contains(msg, "deleted locally only") {
		t.Fatalf("logout said:\n%s", msg)
	}
	if got := sink.Requests(); len(got) != 0 {
		t.Fatalf("the other host received %d requests", len(got))
	}
}
