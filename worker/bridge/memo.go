package bridge

import (
	"bytes"
	"strings"

	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

// The shim's decision memo: a request the core allowed on a verified token is answered again
// by the shim alone while the token's validation result would still be in the engine's cache,
// so a client's repeated requests cost a Map lookup instead of a trip into Go (in workerd the
// crossing, not the decision, was most of the Worker's time per request; docs/performance.md).
// Nothing is decided in JavaScript: the memo replays the core's own answer for the same inputs.
//
// What makes the replay exact:
//   - The key holds everything the answer depends on: method, raw path, every header name
//     (the strip list is the request's own spellings of the identity headers) and the values of
//     the headers that carry the token. No other header value reaches the decision.
//   - Only allowed decisions on a verified token are memoised, and only until the validation
//     result leaves the engine's cache (Decision.ValidUntil: cache_ttl after verification,
//     never past exp), so revocation and expiry behave as without the memo.
//   - Never a DPoP request (a bound token, or the DPoP scheme): each needs its own fresh proof
//     (RFC 9449 §4.3, jti unseen), which only the core checks. The shim also skips the memo
//     for any request with a DPoP header or an Authorization: DPoP, before the lookup.
//   - Only requests without a client request id: the shim stamps a fresh random one, as the
//     core does, and renders the audit line from the core's (AuditTail) with the new time and
//     id, "cached":true and latency 0.
//   - With a PINGEDGE_KV binding the entry also goes to KV, keyed by the SHA-256 of the build's
//     answerScope (a hash of core, shim and policy) and the memo key, so only the build that
//     gave an answer replays it, and a cold isolate replays it before starting Go. `until` is
//     stored with it and checked on every read: KV's least expirationTtl is 60 s, longer than
//     what may be left. The memo's keying (MemoValues, the request-id header) is written into
//     policy.mjs at build time, so an isolate keys its first request the same way.

// memo fills the memo fields of a for an allowed decision d.
func memo(a *Answer, p *policy.Policy, d *verify.Decision) {
	if !d.Allow || d.ValidUntil.IsZero() || d.DPoP {
		return
	}
	rec := d.Audit
	rec.Latency, rec.Cached = 0, true
	line := rec.AppendJSON(make([]byte, 0, 384))
	mark := []byte(`,"request_id":"` + a.RequestID + `",`)
	i := bytes.Index(line, mark)
	if i < 0 {
		return
	}
	a.AuditTail = string(line[i+len(mark):])
	a.MemoUntil = d.ValidUntil.UnixMilli()
	a.MemoValues = MemoValues(p)
}

// MemoValues are the lower-case names of the headers whose values key the memo: those that
// carry the token. `edge worker build` writes them into policy.mjs from this same function, so
// a cold isolate keys its memo (and its KV answers) before Go has started.
func MemoValues(p *policy.Policy) []string {
	v := []string{"authorization"}
	if p.TokenHeader != "" {
		v = append(v, strings.ToLower(p.TokenHeader))
	}
	return v
}
