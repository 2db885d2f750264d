package verify

import (
	"slices"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

// TestDPoPModes: what off, allowed and required do with an unbound bearer token, a bound token
// as Bearer, and the DPoP scheme (RFC 9449 §7.1), and what the audit says.
func TestDPoPModes(t *testing.T) {
	f := newDPoPFixture(t)
	unbound := mint(t, jose.ES256, goodClaims(), nil)
	type row struct {
		mode      policy.DPoPMode
		name      string
		req       func() Request
		allow     bool
		auditDPoP string
	}
	bearer := func(tok string) func() Request { return func() Request { return dpopReq("GET", "Bearer", tok) } }
	withProof := func() Request { return dpopReq("GET", "DPoP", f.token, f.proof("GET", dpopURL, f.token, testNow)) }
	unboundDPoP := func() Request { return dpopReq("GET", "DPoP", unbound, f.proof("GET", dpopURL, unbound, testNow)) }
	rows := []row{
		{policy.DPoPOff, "unbound bearer", bearer(unbound), true, ""},
		{policy.DPoPOff, "bound bearer (off changes nothing)", bearer(f.token), true, ""},
		{policy.DPoPOff, "DPoP scheme is not read", withProof, false, ""},
		{policy.DPoPAllowed, "unbound bearer", bearer(unbound), true, "bearer"},
		{policy.DPoPAllowed, "bound bearer", bearer(f.token), false, "bound"},
		{policy.DPoPAllowed, "bound with proof", withProof, true, "bound"},
		{policy.DPoPAllowed, "DPoP scheme, unbound token", unboundDPoP, false, "dpop-scheme-unbound"},
		{policy.DPoPRequired, "unbound bearer", bearer(unbound), false, "bearer"},
		{policy.DPoPRequired, "bound bearer", bearer(f.token), false, "bound"},
		{policy.DPoPRequired, "bound with proof", withProof, true, "bound"},
		{policy.DPoPRequired, "DPoP scheme, unbound token", unboundDPoP, false, "dpop-scheme-unbound"},
	}
	for _, r := range rows {
		e := dpopEngine(t, r.mode, false)
		d := e.Decide(bg, r.req())
		if d.Allow != r.allow || d.Audit.DPoP != r.auditDPoP {
			t.Errorf("%s/%s: allow=%v dpop=%q (%d %s), want allow=%v dpop=%q", r.mode, r.name, d.Allow, d.Audit.DPoP,
				d.Status, d.Reason, r.allow, r.auditDPoP)
		}
		if line := string(d.Audit.AppendJSON(nil)); strings.Contains(line, "eyJ") {
			t.Errorf("%s/%s: the audit line holds a JWS: %s", r.mode, r.name, line)
		}
	}
}

// TestDPoPResultCacheNeverSkipsTheProof: once the bound token's validation is in the result
// cache, a request without a proof, or with the first request's proof again, is still refused.
func TestDPoPResultCacheNeverSkipsTheProof(t *testing.T) {
	f := newDPoPFixture(t)
	e := dpopEngine(t, policy.DPoPRequired, false)
	first := f.proof("GET", dpopURL, f.token, testNow)
	if d := e.Decide(bg, dpopReq("GET", "DPoP", f.token, first)); !d.Allow {
		t.Fatalf("first request refused: %s", d.Reason)
	}
	if e.cacheLen() != 1 {
		t.Fatalf("the token's validation was not cached (len %d): this test would prove nothing", e.cacheLen())
	}
	for name, req := range map[string]Request{
		"no proof":    dpopReq("GET", "DPoP", f.token),
		"same proof":  dpopReq("GET", "DPoP", f.token, first),
		"as a bearer": dpopReq("GET", "Bearer", f.token),
	} {
		if d := e.Decide(bg, req); d.Allow || !d.DPoP {
			t.Errorf("%s: allowed=%v DPoP=%v after the token was cached", name, d.Allow, d.DPoP)
		}
	}
	if d := e.Decide(bg, dpopReq("GET", "DPoP", f.token, f.proof("GET", dpopURL, f.token, testNow))); !d.Allow || !d.DPoP {
		t.Errorf("a fresh proof was refused: %s", d.Reason)
	}
}

// TestDPoPNonce: with dpop_nonce on, a proof without the server's nonce gets use_dpop_nonce and
// a DPoP-Nonce to retry with (RFC 9449 §8); the retry passes; a made-up nonce does not.
func TestDPoPNonce(t *testing.T) {
	f := newDPoPFixture(t)
	e := dpopEngine(t, policy.DPoPRequired, true)
	d := e.Decide(bg, dpopReq("GET", "DPoP", f.token, f.proof("GET", dpopURL, f.token, testNow)))
	if d.Allow || !strings.HasPrefix(d.WWWAuthenticate, `DPoP error="use_dpop_nonce"`) || d.DPoPNonce == "" {
		t.Fatalf("no nonce demanded: %d %q nonce=%q", d.Status, d.WWWAuthenticate, d.DPoPNonce)
	}
	retry, _ := f.signer.Proof("GET", dpopURL, f.token, d.DPoPNonce, testNow)
	if d2 := e.Decide(bg, dpopReq("GET", "DPoP", f.token, retry)); !d2.Allow {
		t.Fatalf("retry with the nonce refused: %s", d2.Reason)
	}
	forged, _ := f.signer.Proof("GET", dpopURL, f.token, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", testNow)
	if d3 := e.Decide(bg, dpopReq("GET", "DPoP", f.token, forged)); d3.Allow || d3.DPoPNonce == "" {
		t.Fatalf("a made-up nonce passed: %v", d3.Allow)
	}
}

// TestDPoPNoTokenChallenge: a request without a token is told which schemes the edge takes.
func TestDPoPNoTokenChallenge(t *testing.T) {
	for mode, want := range map[policy.DPoPMode]string{policy.DPoPOff: "Bearer", policy.DPoPAllowed: "Bearer, DPoP algs=",
		policy.DPoPRequired: "DPoP algs="} {
		d := dpopEngine(t, mode, false).Decide(bg, Request{Method: "GET", Path: "/items", URL: dpopURL})
		if !strings.HasPrefix(d.WWWAuthenticate, want) {
			t.Errorf("%s: %q, want %q…", mode, d.WWWAuthenticate, want)
		}
	}
}

// TestDPoPProofStripped: with dpop on, the proof header is removed before the origin like
// Authorization; with dpop off it is left alone (an origin may check its own proofs).
func TestDPoPProofStripped(t *testing.T) {
	for mode, want := range map[policy.DPoPMode]bool{policy.DPoPOff: false, policy.DPoPAllowed: true, policy.DPoPRequired: true} {
		d := dpopEngine(t, mode, false).Decide(bg, Request{Method: "GET", Path: "/items", URL: dpopURL})
		if got := slices.Contains(d.StripHeaders, "Dpop"); got != want {
			t.Errorf("%s: Dpop stripped %v, want %v", mode, got, want)
		}
	}
}
