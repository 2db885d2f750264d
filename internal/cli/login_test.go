package cli

import (
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
)

// TestLoginLifecycle runs login → token (every format) → status → refresh → logout in-process,
// against a real provider, and greps every byte written for the secrets that went by.
func TestLoginLifecycle(t *testing.T) {
	e := newCLIEnv(t, devop.Config{AccessTokenTTL: 5 * time.Minute})
	// zitadel/oidc inside devop logs through slog.Default: capture it for the grep as well.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(e.opLog, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	out, errOut := e.mustRun(e.loginArgs("-v")...)
	if out != "" || !strings.Contains(errOut, "Logged in to "+e.op.Issuer()+" as alice") ||
		!strings.Contains(errOut, "OS keychain") {
		t.Fatalf("login output:\nstdout: %q\nstderr: %s", out, errOut)
	}
	secrets := []string{e.refreshToken("default")}
	secrets = append(secrets, e.codes()...)
	if len(secrets) != 2 || secrets[0] == "" {
		t.Fatalf("expected a refresh token and one code, got %d values", len(secrets))
	}
	cfg, _ := os.ReadFile(e.env["PINGEDGE_CONFIG"])
	if !strings.Contains(string(cfg), e.op.Issuer()) || strings.Contains(string(cfg), secrets[0]) {
		t.Errorf("config file:\n%s", cfg)
	}

	tok := checkTokenFormats(t, e)
	checkStatus(t, e)

	// Expiry: one -v refresh, rotation saved.
	e.clock.Add(5 * time.Minute)
	e.all.Write([]byte("\n")) // keep the tokens printed on stdout out of the grep below
	code, fresh, refreshLog := e.run("token", "-v")
	if code != 0 || strings.TrimSpace(fresh) == tok || !strings.Contains(refreshLog, "refreshing the access token") {
		t.Fatalf("token after expiry: exit %d, stderr %s", code, refreshLog)
	}
	if e.op.Stats().Refreshes != 1 {
		t.Errorf("refreshes = %d, want 1", e.op.Stats().Refreshes)
	}
	secrets = append(secrets, e.refreshToken("default"))
	printed := []string{tok, strings.TrimSpace(fresh)}

	_, logoutLog := e.mustRun("logout", "-v")
	if !strings.Contains(logoutLog, "revoked at the issuer: refresh token, access token") || e.op.Stats().Revocations != 2 {
		t.Errorf("logout: %s (revocations %d)", logoutLog, e.op.Stats().Revocations)
	}
	code, _, errOut = e.run("token")
	if code != ExitLoginRequired || !strings.Contains(errOut, "not logged in") || !strings.Contains(errOut, "try: pingedge login --profile default") {
		t.Errorf("token after logout: exit %d, %s", code, errOut)
	}
	grepSecrets(t, e, append(secrets, printed...), printed)
}

// grepSecrets fails when a token, refresh token or code appears anywhere but where a token was
// asked for: stdout of `pingedge token`, which tests pass through stripTokenOutput.
func grepSecrets(t *testing.T, e *cliEnv, secrets, printed []string) {
	t.Helper()
	outputs := map[string]string{"stdout+stderr of every run": stripTokenOutput(e.all.String(), printed), "provider log": e.opLog.String()}
	for _, s := range secrets {
		for name, out := range outputs {
			if strings.Contains(out, s) {
				t.Errorf("%s contains a secret (%d chars)", name, len(s))
			}
		}
	}
}

