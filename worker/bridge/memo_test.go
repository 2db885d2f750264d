package bridge

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

// TestMemoAuditTail: the line the shim renders for a memo answer — its own time and request
// id, then AuditTail — is the core's audit record for that request, marked cached, latency 0.
func TestMemoAuditTail(t *testing.T) {
	now := time.Date(2026, 11, 30, 6, 35, 41, 200_000_000, time.UTC)
	rec := verify.AuditRecord{Time: now, RequestID: "0123456789abcdef0123456789abcdef", Subject: "al\"ice",
		Issuer: "https://issuer.example", Method: "GET", Path: "/api/items", Decision: "allow", Status: 200,
		Rule: "rules[2] /api/**", Reason: "allowed", Latency: 336 * time.Millisecond}
	d := verify.Decision{Allow: true, Status: 200, ValidUntil: now.Add(time.Minute), Audit: rec}
	a := Answer{RequestID: rec.RequestID}
	memo(&a, &policy.Policy{TokenHeader: "Cf-Access-Jwt-Assertion"}, &d)
	if a.MemoUntil != now.Add(time.Minute).UnixMilli() || !reflect.DeepEqual(a.MemoValues, []string{"authorization", "cf-access-jwt-assertion"}) {
		t.Fatalf("memo_until %d, memo_values %q", a.MemoUntil, a.MemoValues)
	}
	later, rid := now.Add(5*time.Second), "fedcba9876543210fedcba9876543210"
	line := `{"time":"` + later.Format(time.RFC3339Nano) + `","request_id":"` + rid + `",` + a.AuditTail
	want := rec
	want.Time, want.RequestID, want.Latency, want.Cached = later, rid, 0, true
	if got := string(want.AppendJSON(nil)); got != line {
		t.Errorf("memo audit line\n%s\nwant\n%s", line, got)
	}
	var back verify.AuditRecord
	if err := json.Unmarshal([]byte(line), &back); err != nil {
		t.Fatalf("memo audit line is not JSON: %v", err)
	}
}

// TestMemoOnlyVerifiedAllows: refusals and decisions without a verified token (a public
// path) are never memoised.
func TestMemoOnlyVerifiedAllows(t *testing.T) {
	for _, d := range []verify.Decision{
		{Allow: false, Status: 403, ValidUntil: time.Now().Add(time.Minute)},
		{Allow: true, Status: 200},
	} {
		a := Answer{RequestID: "r"}
		memo(&a, &policy.Policy{}, &d)
		if a.MemoUntil != 0 || a.AuditTail != "" {
			t.Errorf("%+v was memoised: %+v", d, a)
		}
	}
}

// FuzzMemoAuditTail: whatever the record holds, the shim's composition (its own time and id,
// then AuditTail) is byte for byte the core's audit line for that request.
func FuzzMemoAuditTail(f *testing.F) {
	f.Add("alice", "/api/items", "allowed", "rules[2] /api/**", int64(1_800_000_000_123))
	f.Add("\"<>&\u2028", "/a%2e/\xff", "", "", int64(0))
	f.Fuzz(func(t *testing.T, sub, path, reason, rule string, ms int64) {
		at := time.UnixMilli(ms % 4e12).UTC()
		rec := verify.AuditRecord{Time: at, RequestID: "0123456789abcdef0123456789abcdef", Subject: sub, Method: "GET",
			Path: path, Decision: "allow", Status: 200, Rule: rule, Reason: reason, Latency: time.Millisecond}
		a := Answer{RequestID: rec.RequestID}
		memo(&a, &policy.Policy{}, &verify.Decision{Allow: true, ValidUntil: at.Add(time.Minute), Audit: rec})
		if a.AuditTail == "" {
			t.Fatal("an allowed decision on a verified token was not memoised")
		}
		later, rid := at.Add(time.Second), "fedcba9876543210fedcba9876543210"
		want := rec
		want.Time, want.RequestID, want.Latency, want.Cached = later, rid, 0, true
		got := `{"time":"` + later.Format(time.RFC3339Nano) + `","request_id":"` + rid + `",` + a.AuditTail
		if got != string(want.AppendJSON(nil)) {
			t.Fatalf("memo line %s\nwant      %s", got, want.AppendJSON(nil))
		}
	})
}
