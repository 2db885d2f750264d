package verify

import (
	"strings"

	"github.com/pingedge/pingedge/internal/verify/policy"
)

// ExtractToken finds the bearer token of a request: the Authorization header with the Bearer
// scheme (case-insensitive, RFC 6750 §2.1, RFC 9110 §11.1), else the policy's token_header
// (e.g. Cf-Access-Jwt-Assertion) carrying the bare token. More than one Authorization header,
// or a value with characters outside the token68 set, yields no token.
func ExtractToken(h map[string][]string, p *policy.Policy) (string, bool) {
	tok, scheme := extractCredential(h, p)
	return tok, tok != "" && scheme == "Bearer"
}

// extractCredential is ExtractToken that also accepts the DPoP scheme (RFC 9449 §7.1) when
// the policy's dpop is not off, and says which scheme carried the token ("Bearer" for the
// token_header too).
func extractCredential(h map[string][]string, p *policy.Policy) (string, string) {
	if vals := headerValues(h, "Authorization"); len(vals) > 0 {
		if len(vals) != 1 {
			return "", ""
		}
		scheme, tok, ok := strings.Cut(vals[0], " ")
		tok = strings.TrimLeft(tok, " ")
		if !ok || !isToken68(tok) {
			return "", ""
		}
		switch {
		case strings.EqualFold(scheme, "Bearer"):
			return tok, "Bearer"
		case strings.EqualFold(scheme, "DPoP") && p != nil && p.DPoPEnabled():
			return tok, "DPoP"
		}
		return "", ""
	}
	if p != nil && p.TokenHeader != "" {
		vals := headerValues(h, p.TokenHeader)
		if len(vals) == 1 && isToken68(strings.TrimSpace(vals[0])) {
			return strings.TrimSpace(vals[0]), "Bearer"
		}
	}
	return "", ""
}

// isToken68 checks RFC 9110 §11.2 token68: ALPHA / DIGIT / "-._~+/" then "=" padding. It runs
// over every byte of every token the edge sees, so it is a table lookup per byte.
func isToken68(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !token68Chars[s[i]] {
			return false
		}
	}
	return true
}

var token68Chars = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = unreserved(byte(c)) || c == '+' || c == '/' || c == '='
	}
	return t
}()

// unreserved is RFC 3986 §2.3's unreserved set, token68's base (RFC 7235 §2.1).
func unreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
