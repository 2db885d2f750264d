package workerbundle

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/edgecases"
)

// coreStarted is the line the shim logs once per isolate when it starts Go.
const coreStarted = "starting the pingedge core"

// TestWorkerKVAnswers: an isolate's memoised answer goes to KV under a hash (the token is
// nowhere in the namespace), and a cold isolate on the same KV, with the issuer down, answers
// the same request from it without starting Go: 200, the same identity headers, a fresh request
// id, an audit line that says "cached":true. Any other request — another path, another token,
// an added header name, a DPoP request, a client request id, or the same request once the
// stored `until` has passed, or a stored value that is not a whole entry — goes to the core,
// each in its own cold isolate.
func TestWorkerKVAnswers(t *testing.T) {
	op := startOP(t)
	origin := edgecases.EchoOrigin(t)
	policy := writePolicy(t, op)
	dir := t.TempDir()
	kv := filepath.Join(dir, "kv")
	cfg := ConfigOptions{Allow: AllowFor(origin.URL, op.Issuer()), KV: true}
	tok, other := edgecases.MintUser(t, op, "alice", "engineer"), edgecases.MintUser(t, op, "alice", "engineer")

	first := startWorkerIn(t, dir, policy, origin.URL, cfg)
	want := get(t, first.url, "/api/items", bearer(tok))
	if want.Status != 200 || want.Origin == nil {
		t.Fatalf("first isolate: %d", want.Status)
	}
	answer := waitForAnswer(t, kv) // stored after the response (waitUntil)
	first.stop()
	for _, tk := range []string{tok, other} {
		checkKVClean(t, kv, tk)
	}

	op.SetDown(true)
	second := startWorkerIn(t, dir, policy, origin.URL, cfg)
	r := get(t, second.url, "/api/items", bearer(tok))
	second.stop()
	if strings.Contains(second.logs.String(), coreStarted) {
		t.Errorf("the cold isolate started Go for a request answered in KV:\n%s", second.logs)
	}
	lines := second.auditLines()
	if len(lines) != 1 {
		t.Fatalf("%d audit lines, want 1:\n%s", len(lines), second.logs)
	}
	checkMemoAnswer(t, "from KV", r, lines[0], true)
	if r.RequestID == want.RequestID {
		t.Errorf("the KV answer reused request id %q", r.RequestID)
	}
	for _, h := range []string{"X-Auth-User", "X-Auth-Email", "X-Auth-Roles"} {
		if got, w := r.Origin.Header.Get(h), want.Origin.Header.Get(h); got != w {
			t.Errorf("%s: %q from KV, %q from the core", h, got, w)
		}
	}

	misses := []struct {
		name string
		path string
		h    map[string]string
	}{
		{"other path", "/api/other", bearer(tok)},
		{"other token", "/api/items", bearer(other)},
		{"added header name", "/api/items", map[string]string{"Authorization": "Bearer " + tok, "X-Extra": "1"}},
		{"client request id", "/api/items", map[string]string{"Authorization": "Bearer " + tok, "X-Request-Id": "r-1"}},
		{"dpop", "/api/items", map[string]string{"Authorization": "DPoP " + tok, "DPoP": "e30.e30.e30"}},
	}
	for _, m := range misses {
		checkGoesToCore(t, m.name, startWorkerIn(t, dir, policy, origin.URL, cfg), m.path, m.h)
	}
	expireAnswer(t, answer)
	checkGoesToCore(t, "until passed", startWorkerIn(t, dir, policy, origin.URL, cfg), "/api/items", bearer(tok))
	// A value that is not an entry the shim wrote (here: no path, strip or audit tail) is a miss.
	forged := fmt.Sprintf(`{"until":%d,"set":{"X-Auth-User":"mallory"}}`, time.Now().Add(time.Hour).UnixMilli())
	if err := os.WriteFile(answer, []byte(forged), 0o644); err != nil {
		t.Fatal(err)
	}
	checkGoesToCore(t, "malformed entry", startWorkerIn(t, dir, policy, origin.URL, cfg), "/api/items", bearer(tok))
}

