package edge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
)

// dpopSigner is a fresh P-256 DPoP key for a test.
func dpopSigner(t *testing.T) *dpopkey.Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := dpopkey.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dpopPolicy writes a policy with dpop: required (plus extra lines) for a fresh provider and
// mints a token bound to s.
func dpopPolicy(t *testing.T, s *dpopkey.Signer, extra string) (tok, path string) {
	t.Helper()
	op := startOP(t)
	tok, err := op.MintAccessToken(map[string]any{"sub": "alice", "aud": op.Audience(), "roles": []string{"engineer"},
		"cnf": map[string]any{"jkt": s.JKT()}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, strings.Replace(testPolicy, "%s", op.Issuer(), 1)+"dpop: required\n"+extra)
	return tok, path
}

// dpopEdge starts forward-auth for proxy with dpop: required (plus extra policy lines) and
// mints a token bound to s.
func dpopEdge(t *testing.T, proxy Proxy, s *dpopkey.Signer, extra string) (string, *running) {
	t.Helper()
	tok, path := dpopPolicy(t, s, extra)
	return tok, startEdge(t, Options{PolicyFile: path, ForwardAuth: proxy})
}

// TestForwardAuthDPoP: forward-auth behind real nginx, Caddy and Traefik, each with its
// documented config (docs/examples) and dpop: required. A request with a proof for the URL
// the client called at the proxy passes (the htu comes from the proxy's own
// X-Forwarded-Proto/Host and the path it described, never the client's), and the origin gets
// pingedge's identity but neither the token nor the proof. The same token without a proof, as
// Bearer, with a replayed proof, another key's proof, a proof for another method, path or
// host, or one whose ath is another token's, is refused with a DPoP challenge the proxy
// passes on, and the origin gets nothing.
func TestForwardAuthDPoP(t *testing.T) {
	for _, p := range proxies() {
		t.Run(string(p.proxy), func(t *testing.T) {
			s, other := dpopSigner(t), dpopSigner(t)
			tok, fa := dpopEdge(t, p.proxy, s, "")
			origin := echoOrigin(t)
			base := p.start(t, strings.TrimPrefix(fa.url, "http://"), origin.URL)
			u := base + "/api/items"
			proof := func(sg *dpopkey.Signer, method, url, token string) string {
				pr, err := sg.Proof(method, url, token, "", time.Now())
				if err != nil {
					t.Fatal(err)
				}
				return pr
			}
			good := proof(s, "GET", u+"?ignored=1", tok)
			resp, body := do(t, "GET", base, "/api/items?x=1", map[string]string{"Authorization": "DPoP " + tok, "DPoP": good})
			if resp.StatusCode != 200 {
				t.Fatalf("a valid proof through %s: %d %s\naudit: %s", p.proxy, resp.StatusCode, body, fa.audit.String())
			}
			saw := originSaw(t, body)
			if saw.Header.Get("X-Auth-User") != "alice" || saw.Header.Get("Authorization") != "" || saw.Header.Get("DPoP") != "" {
				t.Errorf("the origin saw X-Auth-User %q, an Authorization header %v, a DPoP proof %v: want alice and neither credential",
					saw.Header.Get("X-Auth-User"), saw.Header.Get("Authorization") != "", saw.Header.Get("DPoP") != "")
			}
			for _, row := range dpopAttackRows(base, tok, good, func(sg *dpopkey.Signer, m, url, token string) string {
				if sg == nil {
					sg = other
				}
				return proof(sg, m, url, token)
			}, s) {
				resp, body := do(t, "GET", base, "/api/items", row.h)
				if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "DPoP ") {
					t.Errorf("%s: %d %q", row.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
				}
				var got seen
				if json.Unmarshal(body, &got) == nil && got.Method != "" {
					t.Errorf("%s: the origin got the request", row.name)
				}
			}
			fa.stop()
			if strings.Contains(fa.audit.String(), tok) || strings.Contains(fa.audit.String(), good) {
				t.Error("the audit holds the token or a proof")
			}
		})
	}
}

type dpopRow struct {
	name string
	h    map[string]string
}

// dpopAttackRows are the requests for base+"/api/items" that a stolen token and, at most, one
// used proof make possible; proof(nil, …) signs with another key.
func dpopAttackRows(base, tok, used string, proof func(*dpopkey.Signer, string, string, string) string, s *dpopkey.Signer) []dpopRow {
	u := base + "/api/items"
	dp := func(p string, kv ...string) map[string]string {
		h := map[string]string{"Authorization": "DPoP " + tok, "DPoP": p}
		for i := 0; i+1 < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	https := "https://" + strings.TrimPrefix(base, "http://") + "/api/items"
	return []dpopRow{
		{"as Bearer", map[string]string{"Authorization": "Bearer " + tok}},
		{"no proof", map[string]string{"Authorization": "DPoP " + tok}},
		{"replayed proof", dp(used)},
		{"another key", dp(proof(nil, "GET", u, tok))},
		{"another method", dp(proof(s, "POST", u, tok))},
		{"another path", dp(proof(s, "GET", base+"/api/other", tok))},
		{"another scheme", dp(proof(s, "GET", https, tok))},
		{"another host", dp(proof(s, "GET", "http://api.example.com/api/items", tok))},
		{"wrong ath", dp(proof(s, "GET", u, tok+"x"))},
		{"spoofed host headers", dp(proof(s, "GET", "https://evil.example/api/items", tok), "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https")},
		{"spoofed Forwarded", dp(proof(s, "GET", "https://evil.example/api/items", tok), "Forwarded", "proto=https;host=evil.example")},
	}
}

// TestForwardAuthDPoPNonce: with dpop_nonce on, each proxy passes pingedge's DPoP-Nonce on
// with the use_dpop_nonce refusal, and a proof carrying it passes.
func TestForwardAuthDPoPNonce(t *testing.T) {
	for _, p := range proxies() {
		t.Run(string(p.proxy), func(t *testing.T) {
			s := dpopSigner(t)
			tok, fa := dpopEdge(t, p.proxy, s, "dpop_nonce: on\n")
			base := p.start(t, strings.TrimPrefix(fa.url, "http://"), echoOrigin(t).URL)
			first, _ := s.Proof("GET", base+"/api/items", tok, "", time.Now())
			resp, _ := do(t, "GET", base, "/api/items", map[string]string{"Authorization": "DPoP " + tok, "DPoP": first})
			nonce := resp.Header.Get("DPoP-Nonce")
			if resp.StatusCode != 401 || nonce == "" || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce") {
				t.Fatalf("no nonce demanded through %s: %d %q nonce %q", p.proxy, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), nonce)
			}
			retry, _ := s.Proof("GET", base+"/api/items", tok, nonce, time.Now())
			resp, body := do(t, "GET", base, "/api/items", map[string]string{"Authorization": "DPoP " + tok, "DPoP": retry})
			if resp.StatusCode != 200 {
				t.Fatalf("the retry with the relayed nonce: %d %s", resp.StatusCode, body)
			}
			if originSaw(t, body).Header.Get("DPoP") != "" {
				t.Error("the origin received the proof")
			}
		})
	}
}
