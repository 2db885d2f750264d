// Package credstore keeps pingedge's refresh tokens: in the OS keychain through go-keyring (the
// default), in a 0600 file when the user opts in with --store file, or in memory for tests.
//
// Only the refresh token lives here. It is the long-lived secret, so it gets the strongest store
// the machine has; the short-lived access token is cached by internal/login in a 0600 file in the
// state directory (see docs/login.md, "What is stored where").
package credstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/pingedge/pingedge/internal/secret"
)

// Service is the keychain service name; every profile is one item under it.
const Service = "pingedge"

// Kinds of store, as written in a profile's `store:` and accepted by --store.
const (
	KindKeychain = "keychain"
	KindFile     = "file"
	KindMemory   = "memory"
)

var (
	// ErrNotFound means the store holds no refresh token for the profile.
	ErrNotFound = errors.New("no refresh token stored")
	// ErrUnavailable means the store cannot be used at all (no Secret Service, a locked or hung
	// keychain, an unreadable file). It is never turned into a silent fallback.
	ErrUnavailable = errors.New("credential store unavailable")
	// ErrTooBig means the secret exceeds what the OS keychain can hold.
	ErrTooBig = errors.New("refresh token too big for the OS keychain")
)

// Store keeps one refresh token per profile. Implementations are safe for concurrent use.
type Store interface {
	// Get returns the profile's refresh token, or ErrNotFound.
	Get(ctx context.Context, profile string) (secret.String, error)
	// Set saves (replaces) the profile's refresh token.
	Set(ctx context.Context, profile string, token secret.String) error
	// Delete removes the profile's refresh token; deleting what is absent is not an error.
	Delete(ctx context.Context, profile string) error
	// Kind is KindKeychain, KindFile or KindMemory.
	Kind() string
	// Describe says where the secret lives, for `status` and the login announcement.
	Describe() string
}

var profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckProfile rejects profile names that cannot safely name a keychain item or a file.
func CheckProfile(name string) error {
	if !profileName.MatchString(name) {
		return fmt.Errorf("profile name %q: use letters, digits, '.', '_' or '-' (at most 64)", name)
	}
	return nil
}
