//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
)

// A profiling build (go build -tags pprof, used by bench/tunnel.sh PPROF=1) serves net/http/pprof
// on $PINGEDGE_PPROF, so the running process can be profiled under load. Release builds do not
// contain this file: pprof would expose goroutine stacks and memory to anyone on loopback.
func init() {
	if addr := os.Getenv("PINGEDGE_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
