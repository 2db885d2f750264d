package bridge

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

// dpopBridge is an engine with dpop allowed over one ES256 issuer key, and a minting function.
func dpopBridge(t *testing.T) (*verify.Engine, func(claims map[string]any) string) {
	t.Helper()
	iss, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	enc := base64.RawURLEncoding.EncodeToString
	raw, _ := iss.PublicKey.Bytes()
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","kid":"k","x":"` + enc(raw[1:33]) + `","y":"` + enc(raw[33:]) + `"}]}`
	ks, err := jose.NewStaticKeySet([]byte(jwks))
	if err != nil {
		t.Fatal(err)
	}
	p, err := policyfile.Parse([]byte("issuer: https://issuer.example\naudience: https://api.example.com\ndefault: authenticated\ndpop: allowed\n"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := verify.NewEngine(p, verify.EngineOptions{KeySet: ks})
	if err != nil {
		t.Fatal(err)
	}
	mint := func(claims map[string]any) string {
		claims["iss"], claims["aud"], claims["sub"] = "https://issuer.example", "https://api.example.com", "u"
		claims["exp"] = time.Now().Add(time.Hour).Unix()
		pb, _ := json.Marshal(claims)
		input := enc([]byte(`{"alg":"ES256","kid":"k","typ":"at+jwt"}`)) + "." + enc(pb)
		d := sha256.Sum256([]byte(input))
		r, s, _ := ecdsa.Sign(rand.Reader, iss, d[:])
		sig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
		return input + "." + enc(sig)
	}
	return eng, mint
}

// TestMemoNeverReplaysDPoP: an allowed DPoP request is never marked for the shim's memo (each
// needs its own proof, which only the core checks), while an allowed unbound bearer request on
// the same engine is, so the test would see a memo if the exclusion were missing.
func TestMemoNeverReplaysDPoP(t *testing.T) {
	eng, mint := dpopBridge(t)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := dpopkey.NewSigner(k)
	bound := mint(map[string]any{"cnf": map[string]any{"jkt": s.JKT()}})
	unbound := mint(map[string]any{})
	proof, _ := s.Proof("GET", "https://api.example.com/items", bound, "", time.Now())

	var a Answer
	wire := "GET https://api.example.com\n/items\nauthorization\nDPoP " + bound + "\ndpop\n" + proof
	if err := json.Unmarshal(DecideWire(context.Background(), eng, wire), &a); err != nil {
		t.Fatal(err)
	}
	if !a.Allow || a.MemoUntil != 0 || a.AuditTail != "" {
		t.Fatalf("DPoP request: allow=%v memo_until=%d (%s)", a.Allow, a.MemoUntil, a.Reason)
	}
	if !strings.Contains(a.Audit, `"dpop":"bound"`) {
		t.Errorf("the audit does not say the request was DPoP-bound: %s", a.Audit)
	}
	var again Answer
	_ = json.Unmarshal(DecideWire(context.Background(), eng, wire), &again)
	if again.Allow {
		t.Fatal("the same proof was accepted twice through the bridge")
	}
	var b Answer
	_ = json.Unmarshal(DecideWire(context.Background(), eng, "GET https://api.example.com\n/items\nauthorization\nBearer "+unbound), &b)
	if !b.Allow || b.MemoUntil == 0 {
		t.Fatalf("control: an unbound bearer request was not memoised (allow=%v, %s)", b.Allow, b.Reason)
	}
}
