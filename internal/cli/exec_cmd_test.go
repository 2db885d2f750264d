//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
)

func TestExecSetsTokenAndIssuerAndExitsWithTheCommandsCode(t *testing.T) {
	e := newCLIEnv(t, devop.Config{AccessTokenTTL: 5 * time.Minute})
	e.mustRun(e.loginArgs()...)
	tok, _ := e.mustRun("token")
	dump := filepath.Join(t.TempDir(), "token")
	code, out, errOut := e.run("exec", "--", "sh", "-c",
		`printf %s "$PINGEDGE_ACCESS_TOKEN" > "$1"; echo "issuer=$PINGEDGE_ISSUER"; echo oops >&2; exit 7`, "sh", dump)
	if code != 7 {
		t.Fatalf("exit %d, want the command's 7 (stderr %q)", code, errOut)
	}
	if out != "issuer="+e.op.Issuer()+"\n" || errOut != "oops\n" {
		t.Errorf("stdout %q stderr %q: the command's streams must pass through untouched", out, errOut)
	}
	if got, _ := os.ReadFile(dump); string(got) != strings.TrimSpace(tok) {
		t.Error("PINGEDGE_ACCESS_TOKEN is not the profile's current token")
	}
	if code, _, _ := e.run("exec", "true"); code != 0 {
		t.Errorf("exec true: exit %d", code)
	}
	// Flags after the command belong to it, without --.
	if code, out, _ := e.run("exec", "sh", "-c", "echo $0", "-v"); code != 0 || out != "-v\n" {
		t.Errorf("exec sh -c ... -v: exit %d %q", code, out)
	}
}

// TestExecMinTTLRefreshes: a cached token that would expire within --min-ttl is refreshed first.
func TestExecMinTTLRefreshes(t *testing.T) {
	e := newCLIEnv(t, devop.Config{AccessTokenTTL: 10 * time.Minute})
	e.mustRun(e.loginArgs()...)
	e.clock.Add(8 * time.Minute)
	if code, _, errOut := e.run("exec", "--min-ttl", "1m", "true"); code != 0 || e.op.Stats().Refreshes != 0 {
		t.Fatalf("2m left, --min-ttl 1m: exit %d, %d refreshes (%s)", code, e.op.Stats().Refreshes, errOut)
	}
	if code, _, _ := e.run("exec", "--min-ttl", "5m", "true"); code != 0 || e.op.Stats().Refreshes != 1 {
		t.Errorf("2m left, --min-ttl 5m: exit %d, %d refreshes, want 1", code, e.op.Stats().Refreshes)
	}
}

func TestExecErrors(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	if code, _, errOut := e.run("exec"); code != ExitUsage {
		t.Errorf("exec without a command: exit %d %s", code, errOut)
	}
	if code, _, errOut := e.run("exec", "--", "definitely-not-a-command-x"); code != exitNotFound || !strings.Contains(errOut, "not found") {
		t.Errorf("unknown command: exit %d %s", code, errOut)
	}
	if code, _, errOut := e.run("exec", "--", "true"); code != ExitLoginRequired || !strings.Contains(errOut, "pingedge login") {
		t.Errorf("not logged in: exit %d %s", code, errOut)
	}
}

// TestExecForwardsSignals: a SIGTERM sent to pingedge reaches the command, which decides how to
// end; a command killed by a signal gives 128+N.
func TestExecForwardsSignals(t *testing.T) {
	e := newCLIEnv(t, devop.Config{AccessTokenTTL: 5 * time.Minute})
	e.mustRun(e.loginArgs()...)
	ready := filepath.Join(t.TempDir(), "ready")
	type result struct {
		code int
		out  string
	}
	res := make(chan result, 1)
	go func() {
		code, out, _ := e.run("exec", "--", "sh", "-c", `trap 'echo got TERM; exit 42' TERM; touch "$1"; while :; do sleep 0.05; done`, "sh", ready)
		res <- result{code, out}
	}()
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the command never started")
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-res:
		if r.code != 42 || r.out != "got TERM\n" {
			t.Errorf("exit %d output %q, want the command's trap to run and exit 42", r.code, r.out)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM was not forwarded")
	}
	if code, _, _ := e.run("exec", "--", "sh", "-c", "kill -KILL $$"); code != 128+9 {
		t.Errorf("command killed by SIGKILL: exit %d, want 137", code)
	}
}
