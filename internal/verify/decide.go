package verify

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

// Request is what Decide needs from an HTTP request.
type Request struct {
	Method    string
	Path      string              // the raw request-target path (escaped form, query allowed)
	Token     string              // bearer token already extracted; empty: Decide extracts from Header
	Header    map[string][]string // an http.Header; for the token header and request id; may be nil
	RequestID string              // empty: taken from the policy's request_id_header
	// URL is the request as received, scheme://host[:port]/path, for a DPoP proof's htu
	// (RFC 9449 §4.3). Empty where it is not known: DPoP proofs are then refused.
	URL string
}

// Decision is the engine's answer for one request.
type Decision struct {
	Allow           bool
	Status          int    // 200, or 400, 401, 403, 503
	WWWAuthenticate string // RFC 6750 §3 challenge for 401 and insufficient_scope 403s
	Rule            string // the rule that decided ("default" when none matched)
	Reason          string // fit for a log; never contains the token
	Path            string // the normalised path the rules saw
	Claims          *jose.Claims
	// SetHeaders are the identity headers for the origin. The map may be shared between
	// decisions: read it, never modify it.
	SetHeaders map[string]string
	// ValidUntil is when the token's validation result leaves the result cache (min of
	// cache_ttl after it was verified and the token's exp); zero when no token was verified.
	// A host may reuse this decision for the same request until then (the Worker's shim does),
	// which keeps revocation delay within the cache's own bound.
	ValidUntil time.Time
	// StripHeaders must be removed from the request before it goes on (always Authorization,
	// the token header and every forwarded identity header name, so clients cannot forge them).
	StripHeaders []string
	// DPoPNonce, when set, goes out as the DPoP-Nonce header (RFC 9449 §8) with the refusal.
	DPoPNonce string
	// DPoP is set when the decision involved DPoP (the token was bound, or came with the DPoP
	// scheme): a host must not reuse such a decision for another request, as every request
	// needs its own proof.
	DPoP  bool
	Audit AuditRecord
}

// Decide verifies the request's token (using the result cache) and applies the policy: first
// matching rule wins, else the default. It never fails: every problem is a denial with a reason.
func (e *Engine) Decide(ctx context.Context, r Request) Decision {
	start := e.now()
	d, dpopField := e.decide(ctx, r)
	d.StripHeaders = e.strip
	d.Audit = AuditRecord{Time: start, RequestID: r.RequestID, Method: r.Method, Path: d.Path,
		Decision: "deny", Status: d.Status, Rule: d.Rule, Reason: d.Reason, DPoP: dpopField}
	if d.Audit.Path == "" {
		d.Audit.Path = r.Path
	}
	if d.Allow {
		d.Audit.Decision = "allow"
	}
	if d.Audit.RequestID == "" && r.Header != nil {
		d.Audit.RequestID = headerGet(r.Header, e.policy.RequestIDHeader)
	}
	if d.Claims != nil {
		d.Audit.Subject, d.Audit.ClientID, d.Audit.Issuer = d.Claims.Subject, d.Claims.ClientID, d.Claims.Issuer
	}
	d.Audit.Latency = e.now().Sub(start)
	e.metrics.decision(outcomeOf(d.Status), d.Audit.Latency)
	if e.audit != nil {
		e.audit(d.Audit)
	}
	return d
}

func (e *Engine) decide(ctx context.Context, r Request) (Decision, string) {
	scheme := "Bearer"
	token := r.Token
	if token == "" {
		token, scheme = extractCredential(r.Header, e.policy)
	}
	d, entry := e.decideToken(ctx, r, scheme, token)
	d.DPoP = e.dpop != nil && (scheme == "DPoP" || entry != nil && entry.jkt != "")
	return d, e.dpopAudit(scheme, entry)
}

func (e *Engine) decideToken(ctx context.Context, r Request, scheme, token string) (Decision, *cacheEntry) {
	path, err := e.policy.NormalizePath(r.Path)
	if err != nil {
		return Decision{Status: statusBadRequest, Reason: err.Error()}, nil
	}
	rule, access := e.policy.Match(r.Method, path)
	name := "default"
	if rule != nil {
		name = rule.Name
	}
	switch access {
	case policy.AccessAnyone:
		return Decision{Allow: true, Status: statusOK, Rule: name, Path: path, Reason: "open to anyone"}, nil
	case policy.AccessDeny:
		return Decision{Status: statusForbidden, Rule: name, Path: path, Reason: "denied by policy"}, nil
	}
	if token == "" {
		return Decision{Status: statusUnauthorized, WWWAuthenticate: e.challenge(), Rule: name, Path: path, Reason: "no bearer token"}, nil
	}
	entry, err := e.verifyCached(ctx, token)
	if err != nil {
		d := e.denyInvalid(err, name, path)
		if scheme == "DPoP" && d.WWWAuthenticate != "" { // §7.1: answer in the scheme used
			d.WWWAuthenticate = "DPoP" + strings.TrimPrefix(d.WWWAuthenticate, "Bearer")
		}
		return d, nil
	}
	if e.dpop != nil {
		if deny := e.checkDPoP(r, scheme, token, entry, name, path); deny != nil {
			return *deny, entry
		}
	}
	d := Decision{Status: statusOK, Rule: name, Path: path, Claims: entry.claims, ValidUntil: entry.until}
	if rule != nil {
		if !rule.RolesOK(entry.claims) {
			d.Status, d.Reason = statusForbidden, "missing a required role"
			return d, entry
		}
		if !rule.ScopesOK(entry.claims) {
			d.Status, d.Reason = statusForbidden, "missing a required scope"
			d.WWWAuthenticate = scheme + ` error="insufficient_scope", scope="` + strings.Join(rule.Scopes, " ") + `"`
			return d, entry
		}
	}
	d.Allow, d.SetHeaders, d.Reason = true, entry.headers, "allowed"
	return d, entry
}

