package devop

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
)

// postToken posts form to the token endpoint with proof and returns the status, the OAuth
// answer and the DPoP-Nonce header.
func (f *fixture) postToken(c *http.Client, form url.Values, proof string) (int, map[string]any, string) {
	f.t.Helper()
	form.Set("client_id", f.srv.ClientID())
	req, _ := http.NewRequestWithContext(f.t.Context(), http.MethodPost, f.srv.Issuer()+tokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return resp.StatusCode, m, resp.Header.Get("DPoP-Nonce")
}

// TestDPoPNonceAtTokenEndpoint: with DPoPNonce, a proof without the provider's nonce, or with
// another, is answered 400 use_dpop_nonce with the nonce to use (RFC 9449 §8), issues
// nothing, and a proof carrying it gets a bound token and the next nonce (§8.2).
func TestDPoPNonceAtTokenEndpoint(t *testing.T) {
	f := start(t, Config{DPoPNonce: true})
	s := newDPoPSigner(t)
	endpoint := f.srv.Issuer() + tokenPath
	proof := func(nonce string) string {
		p, err := s.Proof("POST", endpoint, "", nonce, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	form := f.approvedDevice()
	st, r, nonce := f.postToken(f.client, form, proof(""))
	if st != 400 || r["error"] != "use_dpop_nonce" || nonce == "" || r["access_token"] != nil {
		t.Fatalf("a proof without a nonce: %d %v, issued %v, nonce %q", st, r["error"], r["access_token"] != nil, nonce)
	}
	if st, r, _ := f.postToken(f.client, form, proof("not-"+nonce)); st != 400 || r["error"] != "use_dpop_nonce" {
		t.Fatalf("a proof with another nonce: %d %v", st, r["error"])
	}
	st, r, next := f.postToken(f.client, form, proof(nonce))
	if st != 200 || r["token_type"] != "DPoP" || next == "" {
		t.Fatalf("a proof with the nonce: %d %v %v, next nonce %q", st, r["error"], r["token_type"], next)
	}
	if _, at := f.verifyJWT(r["access_token"].(string)); at["cnf"].(map[string]any)["jkt"] != s.JKT() {
		t.Errorf("not bound: %v", at["cnf"])
	}
}

// TestDPoPNonceWithTheClientTransport: the CLI's own DPoP transport (internal/dpopkey, what
// login and refresh use) gets a bound token from a provider that demands nonces, retrying
// once with the nonce it was given.
func TestDPoPNonceWithTheClientTransport(t *testing.T) {
	f := start(t, Config{DPoPNonce: true})
	s := newDPoPSigner(t)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &dpopkey.Transport{Signer: s, IsToken: dpopkey.IsTokenRequest}}
	form := f.approvedDevice()
	before := f.srv.Stats().TokenRequests
	st, r, _ := f.postToken(c, form, "")
	if st != 200 || r["token_type"] != "DPoP" {
		t.Fatalf("through the client transport: %d %v %v", st, r["error"], r["token_type"])
	}
	if n := f.srv.Stats().TokenRequests - before; n != 2 {
		t.Errorf("%d token requests, want 2 (use_dpop_nonce, then the retry)", n)
	}
	// RFC 9449 §8.2: the next request carries the nonce the last answer supplied, so it
	// succeeds on the first try.
	before = f.srv.Stats().TokenRequests
	st, r, _ = f.postToken(c, f.approvedDevice(), "")
	if st != 200 || r["token_type"] != "DPoP" {
		t.Fatalf("second exchange: %d %v %v", st, r["error"], r["token_type"])
	}
	if n := f.srv.Stats().TokenRequests - before; n != 1 {
		t.Errorf("%d token requests for the second exchange, want 1 (the remembered nonce)", n)
	}
}

// TestDPoPJTIMemoryBounded: the jti memory never holds more than its bound however many proofs
// arrive, and no proof it has seen passes again, remembered or forgotten.
func TestDPoPJTIMemoryBounded(t *testing.T) {
	m := newJTIMemory(100)
	now := time.Now()
	for i := range 1000 {
		iat := now.Add(-50*time.Second + time.Duration(i)*40*time.Millisecond)
		if err := m.add(fmt.Sprint("j", i), iat, now); err != nil {
			t.Fatalf("fresh proof %d refused: %v", i, err)
		}
		if m.len() > 100 {
			t.Fatalf("%d entries after %d proofs, bound 100", m.len(), i+1)
		}
	}
	for i := range 1000 {
		iat := now.Add(-50*time.Second + time.Duration(i)*40*time.Millisecond)
		if err := m.add(fmt.Sprint("j", i), iat, now); err == nil {
			t.Fatalf("proof %d replayed", i)
		}
	}
	if err := m.add("late", now.Add(-55*time.Second), now); err == nil {
		t.Error("a proof issued before the forgotten ones was taken")
	}
	if err := m.add("new", now.Add(time.Second), now); err != nil {
		t.Errorf("a proof newer than every forgotten one: %v", err)
	}
	later := now.Add(proofLifetime + 2*time.Second)
	if err := m.add("later", later, later); err != nil || m.len() != 1 {
		t.Errorf("expired entries not dropped: %d left (%v)", m.len(), err)
	}
	if err := m.add("stale", later.Add(-proofLifetime-time.Second), later); err == nil {
		t.Error("a proof older than the lifetime was remembered instead of refused")
	}
}

// TestDPoPJTIMemoryAtTokenEndpoint: with a memory of 2, three proofs pass, the memory holds 2,
// and the forgotten first one is still refused when replayed.
func TestDPoPJTIMemoryAtTokenEndpoint(t *testing.T) {
	f := start(t, Config{DPoPJTIMemory: 2})
	s := newDPoPSigner(t)
	endpoint := f.srv.Issuer() + tokenPath
	var proofs []string
	for i := range 3 {
		p, err := s.Proof("POST", endpoint, "", "", time.Now().Add(time.Duration(i-3)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		proofs = append(proofs, p)
		if st, r := f.dpopToken(f.approvedDevice(), p); st != 200 {
			t.Fatalf("proof %d: %d %v", i, st, r["error_description"])
		}
	}
	if n := f.srv.dpopJTI.len(); n != 2 {
		t.Errorf("the memory holds %d, bound 2", n)
	}
	for i, p := range proofs {
		if st, r := f.dpopToken(f.approvedDevice(), p); st != 400 || r["error"] != "invalid_dpop_proof" {
			t.Errorf("replay of proof %d: %d %v, issued %v", i, st, r["error"], r["access_token"] != nil)
		}
	}
}

// FuzzJTIMemory: whatever sequence of proofs (jti, iat, arrival time) arrives, the memory never
// holds more than its bound and never accepts the same proof (jti and iat, which a replay
// cannot change without the key) twice.
func FuzzJTIMemory(f *testing.F) {
	f.Add([]byte{0, 10, 1, 1, 20, 2, 0, 30, 3, 2, 5, 4}, uint8(2))
	f.Add([]byte{5, 0, 0, 5, 0, 0, 6, 1, 0, 7, 2, 0}, uint8(1))
	f.Add([]byte{0, 63, 0, 0, 63, 0}, uint8(3)) // a proof already stale, twice
	f.Fuzz(func(t *testing.T, ops []byte, max uint8) {
		bound := int(max%8) + 1
		m := newJTIMemory(bound)
		accepted := map[string]bool{}
		arrival := time.Unix(1_800_000_000, 0)
		for i := 0; i+2 < len(ops); i += 3 {
			jti := fmt.Sprint("j", ops[i]%16)
			arrival = arrival.Add(time.Duration(ops[i+2]%32) * time.Second) // time only moves on
			iat := arrival.Add(-time.Duration(ops[i+1]%64) * time.Second)
			proof := fmt.Sprint(jti, "@", iat.Unix())
			err := m.add(jti, iat, arrival)
			if err == nil && accepted[proof] {
				t.Fatalf("proof %s accepted twice", proof)
			}
			if err == nil {
				accepted[proof] = true
			}
			if m.len() > bound {
				t.Fatalf("%d entries, bound %d", m.len(), bound)
			}
		}
	})
}
