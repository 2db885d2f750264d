package verify

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/keyset"
)

// TestExplain: the checklist runs every check it can, so a token with a forged signature that
// has also expired shows both failures; Err is what Verify returns.
func TestExplain(t *testing.T) {
	e := newTestEngine(t, testPolicy())
	attacker, _ := rsa.GenerateKey(rand.Reader, 2048)
	claims := withClaims(func(c map[string]any) { c["exp"] = testNow.Add(-time.Hour).Unix() })
	forged := signRaw(t, &signer{priv: attacker}, jose.RS256, []byte(`{"alg":"RS256","kid":"rsa-1"}`), mustJSON(claims))
	r := e.Explain(bg, forged)
	got := map[string]bool{}
	for _, c := range r.Checks {
		got[c.Name] = c.OK
	}
	if got["signature"] || got["expiry"] || !got["issuer"] || !got["audience"] || !got["key"] || len(r.Checks) != 10 {
		t.Fatalf("checks: %+v", r.Checks)
	}
	_, verr := e.Verify(bg, forged)
	if !errors.Is(r.Err, jose.ErrSignature) || !errors.Is(verr, jose.ErrSignature) || r.OK() || Kind(r.Err) != "signature" {
		t.Fatalf("first failure: %v (Verify: %v)", r.Err, verr)
	}
	ok := e.Explain(bg, mint(t, jose.ES256, goodClaims(), nil))
	if !ok.OK() || ok.Claims.Subject != "user-1" {
		t.Fatalf("valid token: %+v", ok.Checks)
	}
	// Verify skips building these details (jose's state.explain); Explain must still show them.
	for i, want := range map[int]string{2: "typ ", 3: "kid \"", 4: "ES256 with EC kid=", 8: "exp 20"} {
		if d := ok.Checks[i].Detail; !strings.HasPrefix(d, want) {
			t.Errorf("check %s: detail %q, want it to start with %q", ok.Checks[i].Name, d, want)
		}
	}
	bad := e.Explain(bg, "a.b")
	if bad.OK() || bad.Checks[0].OK || bad.Checks[1].Ran || !errors.Is(bad.Err, jose.ErrMalformed) {
		t.Fatalf("malformed: %+v", bad.Checks)
	}
	if !e.Ready() || (&keyset.RemoteKeySet{}).Ready() {
		t.Fatal("Ready: static set with keys is ready; an unfetched remote set is not")
	}
}
