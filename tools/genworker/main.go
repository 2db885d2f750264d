// Command genworker compiles the Cloudflare Worker's Go half (GOOS=js GOARCH=wasm) and writes
// worker/dist/pingedge.wasm.gz and the matching wasm_exec.js, which `go build` then embeds so
// a released pingedge writes Worker bundles without a Go toolchain. make build, goreleaser's
// before hook and `go generate ./worker` run it. The output is reproducible: -trimpath, no
// VCS stamp, and gzip without a name or time.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/pingedge/pingedge/internal/workerbundle"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "genworker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	root, err := workerbundle.FindModuleRoot()
	if err != nil {
		return err
	}
	w, err := workerbundle.CompileWasm(ctx, root)
	if err != nil {
		return err
	}
	dist := filepath.Join(root, "worker", "dist")
	gz := workerbundle.Gzip(w.Module)
	if err := os.WriteFile(filepath.Join(dist, "pingedge.wasm.gz"), gz, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dist, "wasm_exec.js"), w.WasmExec, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "genworker: worker/dist/pingedge.wasm.gz: %d bytes (wasm %d bytes)\n", len(gz), len(w.Module))
	return nil
}
