package workerbundle

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/edgecases"
)

// TestWorkerMemo: the shim answers a repeated request (same method, raw path, header names and
// token, no client request id) from its memo without entering Go, and the answer is the
// core's: the origin sees the same path and identity headers and no Authorization, and the
// request id is fresh on the origin request, the response and the audit line, which says
// "cached":true. A client request id, another path or other header names go to the core; so
// does everything once the token's validation result would have left the core's cache (here
// the token's exp, eight seconds out).
func TestWorkerMemo(t *testing.T) {
	op := startOP(t)
	origin := edgecases.EchoOrigin(t)
	rw := startWorker(t, writePolicy(t, op), origin.URL, ConfigOptions{Allow: AllowFor(origin.URL, op.Issuer())})
	tok, err := op.MintAccessToken(map[string]any{"sub": "alice", "aud": op.Audience(), "email": "alice@example.com",
		"roles": []string{"engineer"}}, 8*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(8 * time.Second)
	spoof := map[string]string{"Authorization": "Bearer " + tok, "X_Auth_User": "mallory"}
	sends := []struct {
		name   string
		path   string
		h      map[string]string
		cached bool
	}{
		{"first sight", "/api/items", bearer(tok), false},
		{"repeat", "/api/items", bearer(tok), true},
		{"repeat again", "/api/items", bearer(tok), true},
		{"client request id", "/api/items", map[string]string{"Authorization": "Bearer " + tok, "X-Request-Id": "r-3"}, false},
		{"other path", "/api/other", bearer(tok), false},
		{"other header names", "/api/items", spoof, false},
		{"other header names, repeated", "/api/items", spoof, true},
	}
	var results []edgecases.Result
	for _, s := range sends {
		r := get(t, rw.url, s.path, s.h)
		if r.Status != 200 || r.Origin == nil {
			t.Fatalf("%s: status %d", s.name, r.Status)
		}
		results = append(results, r)
	}
	time.Sleep(time.Until(expires) + 100*time.Millisecond)
	after := get(t, rw.url, "/api/items", bearer(tok)) // within the leeway: the core verifies again
	rw.stop()
	lines := rw.auditLines()
	if len(lines) != len(sends)+1 {
		t.Fatalf("%d audit lines, want %d:\n%s", len(lines), len(sends)+1, rw.logs)
	}
	for i, s := range sends {
		checkMemoAnswer(t, s.name, results[i], lines[i], s.cached)
	}
	checkMemoAnswer(t, "after the token's exp", after, lines[len(sends)], false)
	if results[1].RequestID == results[2].RequestID || results[3].RequestID != "r-3" {
		t.Errorf("request ids %q %q %q: memo answers need fresh ids, a client's is kept", results[1].RequestID, results[2].RequestID, results[3].RequestID)
	}
}

func checkMemoAnswer(t *testing.T, name string, r edgecases.Result, line string, cached bool) {
	t.Helper()
	var rec struct {
		RequestID           string `json:"request_id"`
		Sub, Path, Decision string
		Status              int
		Cached              bool
	}
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("%s: audit line %q: %v", name, line, err)
	}
	o := r.Origin
	switch {
	case rec.Cached != cached:
		t.Errorf("%s: answered from the memo = %v, want %v (%s)", name, rec.Cached, cached, line)
	case rec.Sub != "alice" || rec.Decision != "allow" || rec.Status != 200 || rec.RequestID != r.RequestID:
		t.Errorf("%s: audit %+v for a response with request id %q", name, rec, r.RequestID)
	case o.Header.Get("X-Auth-User") != "alice" || o.Header.Get("X-Auth-Email") != "alice@example.com" ||
		o.Header.Get("X-Auth-Roles") != "engineer" || o.Header.Get("Authorization") != "" || o.Header.Get("X_Auth_User") != "":
		t.Errorf("%s: origin saw %v", name, o.Header)
	case o.Header.Get("X-Request-Id") != r.RequestID || len(r.RequestID) == 0:
		t.Errorf("%s: origin saw request id %q, the client %q", name, o.Header.Get("X-Request-Id"), r.RequestID)
	}
}
