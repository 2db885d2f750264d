package verify

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// sameAsEncodingJSON: the hand-written encoder writes what encoding/json writes for the record
// (with latency as latency_us), so every host's audit lines parse the same everywhere.
func sameAsEncodingJSON(t *testing.T, rec AuditRecord) {
	t.Helper()
	type plain AuditRecord
	want, err := json.Marshal(struct {
		plain
		LatencyUS float64 `json:"latency_us"`
	}{plain(rec), float64(rec.Latency.Nanoseconds()) / 1e3})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Fatalf("audit JSON differs from encoding/json\n got %s\nwant %s", got, want)
	}
	var line bytes.Buffer
	if err := rec.WriteJSON(&line); err != nil || !bytes.Equal(line.Bytes(), append(want, '\n')) {
		t.Fatalf("WriteJSON: %q %v", line.String(), err)
	}
}

func TestAuditJSONMatchesEncodingJSON(t *testing.T) {
	base := AuditRecord{Time: time.Date(2026, 11, 29, 6, 0, 0, 123456789, time.UTC), Method: "GET",
		Path: "/api/items", Decision: "allow", Status: 200, Reason: "allowed", Latency: 4123 * time.Nanosecond}
	full := base
	full.RequestID, full.Subject, full.ClientID, full.Issuer, full.Rule, full.Cached = "r-1", "alice", "cli", "https://i", "rules[0] /api/**", true
	odd := base
	odd.Path, odd.Reason, odd.Subject = "/a<b>&\"\\\x00\x1f\u2028\u2029é\xff", "tab\there\nnl\b\f\r", "\xc3"
	odd.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	odd.Latency = 0
	for _, rec := range []AuditRecord{base, full, odd, {}} {
		sameAsEncodingJSON(t, rec)
	}
}

func FuzzAuditJSON(f *testing.F) {
	f.Add("/api/<x>", "alice\u2028", "reason \"q\"", int64(1234), 403, true)
	f.Add("\xff\xfe", "", "\x7f", int64(0), 0, false)
	f.Fuzz(func(t *testing.T, path, sub, reason string, ns int64, status int, cached bool) {
		sameAsEncodingJSON(t, AuditRecord{Time: time.Unix(0, ns).UTC(), Path: path, Subject: sub, Reason: reason,
			Method: "GET", Decision: "deny", Status: status, Cached: cached, Latency: time.Duration(ns % 1e12)})
	})
}

func BenchmarkAuditAppendJSON(b *testing.B) {
	rec := AuditRecord{Time: time.Now(), RequestID: "0123456789abcdef", Subject: "alice", ClientID: "cli",
		Issuer: "https://auth.example.com", Method: "GET", Path: "/api/items", Decision: "allow", Status: 200,
		Rule: "rules[2] /api/**", Reason: "allowed", Latency: 1234 * time.Nanosecond}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = rec.AppendJSON(buf[:0])
	}
}
