package edge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
)

// TestGatewayDPoP: with dpop: required, a DPoP-bound token with a proof for the URL the client
// called at the gateway (its scheme, the Host sent, the path: RFC 9449 §4.3) reaches the origin
// without the token or the proof; as Bearer, or with a proof for another path or host, it is
// refused with a DPoP challenge. edgeauth's TestMiddlewareDPoP runs the same request path.
func TestGatewayDPoP(t *testing.T) {
	op := startOP(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := dpopkey.NewSigner(key)
	tok, err := op.MintAccessToken(map[string]any{"sub": "alice", "aud": op.Audience(), "roles": []string{"engineer"},
		"cnf": map[string]any{"jkt": s.JKT()}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, strings.Replace(testPolicy, "%s", op.Issuer(), 1)+"dpop: required\n")
	u, _ := url.Parse(echoOrigin(t).URL)
	gw := startEdge(t, Options{PolicyFile: path, Origin: u})
	proof := func(method, url string) string {
		p, err := s.Proof(method, url, tok, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := proof("GET", gw.url+"/api/items")
	resp, body := do(t, "GET", gw.url, "/api/items?x=1", map[string]string{"Authorization": "DPoP " + tok, "DPoP": good})
	if resp.StatusCode != 200 {
		t.Fatalf("a valid proof: %d %s\naudit: %s", resp.StatusCode, body, gw.audit.String())
	}
	if h := originSaw(t, body).Header; h.Get("Authorization") != "" || h.Get("DPoP") != "" || h.Get("X-Auth-User") != "alice" {
		t.Errorf("the origin got the credentials or no identity: %v", h)
	}
	for name, h := range map[string]map[string]string{
		"as Bearer":    {"Authorization": "Bearer " + tok},
		"another path": {"Authorization": "DPoP " + tok, "DPoP": proof("GET", gw.url+"/api/other")},
		"another host": {"Authorization": "DPoP " + tok, "DPoP": proof("GET", "https://evil.example/api/items")},
	} {
		resp, _ := do(t, "GET", gw.url, "/api/items", h)
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "DPoP ") {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

// TestGatewayConnectionCannotDropIdentity: a client that lists the identity and request ID
// headers in Connection (RFC 9110 §7.6.1: a proxy removes the headers Connection names) does
// not make the origin receive the request without them: the gateway sets them on the outgoing
// request after ReverseProxy removed the hop-by-hop ones.
func TestGatewayConnectionCannotDropIdentity(t *testing.T) {
	op, gw := gateway(t)
	tok := mint(t, op, "alice", "engineer")
	h := bearer(tok)
	h["Connection"] = "X-Auth-User, X-Auth-Roles, X-Request-Id"
	resp, body := do(t, "GET", gw.url, "/api/items", h)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	got := originSaw(t, body).Header
	if got.Get("X-Auth-User") != "alice" || got.Get("X-Auth-Roles") == "" || got.Get("X-Request-Id") == "" {
		t.Errorf("the origin lost identity headers the client listed in Connection: %v", got)
	}
}
