package verify

import (
	"errors"
	"strings"

	"github.com/pingedge/pingedge/internal/verify/dpop"
	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

// dpopState is the engine's DPoP side (RFC 9449), present unless the policy's dpop is off.
type dpopState struct {
	mode   policy.DPoPMode
	cfg    dpop.Config
	nonces *dpop.Nonces
	algs   string // for the WWW-Authenticate algs parameter (§7.1)
}

func newDPoPState(e *Engine) (*dpopState, error) {
	p := e.policy
	if !p.DPoPEnabled() {
		return nil, nil
	}
	s := &dpopState{mode: p.DPoP, cfg: dpop.Config{Algorithms: p.Algorithms, Lifetime: p.DPoPProofLifetime,
		Leeway: p.Leeway, Now: e.now, Replay: dpop.NewReplayCache(p.DPoPReplayCacheSize, p.DPoPProofLifetime, p.Leeway)}}
	if p.DPoPNonce {
		n, err := dpop.NewNonces(p.DPoPProofLifetime)
		if err != nil {
			return nil, err
		}
		s.nonces, s.cfg.Nonces = n, n
	}
	algs := p.Algorithms
	if algs == nil {
		algs = jose.SupportedAlgorithms
	}
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = string(a)
	}
	s.algs = strings.Join(names, " ")
	return s, nil
}

// boundJKT is the token's cnf.jkt (RFC 9449 §6.1), "" when the token is not DPoP-bound.
func boundJKT(c *jose.Claims) string {
	raw, ok := c.Lookup("cnf.jkt")
	if !ok {
		return ""
	}
	var jkt string
	if jose.DecodeString(raw, &jkt) != nil || jkt == "" {
		return "\x00invalid" // a cnf.jkt that is not a string binds to no key: nothing matches it
	}
	return jkt
}

// checkDPoP applies the mode to a request whose token verified. It runs on every request,
// after the result cache: the cache holds the token's validation, never a proof's, so a cached
// token still needs a fresh proof each time. It returns nil to go on, or the refusal.
func (e *Engine) checkDPoP(r Request, scheme, token string, entry *cacheEntry, rule, path string) *Decision {
	s := e.dpop
	bound := entry.jkt != ""
	deny := func(errCode, why string) *Decision {
		d := &Decision{Status: statusUnauthorized, Rule: rule, Path: path, Reason: why, Claims: entry.claims,
			WWWAuthenticate: `DPoP error="` + errCode + `", error_description="` + headerSafe(why) + `", algs="` + s.algs + `"`}
		return d
	}
	switch {
	case scheme != "DPoP" && bound: // §7.1: a bound token must not be accepted as a bearer token
		return deny("invalid_token", "DPoP-bound token presented as a bearer token")
	case scheme != "DPoP" && s.mode == policy.DPoPRequired:
		return deny("invalid_token", "dpop is required: send a DPoP-bound token with a proof")
	case scheme != "DPoP":
		return nil // allowed: an unbound bearer token passes as without DPoP
	case !bound:
		return deny("invalid_token", "Authorization: DPoP with a token that is not DPoP-bound (no cnf.jkt)")
	}
	proofs := headerValues(r.Header, "Dpop")
	switch {
	case len(proofs) == 0:
		return deny("invalid_dpop_proof", "no DPoP proof header")
	case len(proofs) > 1: // §4.3 point 1: exactly one
		return deny("invalid_dpop_proof", "more than one DPoP proof header")
	case r.URL == "":
		return deny("invalid_dpop_proof", "the request URL is unknown here, so htu cannot be checked")
	}
	_, err := dpop.Check(proofs[0], dpop.Expect{Method: r.Method, URL: r.URL, AccessToken: token, JKT: entry.jkt}, s.cfg)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, dpop.ErrUseNonce):
		d := deny("use_dpop_nonce", err.Error())
		d.DPoPNonce = s.nonces.Current(e.now())
		return d
	case errors.Is(err, dpop.ErrReplayFull):
		return &Decision{Status: statusServiceUnavailable, Rule: rule, Path: path, Reason: err.Error()}
	}
	return deny("invalid_dpop_proof", err.Error())
}

// dpopAudit is the audit's dpop field: whether the request's token was bound.
func (e *Engine) dpopAudit(scheme string, entry *cacheEntry) string {
	switch {
	case e.dpop == nil || entry == nil:
		return ""
	case entry.jkt != "":
		return "bound"
	case scheme == "DPoP":
		return "dpop-scheme-unbound"
	}
	return "bearer"
}

// headerSafe keeps a quoted-string parameter within visible ASCII without quotes.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return '\''
		}
		return r
	}, s)
}
