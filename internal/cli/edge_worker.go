package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/verify/policy"
	"github.com/pingedge/pingedge/internal/workerbundle"
)

// newCmdEdgeWorker is `pingedge edge worker`: the verification core as a Cloudflare Worker.
func newCmdEdgeWorker(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Build the policy into a Cloudflare Worker, or run it in local workerd",
		Long: `The same verification core as "pingedge verify" and "edge serve", compiled to wasm and
run as a Cloudflare Worker in front of an API. See docs/worker.md.`,
	}
	cmd.AddCommand(newCmdEdgeWorkerBuild(f, nil), newCmdEdgeWorkerDev(f, nil))
	return cmd
}

// WorkerBuildOptions are the flags of `pingedge edge worker build`.
type WorkerBuildOptions struct {
	Policy, Out, Name, Origin string
}

func newCmdEdgeWorkerBuild(f *Factory, runF func(context.Context, *WorkerBuildOptions) error) *cobra.Command {
	opts := &WorkerBuildOptions{}
	cmd := &cobra.Command{
		Use:   "build --policy FILE --out DIR",
		Short: "Write the Worker bundle (wasm, shim, policy, wrangler.toml) for wrangler deploy",
		Long: `Write the Cloudflare Worker bundle into DIR: pingedge.wasm (the verification core),
worker.mjs (the shim), wasm_exec.js, the policy and a wrangler.toml ready for
"npx wrangler deploy". The bundle's raw and gzip sizes are printed; a bundle over the Workers
limit of 3 MB gzip is an error.

A released pingedge carries the wasm; a pingedge built without it compiles the wasm with the Go
toolchain when run inside a pingedge checkout.`,
		Example: `  pingedge edge worker build --policy policy.yaml --out build/worker
  cd build/worker && npx wrangler deploy`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return workerBuildRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Policy, "policy", "", "policy file (YAML)")
	fl.StringVar(&opts.Out, "out", "", "directory to write the bundle into")
	fl.StringVar(&opts.Name, "name", "pingedge", "the Worker's name in wrangler.toml")
	fl.StringVar(&opts.Origin, "origin", "", "origin URL for allowed requests (default: the route's own origin)")
	return cmd
}

func workerBuildRun(ctx context.Context, f *Factory, opts *WorkerBuildOptions) error {
	if opts.Policy == "" || opts.Out == "" {
		return usageError("edge worker build needs --policy FILE and --out DIR")
	}
	if err := checkOrigin(opts.Origin, true); err != nil {
		return err
	}
	b, err := workerbundle.Build(ctx, workerbundle.Options{PolicyFile: opts.Policy, OutDir: opts.Out, Name: opts.Name, Origin: opts.Origin})
	if err != nil {
		return workerError(err)
	}
	if f.Global.JSON() {
		return json.NewEncoder(f.IO.Out).Encode(b)
	}
	s := f.OutStyles()
	fmt.Fprintf(f.IO.Out, "wrote %s (wasm %s)\n", b.Dir, b.WasmSource)
	for _, name := range b.Files {
		if st, err := os.Stat(filepath.Join(b.Dir, name)); err == nil {
			fmt.Fprintf(f.IO.Out, "  %-14s %10d bytes\n", name, st.Size())
		}
	}
	fmt.Fprintf(f.IO.Out, "bundle: %d bytes raw, %d bytes gzip (%.0f%% of the %d-byte Workers limit)\n",
		b.RawBytes, b.GzipBytes, 100*float64(b.GzipBytes)/workerbundle.MaxGzipBytes, workerbundle.MaxGzipBytes)
	fmt.Fprintln(f.IO.Out, s.Dim.Render("next: cd "+b.Dir+" && npx wrangler deploy"))
	return nil
}

// WorkerDevOptions are the flags of `pingedge edge worker dev`.
type WorkerDevOptions struct {
	Policy, Origin, Listen string
	KV                     string // directory of a disk-backed PINGEDGE_KV namespace ("" = none)
}

