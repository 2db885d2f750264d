package cli

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
)

// TestProfilesListUseAndStatusAll: issue 12 item 6 against the real provider: two logged-in
// profiles and one saved but never logged in; `profiles` lists them with the token state,
// `profiles use` switches the current one, `status --all` shows all three and exits 4 because one
// needs a login.
func TestProfilesListUseAndStatusAll(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	e.mustRun(e.loginArgs("--profile", "work")...)
	e.mustRun(e.loginArgs("--profile", "lab", "--store", "file")...)
	cfg := e.env["PINGEDGE_CONFIG"]
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, []byte("    staging:\n        issuer: https://staging.example.com/as\n        client_id: cli\n")...)
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}

	out, _ := e.mustRun("profiles")
	for _, want := range []string{"NAME", "ISSUER", "USER", "STORE", "TOKEN",
		"lab ", "work ", "staging", "keychain", "file", "alice", "valid for 5m", "not logged in", e.op.Issuer()} {
		if !strings.Contains(out, want) {
			t.Errorf("profiles lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "* ") != 1 || !strings.Contains(out, "* work") {
		t.Errorf("the first login made work current; exactly it must be marked:\n%s", out)
	}

	if code, _, errOut := e.run("profiles", "use", "nope"); code != ExitUsage || !strings.Contains(errOut, `no saved profile "nope"`) || !strings.Contains(errOut, "try: pingedge profiles use lab|staging|work") {
		t.Fatalf("profiles use nope: exit %d %s", code, errOut)
	}
	e.mustRun("profiles", "use", "lab")
	out, _ = e.mustRun("profiles")
	if !strings.Contains(out, "* lab") || strings.Contains(out, "* work") {
		t.Errorf("lab is not marked current:\n%s", out)
	}
	// Commands without --profile now use lab.
	if out, _ := e.mustRun("status"); !strings.Contains(out, "lab (current)") {
		t.Errorf("status after profiles use lab:\n%s", out)
	}

	code, out, _ := e.run("status", "--all")
	if code != ExitLoginRequired || len(regexp.MustCompile(`(?m)^profile `).FindAllString(out, -1)) != 3 || !strings.Contains(out, "not logged in") {
		t.Errorf("status --all: exit %d\n%s", code, out)
	}
	code, out, _ = e.run("status", "--all", "-o", "json")
	var infos []StatusInfo
	if err := json.Unmarshal([]byte(out), &infos); err != nil || code != ExitLoginRequired || len(infos) != 3 {
		t.Fatalf("status --all -o json: exit %d %v\n%s", code, err, out)
	}
	if infos[0].Profile != "lab" || infos[0].Store != "file" || !infos[0].Current || infos[1].State != stateNotLoggedIn || infos[2].State != stateValid {
		t.Errorf("status --all -o json = %+v", infos)
	}
}

// TestStatusAgreesWithToken: issue 12 item 8. status calls a token valid by token's own rule,
// and after the issuer ends the session both say so with exit 4.
func TestStatusAgreesWithToken(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	e.mustRun(e.loginArgs()...)
	e.clock.Add(4*time.Minute + 30*time.Second) // 30s left: token (min-ttl 1m) will refresh
	if out, _ := e.mustRun("status"); !regexp.MustCompile(`expires in (29|30)s: the next pingedge token refreshes it`).MatchString(out) {
		t.Errorf("status with 30s left:\n%s", out)
	}
	e.op.RevokeUser("alice")
	code, _, errOut := e.run("token")
	if code != ExitLoginRequired || !strings.Contains(errOut, "session expired") {
		t.Fatalf("token after revocation: exit %d %s", code, errOut)
	}
	code, out, _ := e.run("status")
	if code != ExitLoginRequired || !strings.Contains(out, "session over: log in again") || strings.Contains(out, "valid for") {
		t.Errorf("status after token's exit 4: exit %d\n%s", code, out)
	}
}

// TestMinTTLLongerThanTokensWarns: issue 12 item 8. --min-ttl 1h against 5-minute tokens
// returns the token (nothing better exists) and says so on stderr; stdout stays the token only.
func TestMinTTLLongerThanTokensWarns(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	e.mustRun(e.loginArgs()...)
	out, errOut := e.mustRun("token", "--min-ttl", "1h")
	if strings.Count(strings.TrimSpace(out), "\n") != 0 || !regexp.MustCompile(`warning: this access token expires in (4m5\ds|5m), before --min-ttl 1h0m0s`).MatchString(errOut) {
		t.Errorf("token --min-ttl 1h: %d lines on stdout (never printed: a token), stderr %q", strings.Count(out, "\n"), errOut)
	}
	if _, errOut := e.mustRun("token"); strings.Contains(errOut, "warning") {
		t.Errorf("default --min-ttl warned: %s", errOut)
	}
	if _, errOut := e.mustRun("exec", "--min-ttl", "1h", "true"); !strings.Contains(errOut, "before --min-ttl 1h0m0s") {
		t.Errorf("exec --min-ttl 1h: %s", errOut)
	}
}
