package jose

import (
	"context"
	"errors"
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
	Token  *Token  // nil when the token could not be split
	Claims *Claims // nil when the payload is not valid claims
	Err    error   // the first failure: what Verify would have returned
}

// OK reports whether every check passed.
func (r *Report) OK() bool { return r.Err == nil }

type phase int

const (
	phaseHeader    phase = iota // needs nothing but the token: structure, algorithm, type
	phaseSignature              // needs the key set: key, signature
	phaseClaims                 // needs only the decoded payload and the clock
)

// state is what the checks of one token have found so far.
type state struct {
	raw    string
	token  *Token
	alg    Algorithm
	key    *Key
	claims *Claims
	// explain: Explain wants each passed check's detail. Verify does not, and skips building
	// the ones that quote, format a key or a time: in a cold Worker isolate each of those was
	// the first run of encoding/json, fmt or time formatting (docs/performance.md).
	explain bool
}

func (s *state) parsed() bool   { return s.token != nil }
func (s *state) hasAlg() bool   { return s.alg != "" }
func (s *state) decoded() bool  { return s.claims != nil }
func (s *state) unsigned() bool { return len(s.token.Signature) == 0 }

// errNotApplicable marks a check that does not apply to this token: Verify goes on, Explain
// shows it as not run.
var errNotApplicable = errors.New("not applicable")

// check is one step of verification. ready says whether the checks it builds on passed.
type check struct {
	name  string
	phase phase
	ready func(*state) bool
	run   func(context.Context, *Verifier, *state) (detail string, err error)
}

// checks is the one ordered list Verify and Explain both run (RFC 7515 §5.2 for the JWS steps,
// RFC 7519 §7.2 and §4.1 for the claims). The order is part of the contract: the first failure
// is the error Verify returns, so a token that is both forged and expired is reported as forged.
var checks = []check{
	{"structure", phaseHeader, func(*state) bool { return true }, checkStructure},
	{"algorithm", phaseHeader, (*state).parsed, checkAlgorithm},
	{"type", phaseHeader, (*state).parsed, checkType},
	{"key", phaseSignature, (*state).hasAlg, checkKey},
	{"signature", phaseSignature, func(s *state) bool { return s.hasAlg() && (s.key != nil || s.unsigned()) }, checkSignature},
	{"claims", phaseClaims, (*state).parsed, checkClaimsJSON},
	{"issuer", phaseClaims, (*state).decoded, checkIssuer},
	{"audience", phaseClaims, (*state).decoded, checkAudience},
	{"expiry", phaseClaims, (*state).decoded, checkExpiry},
	{"not before", phaseClaims, (*state).decoded, checkNotBefore},
}

func checkStructure(_ context.Context, v *Verifier, s *state) (string, error) {
	t, err := ParseUnverified(s.raw, v.cfg.MaxTokenBytes)
	s.token = t
	return "compact JWS, three base64url segments", err
}

func checkAlgorithm(_ context.Context, v *Verifier, s *state) (string, error) {
	alg, err := CheckAlg(s.token.Header.Alg, v.cfg.Algorithms)
	s.alg = alg
	return s.token.Header.Alg, err
}

func checkType(_ context.Context, v *Verifier, s *state) (string, error) {
	err := CheckTyp(s.token.Header.Typ, v.cfg.TokenTypes)
	if !s.explain {
		return "", err
	}
	return "typ " + QuoteShort(s.token.Header.Typ), err
}

// checkKey looks the key up. An unsigned token gets no key lookup at all: a flood of unsigned
// tokens naming unknown kids must not become a flood of key set refreshes.
func checkKey(ctx context.Context, v *Verifier, s *state) (string, error) {
	if s.unsigned() {
		return "not checked: the token has no signature", errNotApplicable
	}
	key, err := v.keys.Key(ctx, s.token.Header.Kid, s.alg)
	s.key = key
	if !s.explain {
		return "", err
	}
	return "kid " + QuoteShort(s.token.Header.Kid), err
}

