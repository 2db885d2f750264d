package verify

import (
	"context"
	"errors"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// Check is one line of the inspect checklist.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Ran    bool   `json:"ran"`              // false when an earlier failure made it moot
	Detail string `json:"detail,omitempty"` // why it failed, or what passed
	Err    error  `json:"-"`
}

// Report is the result of Explain: every check Verify makes, each passed or failed with why.
type Report struct {
	Checks []Check
	Token  *jose.Token  // nil when the token could not be split
	Claims *jose.Claims // nil when the payload is not valid claims
	Err    error        // the first failure: what Verify would have returned
}

// OK reports whether every check passed.
func (r *Report) OK() bool { return r.Err == nil }

// Explain runs the same checks as Verify but keeps going where it can, so `pingedge inspect
// --verify` can show each as passed or failed. Claims checks run even when the signature
// failed, so a user sees every problem at once; Report.Err is still the first failure.
func (e *Engine) Explain(ctx context.Context, token string) *Report {
	r := &Report{}
	t, err := jose.ParseUnverified(token, e.policy.MaxTokenBytes)
	if !r.add("structure", err, "compact JWS, three base64url segments") {
		return r.skip("algorithm", "type", "key", "signature", "claims", "issuer", "audience", "expiry", "not before")
	}
	r.Token = t
	alg, err := jose.CheckAlg(t.Header.Alg, e.policy.Algorithms)
	algOK := r.add("algorithm", err, t.Header.Alg)
	r.add("type", jose.CheckTyp(t.Header.Typ, e.policy.TokenTypes), "typ "+jose.QuoteShort(t.Header.Typ))
	if algOK {
		key, err := e.keys.Key(ctx, t.Header.Kid, alg)
		if r.add("key", err, "kid "+jose.QuoteShort(t.Header.Kid)) {
			if len(t.Signature) == 0 {
				err = errorf(jose.ErrSignature, "signature is missing")
			} else {
				err = jose.VerifySignature(alg, key, []byte(t.SigningInput), t.Signature)
			}
			r.add("signature", err, string(alg)+" with "+jose.DescribeKey(key))
		} else {
			r.skip("signature")
		}
	} else {
		r.skip("key", "signature")
	}
	c, err := jose.ParseClaims(t.Payload)
	if !r.add("claims", err, "JSON object with exp") {
		return r.skip("issuer", "audience", "expiry", "not before")
	}
	c.Header = t.Header
	e.fillRoles(c)
	r.Claims = c
	r.claimChecks(e, c)
	return r
}

func (r *Report) claimChecks(e *Engine, c *jose.Claims) {
	// checkClaims stops at the first failure; run it with one claim made right at a time is
	// more code than asking it per claim, so the checks are spelled out with the same helpers.
	p, now := e.policy, e.now()
	var err error
	if c.Issuer != p.Issuer {
		err = errorf(jose.ErrIssuer, "iss %s is not %s", jose.QuoteShort(c.Issuer), p.Issuer)
	}
	r.add("issuer", err, c.Issuer)
	err = nil
	if !audienceMatches(c.Audience, p.Audience) {
		err = errorf(jose.ErrAudience, "aud does not contain %s", jose.QuoteShort(p.Audience[0]))
	}
	r.add("audience", err, "contains "+p.Audience[0])
	err = nil
	if !now.Before(c.Expiry.Add(p.Leeway)) {
		err = &jose.TokenExpiredError{Expiry: c.Expiry}
	}
	r.add("expiry", err, "exp "+c.Expiry.Format("2006-01-02 15:04:05Z07:00"))
	err = nil
	if !c.NotBefore.IsZero() && now.Add(p.Leeway).Before(c.NotBefore) {
		err = &jose.TokenNotYetValidError{Claim: "nbf", From: c.NotBefore}
	} else if !c.IssuedAt.IsZero() && now.Add(p.Leeway).Before(c.IssuedAt) {
		err = &jose.TokenNotYetValidError{Claim: "iat", From: c.IssuedAt}
	}
	r.add("not before", err, "nbf/iat not in the future")
}

// add records a check and returns whether it passed.
func (r *Report) add(name string, err error, okDetail string) bool {
	c := Check{Name: name, OK: err == nil, Ran: true, Detail: okDetail, Err: err}
	if err != nil {
		c.Detail = err.Error()
		if r.Err == nil {
			r.Err = err
		}
	}
	r.Checks = append(r.Checks, c)
	return err == nil
}

func (r *Report) skip(names ...string) *Report {
	for _, n := range names {
		r.Checks = append(r.Checks, Check{Name: n, Detail: "not checked: an earlier check failed"})
	}
	return r
}

// Kind names the sentinel an error wraps ("signature", "expired", ...), for JSON output.
func Kind(err error) string {
	kinds := []struct {
		err  error
		name string
	}{{jose.ErrMalformed, "malformed"}, {jose.ErrAlgorithm, "algorithm"}, {jose.ErrHeader, "header"}, {jose.ErrUnknownKey, "unknown_key"},
		{jose.ErrKeyMismatch, "key_mismatch"}, {jose.ErrSignature, "signature"}, {jose.ErrKeysUnavailable, "keys_unavailable"},
		{jose.ErrClaims, "claims"}, {jose.ErrIssuer, "issuer"}, {jose.ErrAudience, "audience"}, {jose.ErrExpired, "expired"},
		{jose.ErrNotYetValid, "not_yet_valid"}}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	if err != nil {
		return "other"
	}
	return ""
}
