package credstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/pingedge/pingedge/internal/secret"
)

// Backend is the keychain API pingedge needs; go-keyring's Keyring has this shape. It is injected
// so tests can point the store at the real Secret Service or at a MemoryBackend.
type Backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// OSBackend is the operating system's keychain (macOS Keychain, Windows Credential Manager,
// the Secret Service on Linux) through go-keyring.
type OSBackend struct{}

func (OSBackend) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (OSBackend) Set(service, user, pw string) error       { return keyring.Set(service, user, pw) }
func (OSBackend) Delete(service, user string) error        { return keyring.Delete(service, user) }

// DefaultTimeout bounds every keychain call: a hung D-Bus or a keychain waiting for an unlock
// prompt nobody sees must not hang the CLI (the GitHub CLI does the same).
const DefaultTimeout = 5 * time.Second

// Keychain stores refresh tokens in an OS keychain, one item per profile under Service. The item
// holds the refresh token alone (no JSON, no metadata) so it stays within the platform limits.
type Keychain struct {
	Backend Backend
	Timeout time.Duration // DefaultTimeout when zero
	Limit   int           // bytes; PlatformLimit(runtime.GOOS) when zero
}

// PlatformLimit is the largest secret the platform's keychain takes: Windows Credential Manager
// caps a credential blob at 2,560 bytes; go-keyring on macOS base64-encodes the secret into a
// 4,096-byte `security` command, which leaves about 3,000; the Secret Service has no hard cap.
func PlatformLimit(goos string) int {
	switch goos {
	case "windows":
		return 2560
	case "darwin":
		return 2900
	}
	return 1 << 20
}

func (k *Keychain) Kind() string { return KindKeychain }

func (k *Keychain) Describe() string {
	return fmt.Sprintf("OS keychain (%s, service %q)", keychainName(runtime.GOOS), Service)
}

func keychainName(goos string) string {
	switch goos {
	case "darwin":
		return "macOS Keychain"
	case "windows":
		return "Windows Credential Manager"
	}
	return "Secret Service"
}

func (k *Keychain) Get(ctx context.Context, profile string) (secret.String, error) {
	var v string
	err := k.call(ctx, "read", func() (err error) { v, err = k.Backend.Get(Service, profile); return err })
	if err != nil {
		return "", err
	}
	return secret.String(v), nil
}

func (k *Keychain) Set(ctx context.Context, profile string, token secret.String) error {
	limit := k.Limit
	if limit == 0 {
		limit = PlatformLimit(runtime.GOOS)
	}
	if n := len(token.Reveal()); n > limit {
		return tooBig(n, limit)
	}
	err := k.call(ctx, "write", func() error { return k.Backend.Set(Service, profile, token.Reveal()) })
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return tooBig(len(token.Reveal()), limit)
	}
	return err
}

func tooBig(n, limit int) error {
	return fmt.Errorf("%w: the issuer's refresh token is %d bytes and this keychain holds at most %d", ErrTooBig, n, limit)
}

func (k *Keychain) Delete(ctx context.Context, profile string) error {
	err := k.call(ctx, "delete", func() error { return k.Backend.Delete(Service, profile) })
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// call runs one keychain operation with a timeout and maps its errors: not-found stays
// ErrNotFound, everything else means the keychain is unusable, named with its cause and the
// user's choices. A timed-out call is abandoned (its goroutine ends when the backend returns).
func (k *Keychain) call(ctx context.Context, what string, op func() error) error {
	timeout := k.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	done := make(chan error, 1)
	go func() { done <- op() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return classify(what, err)
	case <-timer.C:
		return unavailable(what, fmt.Errorf("no answer within %s (a locked keychain or a hung D-Bus?)", timeout))
	case <-ctx.Done():
		return fmt.Errorf("keychain %s: %w", what, ctx.Err())
	}
}

func classify(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return err
	}
	return unavailable(what, err)
}

func unavailable(what string, cause error) error {
	// What to do about it is the CLI's hint (internal/cli/login_errors.go) or doctor's fix.
	return fmt.Errorf("%w: keychain %s failed: %w", ErrUnavailable, what, cause)
}
