package workerbundle

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/edgecases"
)

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func get(t *testing.T, base, path string, h map[string]string) edgecases.Result {
	t.Helper()
	r, err := edgecases.Do(base, "GET", path, h)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestWorkerKeyRotation: a flood of tokens whose kid the issuer never published costs no
// fetch within the refetch cooldown (the gateway's rule, so the issuer cannot be hammered);
// after the issuer rotates its key and the cooldown has passed, one fetch brings the new key
// and tokens signed with either key verify. workerd's clock cannot be faked, so the cooldown
// is shortened to three seconds for this test: long enough that the flood of five requests ends
// inside it on a loaded 2-core CI machine (at one second it did not always), short enough to wait
// out.
func TestWorkerKeyRotation(t *testing.T) {
	op := startOP(t)
	origin := edgecases.EchoOrigin(t)
	rw := startWorker(t, writePolicy(t, op), origin.URL, ConfigOptions{
		Allow: AllowFor(origin.URL, op.Issuer()), Vars: map[string]string{"PINGEDGE_JWKS_COOLDOWN": "3s"},
	})
	old := edgecases.MintUser(t, op, "alice", "engineer")
	if r := get(t, rw.url, "/api/a", bearer(old)); r.Status != 200 {
		t.Fatalf("before rotation: %d", r.Status)
	}
	before := op.Stats().JWKSFetches
	foreign := edgecases.MintUser(t, startOP(t), "mallory", "admin")
	for range 5 {
		if r := get(t, rw.url, "/api/a", bearer(foreign)); r.Status != 401 {
			t.Fatalf("unknown kid: %d, want 401", r.Status)
		}
	}
	if n := op.Stats().JWKSFetches - before; n != 0 {
		t.Errorf("%d JWKS fetches for unknown kids within the cooldown, want 0", n)
	}
	op.RotateKey()
	fresh := edgecases.MintUser(t, op, "alice", "engineer")
	time.Sleep(3200 * time.Millisecond)
	for _, tok := range []string{fresh, old, fresh} {
		if r := get(t, rw.url, "/api/a", bearer(tok)); r.Status != 200 {
			t.Fatalf("after rotation: %d", r.Status)
		}
	}
	if n := op.Stats().JWKSFetches - before; n != 1 {
		t.Errorf("%d JWKS fetches for one rotation, want 1", n)
	}
}

// TestWorkerIssuerDown: with no keys held and the issuer down, tokens are refused with 503
// like the gateway does, and nothing is passed to the origin.
func TestWorkerIssuerDown(t *testing.T) {
	op := startOP(t)
	origin := edgecases.EchoOrigin(t)
	rw := startWorker(t, writePolicy(t, op), origin.URL, ConfigOptions{Allow: AllowFor(origin.URL, op.Issuer())})
	tok := edgecases.MintUser(t, op, "alice", "engineer")
	op.SetDown(true)
	r := get(t, rw.url, "/api/a", bearer(tok))
	if r.Status != 503 || r.Origin != nil {
		t.Fatalf("issuer down: status %d, origin reached %v; want 503 and not reached", r.Status, r.Origin != nil)
	}
}

// TestWorkerKV: with a PINGEDGE_KV binding the key set is written to KV, and a cold isolate
// (a new workerd on the same KV store) verifies without fetching from the issuer.
func TestWorkerKV(t *testing.T) {
	op := startOP(t)
	origin := edgecases.EchoOrigin(t)
	policy := writePolicy(t, op)
	dir := t.TempDir()
	cfg := ConfigOptions{Allow: AllowFor(origin.URL, op.Issuer()), KV: true}
	first := startWorkerIn(t, dir, policy, origin.URL, cfg)
	tok := edgecases.MintUser(t, op, "alice", "engineer")
	if r := get(t, first.url, "/api/a", bearer(tok)); r.Status != 200 {
		t.Fatalf("first isolate: %d", r.Status)
	}
	first.stop()
	entries, _ := os.ReadDir(filepath.Join(dir, "kv"))
	if len(entries) == 0 {
		t.Fatal("nothing written to KV")
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "pingedge:fetch:") && !strings.HasPrefix(e.Name(), "pingedge:result:") &&
			!strings.HasPrefix(e.Name(), "pingedge:answer:") {
			t.Errorf("KV holds %q, want only pingedge:fetch:, pingedge:result: and pingedge:answer: entries", e.Name())
		}
	}
	before := op.Stats().JWKSFetches
	second := startWorkerIn(t, dir, policy, origin.URL, cfg)
	if r := get(t, second.url, "/api/a", bearer(tok)); r.Status != 200 {
		t.Fatalf("cold isolate with KV: %d", r.Status)
	}
	if n := op.Stats().JWKSFetches - before; n != 0 {
		t.Errorf("cold isolate fetched the JWKS %d times, want 0 (from KV)", n)
	}
}

