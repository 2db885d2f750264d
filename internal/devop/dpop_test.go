package devop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
)

// dpopToken posts a token request with the given DPoP proof ("" for none).
func (f *fixture) dpopToken(form url.Values, proof string) (int, map[string]any) {
	f.t.Helper()
	form.Set("client_id", f.srv.ClientID())
	req, _ := http.NewRequestWithContext(f.t.Context(), http.MethodPost, f.srv.Issuer()+tokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		f.t.Fatalf("token response %d not JSON: %s", resp.StatusCode, body)
	}
	return resp.StatusCode, m
}

func newDPoPSigner(t *testing.T) *dpopkey.Signer {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := dpopkey.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// approvedDevice runs the device flow up to the approval, so the next poll gets tokens.
func (f *fixture) approvedDevice() url.Values {
	da := f.startDevice("openid offline_access")
	if err := f.srv.ApproveDevice(da.UserCode, "alice"); err != nil {
		f.t.Fatal(err)
	}
	return url.Values{"grant_type": {grantTypeDeviceCode}, "device_code": {da.DeviceCode}}
}

// TestDPoPBoundTokens: a token request with a valid proof gets token_type DPoP and an access
// token whose cnf.jkt is the proof key's thumbprint (RFC 9449 §5, §6.1); its refresh token
// works only with a proof by the same key; without a proof the token stays a bearer token.
func TestDPoPBoundTokens(t *testing.T) {
	f := start(t, Config{})
	s := newDPoPSigner(t)
	endpoint := f.srv.Issuer() + tokenPath
	proof := func(k *dpopkey.Signer) string {
		p, err := k.Proof("POST", endpoint, "", "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	status, tr := f.dpopToken(f.approvedDevice(), proof(s))
	if status != 200 || tr["token_type"] != "DPoP" {
		t.Fatalf("device exchange with a proof: %d %v", status, tr)
	}
	_, at := f.verifyJWT(tr["access_token"].(string))
	if cnf, _ := at["cnf"].(map[string]any); cnf == nil || cnf["jkt"] != s.JKT() {
		t.Fatalf("access token cnf %v, want jkt %s", at["cnf"], s.JKT())
	}
	rt := tr["refresh_token"].(string)
	if st, r := f.dpopToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, ""); st == 200 {
		t.Fatalf("a bound refresh token was exchanged without a proof: %v", r)
	}
	if st, r := f.dpopToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, proof(newDPoPSigner(t))); st == 200 {
		t.Fatalf("a bound refresh token was exchanged with another key's proof: %v", r)
	}
	st, r := f.dpopToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, proof(s))
	if st != 200 || r["token_type"] != "DPoP" {
		t.Fatalf("refresh with the key's proof: %d %v", st, r)
	}
	if _, at2 := f.verifyJWT(r["access_token"].(string)); at2["cnf"].(map[string]any)["jkt"] != s.JKT() {
		t.Fatalf("refreshed token not bound: %v", at2["cnf"])
	}
	st, plain := f.dpopToken(f.approvedDevice(), "")
	if st != 200 || plain["token_type"] != "Bearer" {
		t.Fatalf("without a proof: %d %v", st, plain)
	}
	if _, at3 := f.verifyJWT(plain["access_token"].(string)); at3["cnf"] != nil {
		t.Fatalf("a token requested without a proof is bound: %v", at3["cnf"])
	}
}

// TestDPoPTokenEndpointRefusesBadProofs: the provider really checks the proof (RFC 9449 §4.3):
// each of these is invalid_dpop_proof and issues nothing.
func TestDPoPTokenEndpointRefusesBadProofs(t *testing.T) {
	f := start(t, Config{})
	s := newDPoPSigner(t)
	endpoint := f.srv.Issuer() + tokenPath
	good, _ := s.Proof("POST", endpoint, "", "", time.Now())
	if st, _ := f.dpopToken(f.approvedDevice(), good); st != 200 {
		t.Fatalf("a good proof was refused: %d", st)
	}
	wrongURL, _ := s.Proof("POST", "https://elsewhere.example/oauth/token", "", "", time.Now())
	wrongMethod, _ := s.Proof("GET", endpoint, "", "", time.Now())
	stale, _ := s.Proof("POST", endpoint, "", "", time.Now().Add(-5*time.Minute))
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"x","htm":"POST","htu":"`+endpoint+`","iat":1}`)) + "." + parts[2]
	for name, p := range map[string]string{"replayed": good, "other URL": wrongURL, "other method": wrongMethod,
		"stale": stale, "tampered payload": tampered, "not a JWS": "abc"} {
		st, r := f.dpopToken(f.approvedDevice(), p)
		if st != 400 || r["error"] != "invalid_dpop_proof" || r["access_token"] != nil {
			t.Errorf("%s: %d %v", name, st, r)
		}
	}
}
