package policy

import (
	"fmt"
	"strings"
)

// CanonicalHeaderKey is the canonical MIME form of a header name (RFC 9110 §5.1 names are
// case-insensitive; "x-auth-user" → "X-Auth-User"), as net/textproto writes it. Names with
// characters outside the token set are returned unchanged, as textproto does.
func CanonicalHeaderKey(s string) string {
	upper := true
	ok := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isTokenChar(c) {
			return s
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			ok = false
		}
		upper = c == '-'
	}
	if ok {
		return s
	}
	b := []byte(s)
	upper = true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		} else if !upper && 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
		upper = c == '-'
	}
	return string(b)
}

// isTokenChar reports RFC 9110 §5.6.2 tchar.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// errorf wraps a sentinel with detail.
func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}
