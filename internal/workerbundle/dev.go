package workerbundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

// DevOptions describe a local run of the Worker in workerd.
type DevOptions struct {
	PolicyFile string
	Origin     string
	Listener   *net.TCPListener // where workerd serves; the caller closes it after Dev returns
	Logs       io.Writer        // workerd's output: the audit lines and logs
	Workerd    string           // "": LocateWorkerd
	Wasm       *Wasm            // nil: LoadWasm
	// KVDir, when set, binds PINGEDGE_KV to a namespace kept in this directory (workerd's
	// disk-backed KV), created if missing and kept after workerd exits.
	KVDir string
	// Built, when set, is told the bundle once it is written, before workerd starts.
	Built func(*Bundle)
}

// Dev builds the bundle into a temporary directory, writes the workerd config with the
// network opened to the origin and the issuer (and the public internet, for a real issuer),
// and runs workerd until ctx ends or workerd exits.
func Dev(ctx context.Context, o DevOptions) error {
	bin := o.Workerd
	if bin == "" {
		var err error
		if bin, err = LocateWorkerd(); err != nil {
			return err
		}
	}
	p, err := policyfile.Load(o.PolicyFile)
	if err != nil {
		return fmt.Errorf("%s: %w", o.PolicyFile, err)
	}
	dir, err := os.MkdirTemp("", "pingedge-worker-dev-")
	if err != nil {
		return fmt.Errorf("bundle directory: %w", err)
	}
	defer os.RemoveAll(dir)
	b, err := Build(ctx, Options{PolicyFile: o.PolicyFile, OutDir: dir, Origin: o.Origin, Wasm: o.Wasm})
	if err != nil {
		return err
	}
	if o.Built != nil {
		o.Built(b)
	}
	cfg := ConfigOptions{Origin: o.Origin, Allow: AllowFor(o.Origin, p.Issuer, p.JWKSURI)}
	if o.KVDir != "" {
		if cfg.KVDir, err = filepath.Abs(o.KVDir); err != nil {
			return fmt.Errorf("--kv %s: %w", o.KVDir, err)
		}
	}
	if err := WriteConfig(dir, cfg); err != nil {
		return err
	}
	proc, err := Start(ctx, bin, dir, o.Listener, o.Logs)
	if err != nil {
		return err
	}
	err = proc.Wait()
	if ctx.Err() != nil {
		return nil // asked to stop: workerd's exit status on SIGINT is not an error
	}
	if err == nil {
		err = errors.New("exited")
	}
	return fmt.Errorf("workerd: %w (its output above says why)", err)
}
