package jose

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors a caller (the inspect checklist, the edge's metrics) can branch on with
// errors.Is. Every error Verify returns wraps exactly one of them.
var (
	// ErrMalformed: not a compact JWS of three base64url segments, too large, bad JSON, a JWE,
	// or a JSON serialization.
	ErrMalformed = errors.New("malformed token")
	// ErrAlgorithm: alg none, a symmetric or unknown algorithm, or one the policy does not allow.
	ErrAlgorithm = errors.New("algorithm not allowed")
	// ErrHeader: a header the verifier refuses (crit, b64, cty, typ, an oversized kid).
	ErrHeader = errors.New("header not accepted")
	// ErrUnknownKey: no key with the token's kid in the key set, even after a refresh.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrKeyMismatch: the key exists but its type or alg does not fit the token's alg.
	ErrKeyMismatch = errors.New("key does not fit the algorithm")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("signature invalid")
	// ErrKeysUnavailable: no keys could be loaded (issuer unreachable and nothing cached).
	ErrKeysUnavailable = errors.New("signing keys unavailable")
	// ErrClaims: the claims are not a JSON object of well-typed registered claims.
	ErrClaims = errors.New("claims invalid")
	// ErrIssuer: iss is not the policy's issuer.
	ErrIssuer = errors.New("issuer not accepted")
	// ErrAudience: aud does not contain one of the policy's audiences.
	ErrAudience = errors.New("audience not accepted")
	// ErrExpired: exp is in the past (beyond the leeway). See TokenExpiredError.
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid: nbf or iat is in the future (beyond the leeway).
	ErrNotYetValid = errors.New("token not yet valid")
)

// TokenExpiredError says when the token expired, so the CLI can print "expired 3h ago".
type TokenExpiredError struct{ Expiry time.Time }

func (e *TokenExpiredError) Error() string {
	return fmt.Sprintf("token expired at %s", e.Expiry.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrExpired) true.
func (e *TokenExpiredError) Is(target error) bool { return target == ErrExpired }

// TokenNotYetValidError says from when the token is valid (nbf, or iat in the future).
type TokenNotYetValidError struct {
	Claim string // "nbf" or "iat"
	From  time.Time
}

func (e *TokenNotYetValidError) Error() string {
	return fmt.Sprintf("token not valid before %s (%s)", e.From.UTC().Format(time.RFC3339), e.Claim)
}

// Is makes errors.Is(err, ErrNotYetValid) true.
func (e *TokenNotYetValidError) Is(target error) bool { return target == ErrNotYetValid }

// errorf wraps a sentinel with detail: errorf(ErrHeader, "crit %q not understood", name).
func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}

// sentinels is the one list of what a verification can fail on, with each failure's kind for
// JSON output. Kind and ShortReason both read it, so they cannot disagree.
var sentinels = []struct {
	err  error
	kind string
}{
	{ErrMalformed, "malformed"}, {ErrAlgorithm, "algorithm"}, {ErrHeader, "header"},
	{ErrUnknownKey, "unknown_key"}, {ErrKeyMismatch, "key_mismatch"}, {ErrSignature, "signature"},
	{ErrKeysUnavailable, "keys_unavailable"}, {ErrClaims, "claims"}, {ErrIssuer, "issuer"},
	{ErrAudience, "audience"}, {ErrExpired, "expired"}, {ErrNotYetValid, "not_yet_valid"},
}

// Kind names the sentinel an error wraps ("signature", "expired", ...), for JSON output: "" for
// nil, "other" for an error that wraps none.
func Kind(err error) string {
	if err == nil {
		return ""
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.kind
		}
	}
	return "other"
}

// ShortReason is the sentinel's own text ("signature invalid"): enough for a client (the RFC 6750
// error_description), nothing about keys or claims. "invalid token" when err wraps none.
func ShortReason(err error) string {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.err.Error()
		}
	}
	return "invalid token"
}

// Reason returns the short, token-free phrase used in logs, audit records and the RFC 6750
// error_description for err.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
