package verify

import (
	"net/http"
	"strings"
	"testing"
)

// BenchmarkExtractToken runs on every request the edge sees: a 1.2 KB bearer token through
// ExtractToken, against the baseline of the header lookup alone.
func BenchmarkExtractToken(b *testing.B) {
	tok := strings.Repeat("eyJhbGciOiJSUzI1NiJ9", 60)
	h := http.Header{"Authorization": {"Bearer " + tok}}
	b.Run("header-lookup", func(b *testing.B) {
		for b.Loop() {
			if len(h.Values("Authorization")) != 1 {
				b.Fatal("no header")
			}
		}
	})
	b.Run("extract", func(b *testing.B) {
		for b.Loop() {
			if got, ok := ExtractToken(h, nil); !ok || len(got) != len(tok) {
				b.Fatal("no token")
			}
		}
	})
}