// stripTokenOutput removes the lines on which `pingedge token` printed the access token on
// purpose; anything else that still contains a secret is a leak.
func stripTokenOutput(all string, printed []string) string {
	var keep []string
	for _, line := range strings.Split(all, "\n") {
		purposeful := false
		for _, prefix := range []string{"", "Authorization: Bearer ", `{"access_token":"`, `{"apiVersion":`} {
			for _, s := range printed {
				if strings.HasPrefix(line, prefix+s) || prefix != "" && strings.HasPrefix(line, prefix) && strings.Contains(line, `"`+s+`"`) {
					purposeful = true
				}
			}
		}
		if !purposeful {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func checkTokenFormats(t *testing.T, e *cliEnv) string {
	t.Helper()
	raw, _ := e.mustRun("token")
	tok := strings.TrimSuffix(raw, "\n")
	if tok == "" || strings.Contains(tok, "\n") {
		t.Fatalf("token --format raw = %q", raw)
	}
	if h, _ := e.mustRun("token", "--format", "header"); h != "Authorization: Bearer "+tok+"\n" {
		t.Errorf("header format = %q", h)
	}
	var js struct {
		AccessToken string    `json:"access_token"`
		TokenType   string    `json:"token_type"`
		ExpiresAt   time.Time `json:"expires_at"`
	}
	j, _ := e.mustRun("token", "-o", "json")
	if json.Unmarshal([]byte(j), &js) != nil || js.AccessToken != tok || js.TokenType != "Bearer" || js.ExpiresAt.IsZero() {
		t.Errorf("json format = %s", j)
	}
	var ec struct {
		APIVersion, Kind string
		Status           struct {
			Token               string
			ExpirationTimestamp time.Time
		}
	}
	k, _ := e.mustRun("token", "--format", "k8s")
	if json.Unmarshal([]byte(k), &ec) != nil || ec.APIVersion != "client.authentication.k8s.io/v1" || ec.Kind != "ExecCredential" ||
		ec.Status.Token != tok || ec.Status.ExpirationTimestamp.IsZero() {
		t.Errorf("k8s format = %s", k)
	}
	if e.op.Stats().Refreshes != 0 {
		t.Error("token refreshed although the cached one was valid")
	}
	return tok
}

func checkStatus(t *testing.T, e *cliEnv) {
	t.Helper()
	for _, cmd := range []string{"status", "whoami"} {
		out, _ := e.mustRun(cmd)
		for _, want := range []string{"profile", "default", "alice", e.op.Issuer(), "openid", "valid for 5m", "OS keychain"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", cmd, want, out)
			}
		}
	}
	var st StatusInfo
	out, _ := e.mustRun("status", "-o", "json")
	if json.Unmarshal([]byte(out), &st) != nil || st.Subject != "alice" || !st.RefreshToken || st.Store != "keychain" {
		t.Errorf("status -o json = %s", out)
	}
}

func TestSessionExpiredExitsFour(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	e.mustRun(e.loginArgs("--profile", "work")...)
	e.op.RevokeUser("alice")
	e.clock.Add(time.Hour)
	code, out, errOut := e.run("token", "--profile", "work")
	if code != ExitLoginRequired || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	// The message says what is wrong and the hint what to run, once each (issue 12 item 12).
	if !strings.Contains(errOut, "session expired (profile work)") || strings.Count(errOut, "pingedge login") != 1 ||
		!strings.Contains(errOut, "try: pingedge login --profile work") {
		t.Errorf("stderr = %s", errOut)
	}
}

func TestNotLoggedInExitsFour(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	for _, cmd := range []string{"token", "status", "whoami"} {
		if code, _, errOut := e.run(cmd); code != ExitLoginRequired || !strings.Contains(errOut, "not logged in") {
			t.Errorf("%s: exit %d, %s", cmd, code, errOut)
		}
	}
}

func TestFileStoreIsAnnounced(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	_, errOut := e.mustRun(e.loginArgs("--store", "file")...)
	if !strings.Contains(errOut, "warning: the refresh token is in a plain-text file") {
		t.Errorf("login did not announce the file store:\n%s", errOut)
	}
	if e.keyring.Len() != 0 {
		t.Error("the keychain was written although --store file was chosen")
	}
	out, _ := e.mustRun("status")
	if !strings.Contains(out, "plain-text file") {
		t.Errorf("status does not show the file store:\n%s", out)
	}
	if _, errOut := e.mustRun("token"); errOut != "" {
		t.Errorf("token wrote to stderr: %s", errOut)
	}
}

func TestDeviceFlowWhenNoBrowser(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	delete(e.env, "DISPLAY")
	var stderr lockedBuffer
	e.onSleep = func() {
		_, after, ok := strings.Cut(e.all.String(), "enter the code: ")
		if code, _, _ := strings.Cut(after, "\n"); ok {
			_ = e.op.ApproveDevice(code, "bob")
		}
	}
	_, errOut := e.mustRun(e.loginArgs()...)
	stderr.Write([]byte(errOut))
	if !strings.Contains(errOut, "enter the code: ") || !strings.Contains(errOut, "as bob") {
		t.Errorf("device login stderr:\n%s", errOut)
	}
	if e.visited.String() != "" {
		t.Error("a browser was opened with no display")
	}
}

func TestLoginUsageErrors(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	for name, args := range map[string][]string{
		"issuer and pingone-env": e.loginArgs("--pingone-env", "abc"),
		"no client id":           {"login", "--issuer", e.op.Issuer()},
		"no issuer":              {"login", "--client-id", "x"},
		"bad flow":               e.loginArgs("--flow", "magic"),
		"bad store":              e.loginArgs("--store", "cloud"),
		"bad region":             {"login", "--pingone-env", "abc", "--region", "mars", "--client-id", "x"},
		"bad profile name":       e.loginArgs("--profile", "../x"),
		"http issuer":            {"login", "--issuer", "http://example.com", "--client-id", "x"},
		"bad token format":       {"token", "--format", "xml"},
	} {
		if code, out, errOut := e.run(args...); code != ExitUsage || out != "" || errOut == "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, out, errOut)
		}
	}
}

// TestSecretGrepCanFail keeps the grep honest: only the purposeful token lines are dropped.
func TestSecretGrepCanFail(t *testing.T) {
	all := "pingedge: refreshed\nAT1\nAuthorization: Bearer AT1\nleak RT1 here\nleak AT1 too\n"
	got := stripTokenOutput(all, []string{"AT1"})
	if !strings.Contains(got, "RT1") || !strings.Contains(got, "leak AT1") || strings.Contains(got, "Bearer") {
		t.Fatalf("stripTokenOutput kept %q", got)
	}
}
