package cli

import (
	"runtime/debug"
	"testing"
)

// gcPercent reads the current setting (SetGCPercent is the only reader the runtime offers).
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestTuneGC(t *testing.T) {
	before := gcPercent()
	restore := tuneGC(func(string) string { return "" })
	if got := gcPercent(); got != tunnelGCPercent {
		t.Errorf("GOGC unset: GC percent %d while the tunnel runs, want %d", got, tunnelGCPercent)
	}
	restore()
	if got := gcPercent(); got != before {
		t.Errorf("after the tunnel: GC percent %d, want the previous %d", got, before)
	}

	env := map[string]string{"GOGC": "50"}
	restore = tuneGC(func(k string) string { return env[k] })
	if got := gcPercent(); got != before {
		t.Errorf("GOGC=50 set by the user: GC percent %d, want it left at %d", got, before)
	}
	restore()
}