// TestWorkerKVResults: a validation result goes to KV under the token's SHA-256 (the token
// itself is nowhere in the namespace), and a cold isolate answers that token from it alone:
// the issuer is down and the key set is gone from KV, yet the token verified earlier is still
// allowed, with its identity headers, while a token never verified gets the 503 of no keys.
func TestWorkerKVResults(t *testing.T) {
	op := startOP(t)
	origin := edgecases.EchoOrigin(t)
	policy := writePolicy(t, op)
	dir := t.TempDir()
	cfg := ConfigOptions{Allow: AllowFor(origin.URL, op.Issuer()), KV: true}
	mint := func(sub string) string {
		tok, err := op.MintAccessToken(map[string]any{"sub": sub, "aud": op.Audience(),
			"email": sub + "@example.com", "roles": []string{"engineer"}}, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	known, unseen := mint("alice"), mint("bob")
	first := startWorkerIn(t, dir, policy, origin.URL, cfg)
	if r := get(t, first.url, "/api/a", bearer(known)); r.Status != 200 {
		t.Fatalf("first isolate: %d", r.Status)
	}
	first.stop()
	sum := sha256.Sum256([]byte(known))
	name := "pingedge:result:" + hex.EncodeToString(sum[:])
	kv := filepath.Join(dir, "kv")
	val, err := os.ReadFile(filepath.Join(kv, name))
	if err != nil {
		t.Fatalf("no stored result for the token: %v", err)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(known, ".")[1])
	if string(val) != string(payload) {
		t.Errorf("KV holds %q for the token, want its claims %q", val, payload)
	}
	entries, _ := os.ReadDir(kv)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(kv, e.Name()))
		if strings.Contains(e.Name()+string(b), known) {
			t.Errorf("KV entry %q holds the token", e.Name())
		}
		if strings.HasPrefix(e.Name(), "pingedge:fetch:") {
			if err := os.Remove(filepath.Join(kv, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	op.SetDown(true)
	issuerHits := func() int64 { st := op.Stats(); return st.DiscoveryFetches + st.JWKSFetches }
	before := issuerHits()
	second := startWorkerIn(t, dir, policy, origin.URL, cfg)
	r := get(t, second.url, "/api/a", bearer(known))
	if r.Status != 200 || r.Origin == nil || r.Origin.Header.Get("X-Auth-User") != "alice" {
		t.Fatalf("cold isolate, issuer down, known token: status %d, origin %+v; want 200 as alice", r.Status, r.Origin)
	}
	if n := issuerHits() - before; n != 0 {
		t.Errorf("the known token cost %d discovery or JWKS fetches, want 0 (answered from the stored result)", n)
	}
	if r := get(t, second.url, "/api/a", bearer(unseen)); r.Status != 503 {
		t.Fatalf("cold isolate, issuer down, unseen token: %d, want 503", r.Status)
	}
	if n := issuerHits() - before; n == 0 {
		t.Errorf("the unseen token caused no fetch: the issuer was never asked (devop counts arrivals even when down)")
	}
}
