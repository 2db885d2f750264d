package workerbundle

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/edgecases"
)

// TestWorkerMatchesGateway runs the shared request table against the bundle in real workerd
// and against the gateway (`pingedge edge serve`), with the real provider's tokens and one
// origin on loopback, and requires the same answers from both: status, challenge, the path
// and identity headers the origin saw.
func TestWorkerMatchesGateway(t *testing.T) {
	op := startOP(t)
	origin := edgecases.EchoOrigin(t)
	policy := writePolicy(t, op)
	rw := startWorker(t, policy, origin.URL, ConfigOptions{Allow: AllowFor(origin.URL, op.Issuer())})
	gw := startGateway(t, policy, origin.URL)
	tk := edgecases.Mint(t, op)

	var inWorker, inGateway map[string]edgecases.Result
	t.Run("workerd", func(t *testing.T) { inWorker = edgecases.Run(t, rw.url, tk) })
	t.Run("gateway", func(t *testing.T) { inGateway = edgecases.Run(t, gw, tk) })
	for _, c := range edgecases.Cases() {
		w, g := comparable(inWorker[c.Name]), comparable(inGateway[c.Name])
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%s %s: workerd answered %+v, the gateway %+v", c.Method, c.Path, w, g)
		}
	}
}

// answer is the part of a result that must not differ between deployments (request ids are
// random and X-Forwarded-* name each one's own hop).
type answer struct {
	Status            int
	WWWAuthenticate   string
	OriginPath        string
	OriginRaw         string
	Method            string
	User, Roles, Mail []string
	Authorization     []string
}

func comparable(r edgecases.Result) answer {
	a := answer{Status: r.Status, WWWAuthenticate: r.WWWAuthenticate}
	if o := r.Origin; o != nil {
		a.OriginPath, a.OriginRaw, a.Method = o.Path, o.RawPath, o.Method
		a.User, a.Roles, a.Mail = o.Header.Values("X-Auth-User"), o.Header.Values("X-Auth-Roles"), o.Header.Values("X-Auth-Email")
		a.Authorization = o.Header.Values("Authorization")
	}
	return a
}

// TestWorkerAudit: one audit JSON line per request through console.log, with the decision and
// the request id, and the token nowhere in workerd's output.
func TestWorkerAudit(t *testing.T) {
	op := startOP(t)
	origin := edgecases.EchoOrigin(t)
	rw := startWorker(t, writePolicy(t, op), origin.URL, ConfigOptions{Allow: AllowFor(origin.URL, op.Issuer())})
	alice := edgecases.MintUser(t, op, "alice", "engineer")
	sends := []struct {
		path, id, tok, decision, sub string
		status                       int
	}{
		{"/api/items", "r-1", alice, "allow", "alice", 200},
		{"/admin/x", "r-2", alice, "deny", "alice", 403},
		{"/api/items", "r-3", alice[:20], "deny", "", 401},
	}
	for _, s := range sends {
		if _, err := edgecases.Do(rw.url, "GET", s.path, map[string]string{"Authorization": "Bearer " + s.tok, "X-Request-Id": s.id}); err != nil {
			t.Fatal(err)
		}
	}
	rw.stop() // flushes workerd's output
	lines := rw.auditLines()
	if len(lines) != len(sends) {
		t.Fatalf("%d audit lines, want %d:\n%s", len(lines), len(sends), rw.logs)
	}
	for i, l := range lines {
		var rec struct {
			RequestID           string `json:"request_id"`
			Decision, Sub, Path string
			Reason              string
			Status              int
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		s := sends[i]
		if rec.RequestID != s.id || rec.Decision != s.decision || rec.Sub != s.sub || rec.Status != s.status || rec.Path != s.path || rec.Reason == "" {
			t.Errorf("audit line %d = %+v, want %+v", i, rec, s)
		}
	}
	out := rw.logs.String()
	if strings.Contains(out, alice[:20]) || strings.Contains(out, strings.Split(alice, ".")[2]) {
		t.Error("the token appears in workerd's output")
	}
}
