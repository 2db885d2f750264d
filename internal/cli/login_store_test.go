package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/devop"
)

// brokenKeychain fails the way go-keyring does on a machine without a Secret Service. The real
// failure is produced in internal/credstore (TestNoSecretServiceIsAClearError); godbus caches its
// session bus per process, so an in-process command test cannot point it at a missing bus.
type brokenKeychain struct{}

var errNoBus = errors.New("The name org.freedesktop.secrets was not provided by any .service files")

func (brokenKeychain) Get(string, string) (string, error) { return "", errNoBus }
func (brokenKeychain) Set(string, string, string) error   { return errNoBus }
func (brokenKeychain) Delete(string, string) error        { return errNoBus }

// TestNoKeychainStopsBeforeTheBrowser: the user learns about the missing keychain and the
// choices before signing in, and nothing falls back to a file silently.
func TestNoKeychainStopsBeforeTheBrowser(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	e.keyringOverride = brokenKeychain{}
	code, out, errOut := e.run(e.loginArgs()...)
	if code != ExitFailed || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	for _, want := range []string{"credential store unavailable", "org.freedesktop.secrets", "--store file"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Count(errOut, "--store file") != 1 {
		t.Errorf("the --store file advice must be given once, as the hint:\n%s", errOut)
	}
	if e.visited.String() != "" || e.op.Stats().AuthCodeExchanges != 0 {
		t.Error("the browser was sent to the issuer although nothing could be saved")
	}
	// The opt-in file store works on the same machine.
	e.mustRun(e.loginArgs("--store", "file")...)
	e.mustRun("token")
}

func TestLogoutAll(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	e.mustRun(e.loginArgs("--profile", "one")...)
	e.mustRun(e.loginArgs("--profile", "two")...)
	_, errOut := e.mustRun("logout", "--all")
	for _, p := range []string{"one", "two"} {
		if !strings.Contains(errOut, "Logged out of profile "+p) {
			t.Errorf("logout --all output lacks profile %s:\n%s", p, errOut)
		}
	}
	if e.keyring.Len() != 0 || e.op.Stats().Revocations != 4 {
		t.Errorf("items left %d, revocations %d; want 0 and 4", e.keyring.Len(), e.op.Stats().Revocations)
	}
	if code, _, _ := e.run("token", "--profile", "two"); code != ExitLoginRequired {
		t.Errorf("token after logout --all: exit %d", code)
	}
}
