package workerbundle

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
	"github.com/pingedge/pingedge/internal/edgecases"
)

// TestWorkerDPoP runs dpop: required in real workerd. A request with a fresh proof passes;
// sent again byte for byte (the shim's memo keys on method, path, header names and the
// Authorization value, so it would replay the allowed answer without entering Go) it is
// refused as a replay; the token without a proof, as Bearer, or with another key's proof is
// refused; a second fresh proof passes.
func TestWorkerDPoP(t *testing.T) {
	op := startOP(t)
	origin := edgecases.EchoOrigin(t)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte(strings.Replace(edgecases.Policy, "%s", op.Issuer(), 1)+"dpop: required\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rw := startWorker(t, policy, origin.URL, ConfigOptions{Allow: AllowFor(origin.URL, op.Issuer())})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := dpopkey.NewSigner(key)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	so, _ := dpopkey.NewSigner(other)
	tok, err := op.MintAccessToken(map[string]any{"sub": "alice", "aud": op.Audience(), "roles": []string{"engineer"},
		"cnf": map[string]any{"jkt": s.JKT()}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u := rw.url + "/api/items"
	send := func(h map[string]string) *http.Response {
		req, _ := http.NewRequest("GET", u, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	proof := func(sg *dpopkey.Signer) string {
		p, err := sg.Proof("GET", u, tok, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := map[string]string{"Authorization": "DPoP " + tok, "DPoP": proof(s)}
	if r := send(first); r.StatusCode != 200 {
		t.Fatalf("a fresh proof in workerd: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	for name, h := range map[string]map[string]string{
		"the same request again": first,
		"no proof":               {"Authorization": "DPoP " + tok},
		"as Bearer":              {"Authorization": "Bearer " + tok},
		"another key's proof":    {"Authorization": "DPoP " + tok, "DPoP": proof(so)},
	} {
		if r := send(h); r.StatusCode != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "DPoP ") {
			t.Errorf("%s: %d %q", name, r.StatusCode, r.Header.Get("WWW-Authenticate"))
		}
	}
	if r := send(map[string]string{"Authorization": "DPoP " + tok, "DPoP": proof(s)}); r.StatusCode != 200 {
		t.Errorf("a second fresh proof: %d", r.StatusCode)
	}
	for _, l := range rw.auditLines() {
		if strings.Contains(l, `"cached":true`) {
			t.Errorf("a DPoP request was answered from the memo: %s", l)
		}
		if strings.Contains(l, tok) {
			t.Error("the token is in workerd's output")
		}
	}
}
