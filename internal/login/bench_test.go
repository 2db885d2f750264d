package login_test

import (
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/login"
)

// BenchmarkToken compares the three ways Source.Token can answer: from memory, from the state
// directory (what a new `pingedge token` process does), and by refreshing at the issuer (the
// baseline the caches avoid; devop on loopback, so a real issuer is slower still).
func BenchmarkToken(b *testing.B) {
	h := newHarness(b, devop.Config{AccessTokenTTL: 5 * time.Minute})
	h.login(login.FlowPKCE)
	b.Run("memory", func(b *testing.B) {
		src := h.source()
		for b.Loop() {
			if _, err := src.Token(b.Context(), time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("state-dir", func(b *testing.B) {
		for b.Loop() {
			src, err := login.NewSource(h.sourceConfig())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := src.Token(b.Context(), time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refresh-baseline", func(b *testing.B) {
		src := h.source()
		for b.Loop() {
			h.clock.Add(10 * time.Minute)
			if _, err := src.Token(b.Context(), time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
}
