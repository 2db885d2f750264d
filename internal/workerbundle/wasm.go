package workerbundle

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pingedge/pingedge/worker"
)

// ModulePath is the module whose source CompileWasm needs.
const ModulePath = "github.com/pingedge/pingedge"

// ErrNoWasm means this pingedge carries no Worker build and none can be compiled here.
var ErrNoWasm = errors.New("this pingedge has no Worker build embedded and no Go toolchain with pingedge's source to compile one")

// Wasm is the Go half of the Worker: the module and the wasm_exec.js of the Go release that
// compiled it (the two must match).
type Wasm struct {
	Module   []byte
	WasmExec []byte
	Source   string // "embedded" or "compiled"

	gzOnce sync.Once
	gz     int64
}

// gzipSize is the module's gzip -9 size, computed once.
func (w *Wasm) gzipSize() int64 {
	w.gzOnce.Do(func() { w.gz = int64(len(Gzip(w.Module))) })
	return w.gz
}

// buildFlags: -trimpath and no VCS stamp make the module reproducible; -s -w drop symbols and
// DWARF, which the Worker never uses.
var buildFlags = []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

// sizeFlags turn inlining off except in the FIPS crypto primitives (bigmod, nistec,
// edwards25519), where signature checks spend their time: about 10 % less gzip, at some speed
// (docs/performance.md). CompileWasm uses them only when the normal build would not leave
// sizeMargin under the Workers limit.
var sizeFlags = []string{"-gcflags=all=-l", "-gcflags=crypto/internal/fips140/...="}

const sizeMargin = 150_000

// LoadWasm returns the embedded build when this binary has one, else compiles one.
func LoadWasm(ctx context.Context) (*Wasm, error) {
	if w, err := Embedded(); err == nil {
		return w, nil
	}
	root, err := FindModuleRoot()
	if err != nil {
		return nil, fmt.Errorf("%w: install a released pingedge, or run it inside a pingedge checkout with Go installed", ErrNoWasm)
	}
	return CompileWasm(ctx, root)
}

// Embedded returns the build genworker left in worker/dist when this binary was built.
func Embedded() (*Wasm, error) {
	gz, err := fs.ReadFile(worker.Files, "dist/pingedge.wasm.gz")
	if err != nil {
		return nil, ErrNoWasm
	}
	glue, err := fs.ReadFile(worker.Files, "dist/wasm_exec.js")
	if err != nil {
		return nil, ErrNoWasm
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("embedded worker build: %w", err)
	}
	mod, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("embedded worker build: %w", err)
	}
	w := &Wasm{Module: mod, WasmExec: glue, Source: "embedded"}
	w.gzOnce.Do(func() { w.gz = int64(len(gz)) }) // genworker wrote it with Gzip
	return w, nil
}

// CompileWasm builds ./worker/wasm in the module at root with the Go toolchain on PATH,
// falling back to sizeFlags when the module would come too close to the Workers size limit.
func CompileWasm(ctx context.Context, root string) (*Wasm, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("%w: no go on PATH", ErrNoWasm)
	}
	mod, err := goBuild(ctx, goBin, root, buildFlags)
	if err != nil {
		return nil, err
	}
	w := &Wasm{Module: mod, Source: "compiled"}
	if w.gzipSize() > MaxGzipBytes-sizeMargin {
		if mod, err = goBuild(ctx, goBin, root, append(append([]string{}, buildFlags...), sizeFlags...)); err != nil {
			return nil, err
		}
		w = &Wasm{Module: mod, Source: "compiled"}
	}
	goroot, err := exec.CommandContext(ctx, goBin, "env", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT: %w", err)
	}
	if w.WasmExec, err = os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js")); err != nil {
		return nil, fmt.Errorf("wasm_exec.js of the Go that compiled the worker: %w", err)
	}
	return w, nil
}

func goBuild(ctx context.Context, goBin, root string, flags []string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "pingedge-wasm-")
	if err != nil {
		return nil, fmt.Errorf("compile the worker: %w", err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "pingedge.wasm")
	cmd := exec.CommandContext(ctx, goBin, append(append([]string{}, flags...), "-o", out, "./worker/wasm")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("compile the worker (GOOS=js GOARCH=wasm go build ./worker/wasm): %w\n%s", err, msg)
	}
	mod, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("compile the worker: %w", err)
	}
	return mod, nil
}

// FindModuleRoot walks up from the working directory to pingedge's go.mod.
func FindModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module "+ModulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no pingedge go.mod above the working directory")
		}
		dir = parent
	}
}

// Gzip compresses deterministically (no name, no time), so the embedded build is
// reproducible byte for byte.
func Gzip(data []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // the level is valid
	_, _ = zw.Write(data)                                  // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return b.Bytes()
}
