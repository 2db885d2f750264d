package verify

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/pingedge/pingedge/internal/verify/policy"
)

// The helpers every host of the core (gateway, forward-auth, Worker) needs around a decision,
// kept here so the hosts stamp request ids and strip spoofed headers by one rule.

// MaxRequestIDLen bounds a client-sent request id: it lands in every audit line.
const MaxRequestIDLen = 128

// RequestID keeps a sane client-sent id (so a trace started upstream continues) and stamps a
// random one otherwise. Sane means 1..128 visible ASCII characters without quotes or
// backslashes: nothing that could break a log line or a header.
func RequestID(sent string) string {
	if saneRequestID(sent) {
		return sent
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func saneRequestID(s string) bool {
	if s == "" || len(s) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// SameHeaderName compares header names as the hosts strip them: ASCII case-insensitively with
// '_' equal to '-', because CGI-style origins (PHP, WSGI, Rack) read X_Auth_User and X-Auth-User
// as the same HTTP_X_AUTH_USER variable, so a client must not smuggle an identity header in
// either spelling. It allocates nothing.
func SameHeaderName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if foldHeaderByte(a[i]) != foldHeaderByte(b[i]) {
			return false
		}
	}
	return true
}

func foldHeaderByte(c byte) byte {
	switch {
	case c == '_':
		return '-'
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	}
	return c
}

// CanonicalHeaderKey is the canonical MIME form of a header name ("x-auth-user" →
// "X-Auth-User"), as net/http keys headers, for hosts that must not import net/http.
func CanonicalHeaderKey(s string) string { return policy.CanonicalHeaderKey(s) }
