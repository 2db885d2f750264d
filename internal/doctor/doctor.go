// Package doctor checks the machine and the profile for what pingedge needs, and explains each
// failure with a fix: the keychain backend, a browser, the issuer's discovery document and keys,
// clock skew against the issuer, proxy and CA settings, and the profile's token state.
package doctor

import (
	"context"
	"net/http"
	"time"

	"github.com/pingedge/pingedge/internal/credstore"
)

// Status is a check's outcome.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn" // works, but not as well as it could
	Fail Status = "fail"
	Skip Status = "skip" // not applicable (for example no issuer configured yet)
)

// Check is one line of the report.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Env is everything the checks touch, injected so tests use real servers and a fake clock.
type Env struct {
	GOOS     string
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error) // /proc/version for WSL, CA files
	Stat     func(string) error           // the D-Bus socket
	UID      int
	HTTP     *http.Client
	Now      func() time.Time
	Keyring  credstore.Backend // the OS keychain backend; nil when this build has none

	// StoreKind is the credential store the profile uses (credstore.KindKeychain or KindFile),
	// and StoreDetail where it keeps the refresh token: the store check reports that store, not
	// whichever one another profile or an earlier run used.
	StoreKind   string
	StoreDetail string

	Profile  string
	Issuer   string // empty: the issuer checks are skipped
	StateDir string
	// StateDirErr is why the state directory may not be used (another user owns it, or group or
	// others can write it: config.PrepareStateDir). Every other command stops on it; doctor lists
	// it with the fix and runs the checks that do not read the directory.
	StateDirErr error
	Store       credstore.Store // the profile's credential store, for the token-state check
}

// MaxSkew is the clock difference the verifier tolerates by default (the policy's leeway).
const MaxSkew = 30 * time.Second

// Run performs every check in order.
func Run(ctx context.Context, env Env) []Check {
	checks := []Check{checkStateDir(env), checkStore(ctx, env), checkBrowser(env)}
	checks = append(checks, checkIssuer(ctx, env)...)
	checks = append(checks, checkProxy(env), checkCA(env), checkToken(ctx, env))
	return checks
}

// Failed reports whether any check failed.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}
