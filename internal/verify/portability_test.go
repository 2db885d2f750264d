package verify

import (
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestBuildsForWasm: the package must build for the Cloudflare Worker (js/wasm) and WASI, so
// nothing in it may pull in os/exec, syscalls or a CLI/server dependency (docs/architecture.md, "Import rules").
func TestBuildsForWasm(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, target := range [][2]string{{"js", "wasm"}, {"wasip1", "wasm"}} {
		cmd := exec.Command(gobin, "build", "-o", os.DevNull, ".")
		cmd.Env = append(os.Environ(), "GOOS="+target[0], "GOARCH="+target[1], "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("GOOS=%s GOARCH=%s go build: %v\n%s", target[0], target[1], err, out)
		}
	}
}

// TestImportsStdlibAndYAMLOnly pins the package's dependency rule: the standard library and
// the YAML parser, nothing else (the JOSE work is pingedge's own, see docs/dependencies.md).
func TestImportsStdlibAndYAMLOnly(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		if strings.Contains(first, ".") && imp != "go.yaml.in/yaml/v3" {
			t.Errorf("internal/verify imports %s: only the standard library and go.yaml.in/yaml/v3 are allowed", imp)
		}
	}
}
