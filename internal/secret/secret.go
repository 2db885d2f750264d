// Package secret holds the types that carry credentials through pingedge. Their String, Format,
// GoString and MarshalJSON redact, so a token that slips into a log line, an error or a panic
// prints as "[redacted]" instead of itself. Read the value only with Reveal, at the one place
// it must leave the process (an Authorization header, the keychain, stdout of `pingedge token`).
package secret

import (
	"fmt"
	"time"
)

const redacted = "[redacted]"

// String is a secret string.
type String string

// Reveal returns the secret value. Call it only where the value must leave the process.
func (s String) Reveal() string { return string(s) }

// Empty reports whether no secret is held.
func (s String) Empty() bool { return s == "" }

func (s String) String() string   { return redacted }
func (s String) GoString() string { return redacted }

// Format redacts under every verb, including %v, %s, %q and %#v.
func (s String) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON redacts; encode the revealed value explicitly where JSON must carry it.
func (s String) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText redacts (covers YAML and other text encoders).
func (s String) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// AccessToken is a bearer token with the times a caller needs to schedule its refresh.
type AccessToken struct {
	Value    String
	Expiry   time.Time // zero when the issuer gave no expires_in
	IssuedAt time.Time // when pingedge obtained it
}

// Valid reports whether the token is present and still valid for at least minTTL at now.
func (t AccessToken) Valid(now time.Time, minTTL time.Duration) bool {
	if t.Value.Empty() {
		return false
	}
	return t.Expiry.IsZero() || now.Add(minTTL).Before(t.Expiry)
}
