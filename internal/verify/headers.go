package verify

import "strings"

// Header maps in verify are plain map[string][]string keyed in canonical MIME form, so an
// http.Header is passed as it is (it is assignable) while verify itself never imports net/http:
// net/http and crypto/tls are most of a Go wasm module, and the Worker bundle must stay under
// the Workers' 3 MB gzip limit.

// headerValues returns the values of key, found by its canonical form first (how net/http and
// the Worker bridge key them) and then case-insensitively.
func headerValues(h map[string][]string, key string) []string {
	if h == nil {
		return nil
	}
	if v, ok := h[canonicalKey(key)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// headerGet returns the first value of key, or "".
func headerGet(h map[string][]string, key string) string {
	if v := headerValues(h, key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// canonicalKey is the canonical MIME form of a header name (RFC 9110 §5.1 names are
// case-insensitive; "x-auth-user" → "X-Auth-User"), as net/textproto writes it. Names with
// characters outside the token set are returned unchanged, as textproto does.
func canonicalKey(s string) string {
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

// HTTP status codes of decisions (RFC 9110 §15), named here so verify needs no net/http.
const (
	statusOK                 = 200
	statusBadRequest         = 400
	statusUnauthorized       = 401
	statusForbidden          = 403
	statusServiceUnavailable = 503
)