// challenge is the WWW-Authenticate for a request without a token: Bearer, DPoP or both,
// as the dpop mode accepts them (RFC 9449 §7.1).
func (e *Engine) challenge() string {
	switch {
	case e.dpop == nil:
		return "Bearer"
	case e.dpop.mode == policy.DPoPRequired:
		return `DPoP algs="` + e.dpop.algs + `"`
	}
	return `Bearer, DPoP algs="` + e.dpop.algs + `"`
}

// denyInvalid maps a verification error to 401 invalid_token (RFC 6750 §3.1), or 503 when the
// keys could not be had at all: that is the edge's failure, not the client's.
func (e *Engine) denyInvalid(err error, rule, path string) Decision {
	reason := jose.Reason(err)
	if errors.Is(err, jose.ErrKeysUnavailable) {
		return Decision{Status: statusServiceUnavailable, Rule: rule, Path: path, Reason: reason}
	}
	desc := strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return '\''
		}
		return r
	}, jose.ShortReason(err))
	return Decision{Status: statusUnauthorized, Rule: rule, Path: path, Reason: reason,
		WWWAuthenticate: `Bearer error="invalid_token", error_description="` + desc + `"`}
}

func outcomeOf(status int) Outcome {
	switch status {
	case statusOK:
		return OutcomeAllow
	case statusUnauthorized:
		return OutcomeUnauthorized
	case statusForbidden:
		return OutcomeForbidden
	case statusServiceUnavailable:
		return OutcomeUnavailable
	}
	return OutcomeBadRequest
}

// verifyCached answers from the result cache, else from the result store, else verifies;
// it caches every success.
func (e *Engine) verifyCached(ctx context.Context, token string) (*cacheEntry, error) {
	now := e.now()
	var key [32]byte
	if e.cache != nil || e.store != nil {
		key = tokenKey(token)
	}
	if e.cache != nil {
		if entry := e.cache.get(key, now); entry != nil {
			e.metrics.cache(true)
			return entry, nil
		}
		e.metrics.cache(false)
	}
	claims, err := e.verifyFresh(ctx, token, key, now)
	if err != nil {
		return nil, err
	}
	entry := &cacheEntry{claims: claims, headers: e.identityHeaders(claims), jkt: boundJKT(claims)}
	entry.until = now.Add(e.policy.CacheTTL)
	if claims.Expiry.Before(entry.until) {
		entry.until = claims.Expiry
	}
	if e.cache != nil {
		e.cache.put(key, entry)
	}
	return entry, nil
}

// identityHeaders renders the forward mapping: strings as they are, lists joined with ",",
// numbers and booleans as JSON. A value with a control character (a header-injection attempt)
// or an object is left out.
func (e *Engine) identityHeaders(c *jose.Claims) map[string]string {
	out := make(map[string]string, len(e.policy.Forward))
	for _, f := range e.policy.Forward {
		var v string
		switch {
		case f.Claim == e.policy.RolesClaim && c.Roles != nil:
			v = strings.Join(c.Roles, ",")
		default:
			raw, ok := c.Lookup(f.Claim)
			if !ok {
				continue
			}
			v, ok = headerValue(raw)
			if !ok {
				continue
			}
		}
		if safeHeaderValue(v) {
			out[f.Header] = v
		}
	}
	return out
}

func headerValue(raw json.RawMessage) (string, bool) {
	switch {
	case len(raw) == 0 || raw[0] == '{' || string(raw) == "null":
		return "", false
	case raw[0] == '"' || raw[0] == '[':
		list, err := jose.DecodeStringOrList(raw)
		return strings.Join(list, ","), err == nil
	}
	return string(raw), true
}

func safeHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// cacheLen is for tests.
func (e *Engine) cacheLen() int {
	if e.cache == nil {
		return 0
	}
	return e.cache.len()
}
