package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/devop"
)

// TestParallelTokenProcessesRefreshOnce starts many `pingedge token` processes at the moment the
// cached access token stops being good enough: exactly one refresh reaches the issuer, and every
// process prints the same new token (the others waited on the file lock and re-read the cache).
// Under `make test` the refresh token lives in the real Secret Service; elsewhere in the file store.
func TestParallelTokenProcessesRefreshOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pingedge and waits for a token to age: skipped with -short")
	}
	bin := buildPingedge(t)
	const ttl, minTTL = 10 * time.Second, 6 * time.Second
	e := newCLIEnv(t, devop.Config{AccessTokenTTL: ttl})
	profile := fmt.Sprintf("proc-%d", time.Now().UnixNano())
	store := "file"
	if os.Getenv("PINGEDGE_TEST_SECRET_SERVICE") == "1" {
		store, e.keyring = "keychain", nil
	}
	f := e.realTimeRun(store)
	f(e.loginArgs("--profile", profile, "--store", store)...)
	t.Cleanup(func() { f("logout", "--profile", profile) })

	// Wait until the cached token has less than minTTL left; the refreshed one will have ttl.
	time.Sleep(ttl - minTTL + 200*time.Millisecond)
	const n = 8
	outs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cmd := exec.Command(bin, "token", "--profile", profile, "--min-ttl", minTTL.String())
			cmd.Env = append(os.Environ(), "PINGEDGE_CONFIG="+e.env["PINGEDGE_CONFIG"], "NO_COLOR=1", "PINGEDGE_PROFILE=")
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("process %d: %v %s", i, err, stderrOf(err))
			}
			outs[i] = strings.TrimSpace(string(out))
		})
	}
	wg.Wait()
	st := e.op.Stats()
	if st.Refreshes != 1 || st.ReusedRefreshTokens != 0 {
		t.Errorf("stats = %+v, want exactly 1 refresh and no reused refresh token", st)
	}
	for i, o := range outs {
		if o == "" || o != outs[0] {
			t.Errorf("process %d printed a different token", i)
		}
	}
}

// realTimeRun returns a runner using the real clock and the given store (the real keychain when
// e.keyring is nil), failing the test on a non-zero exit.
func (e *cliEnv) realTimeRun(store string) func(args ...string) {
	return func(args ...string) {
		e.t.Helper()
		f := e.factoryForProcessTest()
		// Not t.Context(): the logout runs in Cleanup, after that context is cancelled.
		if code := Run(context.Background(), f, args); code != 0 {
			e.t.Fatalf("pingedge %s: exit %d (store %s)", strings.Join(args, " "), code, store)
		}
	}
}

func (e *cliEnv) factoryForProcessTest() *Factory {
	var backend credstore.Backend = credstore.OSBackend{}
	if e.keyring != nil {
		backend = e.keyring
	}
	return &Factory{
		IO: IOStreams{In: strings.NewReader(""), Out: e.all, ErrOut: e.all}, Getenv: func(k string) string { return e.env[k] },
		Now: time.Now, HTTP: defaultHTTPClient(), Global: &GlobalOptions{}, Keyring: backend, Browser: e.browser(),
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// buildPingedge compiles the real binary once per test.
func buildPingedge(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pingedge")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/pingedge/pingedge/cmd/pingedge")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
