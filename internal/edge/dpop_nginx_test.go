package edge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
)

// TestNginxForwardAuthDPoP: forward-auth behind a real nginx with the documented config and
// dpop: required. A request with a proof for the URL the client called at nginx passes (the
// htu comes from nginx's X-Forwarded-Proto/Host and X-Original-URI, never the client's); the
// same token without a proof, as Bearer, with a replayed proof, another key's proof or a proof
// for another method or path is refused with a DPoP challenge that nginx passes on.
func TestNginxForwardAuthDPoP(t *testing.T) {
	op := startOP(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := dpopkey.NewSigner(key)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	os2, _ := dpopkey.NewSigner(other)
	tok, err := op.MintAccessToken(map[string]any{"sub": "alice", "aud": op.Audience(), "roles": []string{"engineer"},
		"cnf": map[string]any{"jkt": s.JKT()}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, strings.Replace(testPolicy, "%s", op.Issuer(), 1)+"dpop: required\n")
	fa := startEdge(t, Options{PolicyFile: path, ForwardAuth: ProxyNginx})
	origin := echoOrigin(t)
	ngx := startNginx(t, strings.TrimPrefix(fa.url, "http://"), origin.URL)
	u := ngx + "/api/items"
	proof := func(sg *dpopkey.Signer, method, url string) string {
		p, err := sg.Proof(method, url, tok, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := proof(s, "GET", u+"?ignored=1")
	resp, body := do(t, "GET", ngx, "/api/items?x=1", map[string]string{"Authorization": "DPoP " + tok, "DPoP": good})
	if resp.StatusCode != 200 {
		t.Fatalf("a valid proof through nginx: %d %s\naudit: %s", resp.StatusCode, body, fa.audit.String())
	}
	for name, h := range map[string]map[string]string{
		"as Bearer":      {"Authorization": "Bearer " + tok},
		"no proof":       {"Authorization": "DPoP " + tok},
		"replayed proof": {"Authorization": "DPoP " + tok, "DPoP": good},
		"another key":    {"Authorization": "DPoP " + tok, "DPoP": proof(os2, "GET", u)},
		"another method": {"Authorization": "DPoP " + tok, "DPoP": proof(s, "POST", u)},
		"another path":   {"Authorization": "DPoP " + tok, "DPoP": proof(s, "GET", ngx+"/api/other")},
		"spoofed host":   {"Authorization": "DPoP " + tok, "DPoP": proof(s, "GET", "https://evil.example/api/items"), "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
	} {
		resp, _ := do(t, "GET", ngx, "/api/items", h)
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "DPoP ") {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	fa.stop()
	if strings.Contains(fa.audit.String(), tok) || strings.Contains(fa.audit.String(), good) {
		t.Error("the audit holds the token or a proof")
	}
}

// TestNginxForwardAuthDPoPNonce: with dpop_nonce on, nginx passes pingedge's DPoP-Nonce on
// with the use_dpop_nonce refusal, and a proof carrying it passes.
func TestNginxForwardAuthDPoPNonce(t *testing.T) {
	op := startOP(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := dpopkey.NewSigner(key)
	tok, err := op.MintAccessToken(map[string]any{"sub": "alice", "aud": op.Audience(), "roles": []string{"engineer"},
		"cnf": map[string]any{"jkt": s.JKT()}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, strings.Replace(testPolicy, "%s", op.Issuer(), 1)+"dpop: required\ndpop_nonce: on\n")
	fa := startEdge(t, Options{PolicyFile: path, ForwardAuth: ProxyNginx})
	ngx := startNginx(t, strings.TrimPrefix(fa.url, "http://"), echoOrigin(t).URL)
	first, _ := s.Proof("GET", ngx+"/api/items", tok, "", time.Now())
	resp, _ := do(t, "GET", ngx, "/api/items", map[string]string{"Authorization": "DPoP " + tok, "DPoP": first})
	nonce := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != 401 || nonce == "" || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce") {
		t.Fatalf("no nonce demanded through nginx: %d %q nonce %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), nonce)
	}
	retry, _ := s.Proof("GET", ngx+"/api/items", tok, nonce, time.Now())
	resp, body := do(t, "GET", ngx, "/api/items", map[string]string{"Authorization": "DPoP " + tok, "DPoP": retry})
	if resp.StatusCode != 200 {
		t.Fatalf("the retry with nginx's relayed nonce: %d %s", resp.StatusCode, body)
	}
	if originSaw(t, body).Header.Get("DPoP") != "" {
		t.Error("the origin received the proof")
	}
}
