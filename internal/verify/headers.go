package verify

import (
	"strings"

	"github.com/pingedge/pingedge/internal/verify/policy"
)

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
	if v, ok := h[policy.CanonicalHeaderKey(key)]; ok {
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

// HTTP status codes of decisions (RFC 9110 §15), named here so verify needs no net/http.
const (
	statusOK                 = 200
	statusBadRequest         = 400
	statusUnauthorized       = 401
	statusForbidden          = 403
	statusServiceUnavailable = 503
)
