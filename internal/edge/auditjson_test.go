package edge

import (
	"bytes"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify"
)

func sameAsVerify(t *testing.T, rec verify.AuditRecord) {
	t.Helper()
	var want bytes.Buffer
	if err := rec.WriteJSON(&want); err != nil {
		t.Fatal(err)
	}
	if got := appendAudit(nil, &rec); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("audit line differs from verify's\n got %s\nwant %s", got, want.Bytes())
	}
}

func TestAuditJSONMatchesVerify(t *testing.T) {
	base := verify.AuditRecord{Time: time.Date(2026, 11, 29, 6, 0, 0, 123456789, time.UTC), Method: "GET",
		Path: "/api/items", Decision: "allow", Status: 200, Reason: "allowed", Latency: 4123 * time.Nanosecond}
	full := base
	full.RequestID, full.Subject, full.ClientID, full.Issuer, full.Rule, full.Cached = "r-1", "alice", "cli", "https://i", "rules[0] /api/**", true
	odd := base
	odd.Path, odd.Reason, odd.Subject = "/a<b>&\"\\\x00\x1f\u2028\u2029é\xff", "tab\there\nnl\b\f\r", "\xc3"
	odd.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	odd.Latency = 0
	for _, rec := range []verify.AuditRecord{base, full, odd, {}} {
		sameAsVerify(t, rec)
	}
}

// FuzzAuditJSON: for any strings, the hand-written encoder writes what encoding/json writes.
func FuzzAuditJSON(f *testing.F) {
	f.Add("/api/<x>", "alice\u2028", "reason \"q\"", int64(1234), 403, true)
	f.Add("\xff\xfe", "", "\x7f", int64(0), 0, false)
	f.Fuzz(func(t *testing.T, path, sub, reason string, ns int64, status int, cached bool) {
		sameAsVerify(t, verify.AuditRecord{Time: time.Unix(0, ns).UTC(), Path: path, Subject: sub, Reason: reason,
			Method: "GET", Decision: "deny", Status: status, Cached: cached, Latency: time.Duration(ns % 1e12)})
	})
}
