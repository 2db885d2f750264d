package cli

import "runtime/debug"

// tunnelGCPercent is the garbage collector's target while `pingedge tunnel` runs, unless GOGC is
// set. The tunnel keeps 1–2 MB live, so under Go's default (GOGC=100 and a 4 MB minimum heap
// goal) it collects after every ~2 MB of allocation, about every 300 requests; a bigger binary
// than a hand-written proxy holds more at start, which shortens that distance further. Measured
// with `COUNT=1 bash bench/tunnel.sh`, collection was two thirds of the instructions the tunnel
// ran per request beyond a bare httputil.ReverseProxy. 200 doubles the distance between
// collections (an 8 MB minimum goal, three times the live heap above it), for 10–15 MB more
// resident memory under 256 busy connections (docs/performance.md, "Tunnel as users run it").
const tunnelGCPercent = 200

// tuneGC applies tunnelGCPercent unless the user chose GOGC, and returns what restores the
// previous setting (tests run commands in one process).
func tuneGC(getenv func(string) string) (restore func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(tunnelGCPercent)
	return func() { debug.SetGCPercent(old) }
}