func newCmdEdgeWorkerDev(f *Factory, runF func(context.Context, *WorkerDevOptions) error) *cobra.Command {
	opts := &WorkerDevOptions{}
	cmd := &cobra.Command{
		Use:   "dev --policy FILE --origin URL",
		Short: "Run the Worker in local workerd in front of an origin",
		Long: `Build the Worker bundle and run it in a local workerd (from $WORKERD, PATH, or
node_modules/.bin) in front of --origin, with the network opened to the origin and the issuer.
The audit lines and logs go to stderr. Stop it with Ctrl-C.

--kv DIR binds the Workers KV namespace PINGEDGE_KV to a directory (workerd's disk-backed KV,
one file per key, kept between runs): key sets and validation results written by one run
warm the next, as they would a new isolate at the edge. See docs/worker.md for what that buys
and what it costs in revocation delay.`,
		Example: `  pingedge edge worker dev --policy policy.yaml --origin http://127.0.0.1:3000
  pingedge edge worker dev --policy policy.yaml --origin http://127.0.0.1:3000 --kv .pingedge-kv
  curl -H "Authorization: Bearer $(pingedge token)" http://127.0.0.1:8787/api/items`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return workerDevRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Policy, "policy", "", "policy file (YAML)")
	fl.StringVar(&opts.Origin, "origin", "", "the API to pass allowed requests to")
	fl.StringVar(&opts.Listen, "listen", "127.0.0.1:8787", "address to serve on")
	fl.StringVar(&opts.KV, "kv", "", "bind PINGEDGE_KV to a disk-backed namespace in this directory (created if missing)")
	return cmd
}

func workerDevRun(ctx context.Context, f *Factory, opts *WorkerDevOptions) error {
	if opts.Policy == "" || opts.Origin == "" {
		return usageError("edge worker dev needs --policy FILE and --origin URL")
	}
	if err := checkOrigin(opts.Origin, false); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("listen on %s: %w", opts.Listen, err), Hint: "choose a free address with --listen"}
	}
	defer ln.Close()
	err = workerbundle.Dev(ctx, workerbundle.DevOptions{
		PolicyFile: opts.Policy, Origin: opts.Origin, Listener: ln.(*net.TCPListener), Logs: f.IO.ErrOut, KVDir: opts.KV,
		Built: func(b *workerbundle.Bundle) {
			fmt.Fprintf(f.IO.ErrOut, "worker bundle: %d bytes raw, %d bytes gzip (wasm %s)\n", b.RawBytes, b.GzipBytes, b.WasmSource)
			if opts.KV != "" {
				fmt.Fprintf(f.IO.ErrOut, "PINGEDGE_KV: disk-backed namespace in %s\n", opts.KV)
			}
			fmt.Fprintf(f.IO.ErrOut, "serving the Worker in workerd on http://%s in front of %s\n", ln.Addr(), opts.Origin)
		},
	})
	if err != nil {
		return workerError(err)
	}
	return nil
}

func checkOrigin(raw string, optional bool) error {
	if raw == "" && optional {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return usageError("--origin %q: give an http(s) URL without a path, such as http://127.0.0.1:3000", raw)
	}
	return nil
}

// workerError maps bundle and workerd errors to exit codes: a policy that does not load is a
// configuration error (2); a missing toolchain or workerd fails (1) with what to install.
func workerError(err error) error {
	var pe *policy.PolicyError
	switch {
	case errors.As(err, &pe):
		return &ExitError{Code: ExitUsage, Err: err}
	case errors.Is(err, os.ErrNotExist):
		return &ExitError{Code: ExitUsage, Err: err}
	case errors.Is(err, workerbundle.ErrNoWorkerd):
		// The error already names every way to get workerd; a hint would say it twice.
		return &ExitError{Code: ExitFailed, Err: err}
	case errors.Is(err, workerbundle.ErrNoWasm):
		return &ExitError{Code: ExitFailed, Err: err, Hint: "install a released pingedge, or run `make build` in a pingedge checkout"}
	}
	return err
}
