package edgeauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/edgeauth"
	"github.com/pingedge/pingedge/internal/dpopkey"
	"github.com/pingedge/pingedge/internal/edgecases"
)

// TestMiddlewareDPoP: with dpop: required, a DPoP-bound token with a valid proof for the URL the
// client called (RFC 9449 §4.3: htu is the request's scheme, host and path) reaches the handler,
// without the proof; the same token as Bearer, without a proof, with a replayed proof or a proof
// for another path is refused with a DPoP challenge. The use_dpop_nonce refusal carries the
// DPoP-Nonce to retry with (§8), and the retry passes.
func TestMiddlewareDPoP(t *testing.T) {
	op := edgecases.StartOP(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := dpopkey.NewSigner(key)
	tok, err := op.MintAccessToken(map[string]any{"sub": "alice", "aud": op.Audience(), "roles": []string{"engineer"},
		"cnf": map[string]any{"jkt": s.JKT()}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, nonce := range []bool{false, true} {
		t.Run(fmt.Sprintf("nonce=%v", nonce), func(t *testing.T) {
			pol := fmt.Sprintf(edgecases.Policy, op.Issuer()) + "\ndpop: required\n"
			if nonce {
				pol += "dpop_nonce: on\n"
			}
			m, err := edgeauth.New(edgeauth.Config{Policy: []byte(pol)})
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(m.Handler(echo(t)))
			t.Cleanup(ts.Close)
			srv := ts.URL
			u := srv + "/api/items"
			proof := func(method, url, nonce string) string {
				p, err := s.Proof(method, url, tok, nonce, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			good := proof("GET", u, "")
			resp, body := call(t, u, map[string]string{"Authorization": "DPoP " + tok, "DPoP": good})
			if nonce {
				n := resp.Header.Get("DPoP-Nonce")
				if resp.StatusCode != 401 || n == "" || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce") {
					t.Fatalf("no nonce demanded: %d %q nonce %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), n)
				}
				good = proof("GET", u, n)
				resp, body = call(t, u, map[string]string{"Authorization": "DPoP " + tok, "DPoP": good})
			}
			if resp.StatusCode != 200 || resp.Header.Get("X-Echo") != "1" {
				t.Fatalf("a DPoP-bound token with a valid proof: %d %s", resp.StatusCode, body)
			}
			if strings.Contains(body, good) || !strings.Contains(body, `"X-Auth-User":["alice"]`) {
				t.Errorf("the handler saw the proof or no identity: %s", body)
			}
			for name, h := range map[string]map[string]string{
				"as Bearer":      {"Authorization": "Bearer " + tok},
				"no proof":       {"Authorization": "DPoP " + tok},
				"replayed proof": {"Authorization": "DPoP " + tok, "DPoP": good},
				"another path":   {"Authorization": "DPoP " + tok, "DPoP": proof("GET", srv+"/api/other", "")},
				"another host":   {"Authorization": "DPoP " + tok, "DPoP": proof("GET", "http://evil.example/api/items", "")},
			} {
				resp, _ := call(t, u, h)
				if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "DPoP ") {
					t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
}

func call(t *testing.T, url string, h map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestMiddlewareDPoPPublicURL: a service behind a TLS-terminating balancer sets PublicURL; a
// proof for that https URL passes, one for the http URL the service itself sees, or for a host
// named in X-Forwarded-Host, is refused. A PublicURL with a path is a configuration error.
func TestMiddlewareDPoPPublicURL(t *testing.T) {
	op := edgecases.StartOP(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := dpopkey.NewSigner(key)
	tok, err := op.MintAccessToken(map[string]any{"sub": "alice", "aud": op.Audience(), "roles": []string{"engineer"},
		"cnf": map[string]any{"jkt": s.JKT()}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pol := []byte(fmt.Sprintf(edgecases.Policy, op.Issuer()) + "\ndpop: required\n")
	if _, err := edgeauth.New(edgeauth.Config{Policy: pol, PublicURL: "https://api.example.com/v1"}); err == nil || !strings.Contains(err.Error(), "PublicURL") {
		t.Errorf("a public URL with a path: %v", err)
	}
	m, err := edgeauth.New(edgeauth.Config{Policy: pol, PublicURL: "https://api.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(m.Handler(echo(t)))
	t.Cleanup(ts.Close)
	for _, row := range []struct {
		htu  string
		h    map[string]string
		want int
	}{
		{"https://api.example.com/api/items", nil, 200},
		{ts.URL + "/api/items", nil, 401},
		{"http://api.example.com/api/items", nil, 401},
		{"https://evil.example/api/items", map[string]string{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}, 401},
	} {
		p, err := s.Proof("GET", row.htu, tok, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		h := map[string]string{"Authorization": "DPoP " + tok, "DPoP": p}
		for k, v := range row.h {
			h[k] = v
		}
		if resp, body := call(t, ts.URL+"/api/items", h); resp.StatusCode != row.want {
			t.Errorf("proof for %s: %d, want %d (%s)", row.htu, resp.StatusCode, row.want, body)
		}
	}
}
