package verify

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestBuildsForWasm: the core and its packages must build for the Cloudflare Worker (js/wasm) and WASI, so
// nothing in them may pull in os/exec, syscalls or a CLI/server dependency (docs/architecture.md,
// "Import rules"; internal/archtest checks the imports themselves).
func TestBuildsForWasm(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, target := range [][2]string{{"js", "wasm"}, {"wasip1", "wasm"}} {
		cmd := exec.Command(gobin, "build", "./...")
		cmd.Env = append(os.Environ(), "GOOS="+target[0], "GOARCH="+target[1], "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("GOOS=%s GOARCH=%s go build: %v\n%s", target[0], target[1], err, out)
		}
	}
}
