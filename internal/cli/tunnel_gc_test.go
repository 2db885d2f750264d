package cli

import (
	"runtime/debug"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
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

// The command, not only the helper, applies the setting while it serves and restores it on exit.
func TestTunnelCommandRunsTheCollectorAtItsSetting(t *testing.T) {
	e := newCLIEnv(t, devop.Config{AccessTokenTTL: 5 * time.Minute})
	e.mustRun(e.loginArgs()...)
	api := (&authRecorder{}).server(t, "api")
	before := gcPercent()

	s := e.start("tunnel", "--to", api.URL, "--listen", "127.0.0.1:0")
	if code, _ := httpGet(t, s.url(t)+"/v1/items"); code != 200 {
		t.Fatalf("request through the tunnel: %d", code)
	}
	if got := gcPercent(); got != tunnelGCPercent {
		t.Errorf("while the tunnel serves: GC percent %d, want %d", got, tunnelGCPercent)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d: %s", code, s.errOut.String())
	}
	if got := gcPercent(); got != before {
		t.Errorf("after the tunnel stopped: GC percent %d, want %d", got, before)
	}
}