// checkGoesToCore sends one request to a cold isolate and checks the core answered it.
func checkGoesToCore(t *testing.T, name string, rw *runningWorker, path string, h map[string]string) {
	t.Helper()
	_ = get(t, rw.url, path, h)
	rw.stop()
	lines := rw.auditLines()
	if !strings.Contains(rw.logs.String(), coreStarted) || len(lines) != 1 || strings.Contains(lines[0], `"cached":true`) {
		t.Errorf("%s: not answered by the core:\n%s", name, rw.logs)
	}
}

// waitForAnswer returns the path of the one pingedge:answer: entry in kv.
func waitForAnswer(t *testing.T, kv string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		found, _ := filepath.Glob(filepath.Join(kv, "pingedge:answer:*"))
		if len(found) > 1 {
			t.Fatalf("%d answers in KV for one request: %v", len(found), found)
		}
		if len(found) == 1 {
			if fi, err := os.Stat(found[0]); err == nil && fi.Size() > 0 {
				return found[0]
			}
		}
	}
	t.Fatal("no pingedge:answer: entry in KV")
	return ""
}

// checkKVClean fails when any KV entry's name or value holds tok.
func checkKVClean(t *testing.T, kv, tok string) {
	t.Helper()
	entries, _ := os.ReadDir(kv)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(kv, e.Name()))
		if strings.Contains(e.Name()+string(b), tok) || strings.Contains(e.Name()+string(b), strings.Split(tok, ".")[2]) {
			t.Errorf("KV entry %q holds the token", e.Name())
		}
	}
}

// expireAnswer rewrites the stored answer with an `until` a second in the past, as an entry
// KV has not yet dropped (its least expirationTtl is 60 s) would look.
func expireAnswer(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("KV answer %q: %v", raw, err)
	}
	if _, ok := m["until"].(float64); !ok {
		t.Fatalf("KV answer %q has no until", raw)
	}
	m["until"] = time.Now().Add(-time.Second).UnixMilli()
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyModuleMemoKeying: policy.mjs carries the memo's keying from the core's own code
// (the token header's values count, the request-id header is the policy's, lower-cased as
// Headers iterates), and answerScope changes with the policy, so a redeploy never replays
// answers of another policy from KV.
func TestPolicyModuleMemoKeying(t *testing.T) {
	w := &Wasm{Module: []byte("\x00asm"), WasmExec: []byte("//")}
	mod := func(extra string) string {
		p := filepath.Join(t.TempDir(), "policy.yaml")
		if err := os.WriteFile(p, []byte("issuer: https://issuer.example\naudience: api\n"+extra+"rules:\n  - path: /api/**\n    allow: authenticated\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := Build(t.Context(), Options{PolicyFile: p, OutDir: t.TempDir(), Wasm: w})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(b.Dir, FilePolicy))
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	scope := func(m string) string {
		_, s, _ := strings.Cut(m, "export const answerScope = ")
		return s
	}
	plain, custom := mod(""), mod("token_header: Cf-Access-Jwt-Assertion\nrequest_id_header: X-Trace-Id\n")
	for _, c := range []struct{ mod, want string }{
		{plain, `export const memoValues = ["authorization"];`},
		{plain, `export const requestIDHeader = "x-request-id";`},
		{custom, `export const memoValues = ["authorization","cf-access-jwt-assertion"];`},
		{custom, `export const requestIDHeader = "x-trace-id";`},
	} {
		if !strings.Contains(c.mod, c.want) {
			t.Errorf("policy.mjs lacks %s:\n%s", c.want, c.mod)
		}
	}
	if scope(plain) == "" || scope(plain) == scope(custom) || scope(plain) != scope(mod("")) {
		t.Errorf("answerScope %q / %q: want one per policy, the same for the same build", scope(plain), scope(custom))
	}
}