func checkSignature(_ context.Context, _ *Verifier, s *state) (string, error) {
	if s.unsigned() {
		return "", errorf(ErrSignature, "signature is missing")
	}
	err := VerifySignature(s.alg, s.key, verifyInput(s.token), s.token.Signature)
	if !s.explain {
		return "", err
	}
	return string(s.alg) + " with " + DescribeKey(s.key), err
}

func checkClaimsJSON(_ context.Context, _ *Verifier, s *state) (string, error) {
	c, err := ParseClaims(s.token.Payload)
	if err != nil {
		return "", err
	}
	c.Header = s.token.Header
	s.claims = c
	return "JSON object with exp", nil
}

func checkIssuer(_ context.Context, v *Verifier, s *state) (string, error) {
	if s.claims.Issuer != v.cfg.Issuer {
		return "", errorf(ErrIssuer, "iss %s is not %s", QuoteShort(s.claims.Issuer), v.cfg.Issuer)
	}
	return s.claims.Issuer, nil
}

// checkAudience compares exactly (RFC 7519 §4.1.3: case-sensitive strings).
func checkAudience(_ context.Context, v *Verifier, s *state) (string, error) {
	want := v.cfg.Audiences
	first := ""
	if len(want) > 0 {
		first = want[0]
	}
	for _, g := range s.claims.Audience {
		if ContainsString(want, g) {
			return "contains " + first, nil
		}
	}
	return "", errorf(ErrAudience, "aud does not contain %s", QuoteShort(first))
}

func checkExpiry(_ context.Context, v *Verifier, s *state) (string, error) {
	c := s.claims
	if !v.cfg.Now().Before(c.Expiry.Add(v.cfg.Leeway)) {
		return "", &TokenExpiredError{Expiry: c.Expiry}
	}
	if !s.explain {
		return "", nil
	}
	return "exp " + c.Expiry.Format("2006-01-02 15:04:05Z07:00"), nil
}

func checkNotBefore(_ context.Context, v *Verifier, s *state) (string, error) {
	c, now := s.claims, v.cfg.Now().Add(v.cfg.Leeway)
	switch {
	case !c.NotBefore.IsZero() && now.Before(c.NotBefore):
		return "", &TokenNotYetValidError{Claim: "nbf", From: c.NotBefore}
	case !c.IssuedAt.IsZero() && now.Before(c.IssuedAt):
		return "", &TokenNotYetValidError{Claim: "iat", From: c.IssuedAt}
	}
	return "nbf/iat not in the future", nil
}

// Explain runs the same checks as Verify but keeps going where it can, so `pingedge inspect
// --verify` can show each as passed or failed: every check whose prerequisite passed runs, so
// a token that is forged and expired shows both. Report.Err is the first failure, which is
// exactly the error Verify returns.
func (v *Verifier) Explain(ctx context.Context, token string) *Report {
	s, r := &state{raw: token, explain: true}, &Report{}
	for i := range checks {
		c := &checks[i]
		if !c.ready(s) {
			r.Checks = append(r.Checks, Check{Name: c.name, Detail: "not checked: an earlier check failed"})
			continue
		}
		detail, err := c.run(ctx, v, s)
		r.add(c.name, detail, err)
	}
	r.Token, r.Claims = s.token, s.claims
	return r
}

func (r *Report) add(name, detail string, err error) {
	switch {
	case errors.Is(err, errNotApplicable):
		r.Checks = append(r.Checks, Check{Name: name, Detail: detail})
	case err != nil:
		r.Checks = append(r.Checks, Check{Name: name, Ran: true, Detail: err.Error(), Err: err})
		if r.Err == nil {
			r.Err = err
		}
	default:
		r.Checks = append(r.Checks, Check{Name: name, OK: true, Ran: true, Detail: detail})
	}
}
