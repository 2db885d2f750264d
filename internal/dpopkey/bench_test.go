package dpopkey

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkProof is the client's cost of one proof (the tunnel pays it per request).
func BenchmarkProof(b *testing.B) {
	s := testSignerB(b)
	tok := strings.Repeat("t", 900)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Proof("GET", "https://api.example.com/items", tok, "", now); err != nil {
			b.Fatal(err)
		}
	}
}
