package cli

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

// verify and inspect decide a request the way the edge would receive it from a client holding
// the token (docs/dpop.md). With the policy's dpop on, a DPoP-bound token (cnf.jkt, RFC 9449
// §6.1) is presented as `Authorization: DPoP` with the given proof, or none: a bound token
// judged as a bearer token would be refused for the wrong reason (a downgrade, §7.1), and one
// without a proof must read as what it is at the edge, invalid_dpop_proof.

// dpopRequest is what says how the request was presented: the proof and the URL it names.
type dpopRequest struct {
	Proof string // the DPoP header's value; "" for none
	URL   string // the request URL, scheme://host/path (its path is the request's path)
}

// edgeRequest is the request the engine decides for method and path with token.
func edgeRequest(p *policy.Policy, method, path, token string, claims *jose.Claims, dr dpopRequest) verify.Request {
	if !p.DPoPEnabled() || (dr.Proof == "" && tokenJKT(claims) == "") {
		return verify.Request{Method: method, Path: path, Token: token}
	}
	h := http.Header{"Authorization": {"DPoP " + token}}
	if dr.Proof != "" {
		h.Set("DPoP", dr.Proof)
	}
	return verify.Request{Method: method, Path: path, Header: h, URL: htuOf(dr.URL)}
}

// htuOf is the URL without query and fragment, as the edge builds it (RFC 9449 §4.3 point 9).
func htuOf(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// tokenJKT is the token's cnf.jkt, "" when it is not DPoP-bound (or claims is nil).
func tokenJKT(c *jose.Claims) string {
	if c == nil {
		return ""
	}
	raw, ok := c.Lookup("cnf.jkt")
	if !ok {
		return ""
	}
	var jkt string
	if json.Unmarshal(raw, &jkt) != nil || jkt == "" {
		return "(not a string)"
	}
	return jkt
}

// dpopFlags checks --dpop-proof and --url and returns the request path they imply: --url
// names the request (its path is the path decided), --path may repeat it but not contradict it.
func dpopFlags(p *policy.Policy, path string, dr *dpopRequest) (string, error) {
	dr.Proof = strings.TrimSpace(dr.Proof)
	if name, rest, ok := strings.Cut(dr.Proof, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "dpop") {
		dr.Proof = strings.TrimSpace(rest) // a pasted "DPoP: <proof>" header line
	}
	if dr.URL != "" {
		u, err := url.Parse(dr.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", usageError("--url %q: give the full URL the request is sent to, e.g. https://api.example.com/api/items", withoutQuery(dr.URL))
		}
		up := u.EscapedPath()
		if up == "" {
			up = "/"
		}
		if path != "" && path != up {
			return "", usageError("--path %q and --url %q name different paths: give one of them", withoutQuery(path), withoutQuery(dr.URL))
		}
		path = up
	}
	switch {
	case dr.Proof != "" && dr.URL == "":
		return "", usageError("--dpop-proof needs --url: a proof is for one method and URL (htu), and the edge checks it against the URL called")
	case dr.Proof != "" && !p.DPoPEnabled():
		return "", usageError("--dpop-proof needs a policy with dpop: allowed or required; with dpop: off the edge does not read proofs")
	}
	return path, nil
}

// withoutQuery is a request URL or path as an error may name it: a query or fragment can carry
// an access token (RFC 6750 §2.3) and user info a password (RFC 3986 §3.2.1), and no secret is
// ever printed in an error. It works on the text, since the URL may be one url.Parse refused.
func withoutQuery(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		auth, _, _ := strings.Cut(raw[i+3:], "/")
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			raw = raw[:i+3] + raw[i+3+at+1:]
		}
	}
	return raw
}

// dpopView is what verify and inspect say about DPoP for one token.
type dpopView struct {
	JKT          string `json:"jkt,omitempty"` // the token's cnf.jkt; "" when unbound
	Mode         string `json:"policy_dpop"`   // off | allowed | required
	ProofChecked bool   `json:"proof_checked"` // a request was decided with a proof
	// NonceUnchecked: the policy has dpop_nonce on, and the proof's nonce could not be checked
	// here (only the edge process that issued it holds its key); every other check was made.
	NonceUnchecked bool `json:"nonce_not_checked,omitempty"`
}

// newDPoPView is nil when there is nothing to say: an unbound token and no proof.
func newDPoPView(p *policy.Policy, claims *jose.Claims, dr dpopRequest, decided bool) *dpopView {
	jkt := tokenJKT(claims)
	if jkt == "" && dr.Proof == "" {
		return nil
	}
	mode := string(p.DPoP)
	if mode == "" {
		mode = string(policy.DPoPOff)
	}
	return &dpopView{JKT: jkt, Mode: mode, ProofChecked: decided && dr.Proof != "" && p.DPoPEnabled()}
}

// describe is the plain-words line for the text output.
func (v *dpopView) describe(decided bool) string {
	switch {
	case v.JKT == "":
		return "a proof was given for a token that is not DPoP-bound (no cnf.jkt): the edge refuses Authorization: DPoP with it"
	case v.Mode == string(policy.DPoPOff):
		return "bound to cnf.jkt " + v.JKT + ", but the policy has dpop: off (or there is no policy): the edge takes it as a bearer token"
	case v.ProofChecked && v.NonceUnchecked:
		return "bound to cnf.jkt " + v.JKT + "; the request was decided with the proof given, but its nonce was not checked (dpop_nonce: on; only the edge that issued a nonce can check it)"
	case v.ProofChecked:
		return "bound to cnf.jkt " + v.JKT + "; the request was decided with the proof given"
	case decided:
		return "bound to cnf.jkt " + v.JKT + "; decided without a proof, as the edge would (dpop: " + v.Mode + "): pass --dpop-proof PROOF --url URL to check one"
	}
	return "bound to cnf.jkt " + v.JKT + ": with dpop: " + v.Mode + " the edge refuses it without a proof (invalid_dpop_proof); check one with --dpop-proof PROOF --url URL"
}
