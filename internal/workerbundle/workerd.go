package workerbundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrNoWorkerd means no workerd binary was found.
var ErrNoWorkerd = errors.New("workerd not found: set $WORKERD, put workerd on PATH, or run `npm ci` in pingedge's worker/ directory")

// LocateWorkerd finds workerd: $WORKERD, then PATH, then node_modules/.bin under the working
// directory or worker/ of the pingedge checkout around it.
func LocateWorkerd() (string, error) {
	if p := os.Getenv("WORKERD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$WORKERD=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("workerd"); err == nil {
		return p, nil
	}
	candidates := []string{filepath.Join("node_modules", ".bin", "workerd")}
	if root, err := FindModuleRoot(); err == nil {
		candidates = append(candidates, filepath.Join(root, "worker", "node_modules", ".bin", "workerd"))
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return filepath.Abs(c)
		}
	}
	return "", ErrNoWorkerd
}

// ConfigOptions describe the local workerd service.
type ConfigOptions struct {
	Origin string            // PINGEDGE_ORIGIN
	Vars   map[string]string // more text bindings, e.g. PINGEDGE_JWKS_COOLDOWN
	Allow  []string          // networks the Worker may fetch from, workerd's names or CIDRs
	KV     bool              // bind a PINGEDGE_KV namespace kept in the directory kv/
	// KVDir, when set, is the directory that namespace lives in instead (implies KV): workerd's
	// disk service keeps one file per key, so it outlives workerd and can be shared by runs.
	KVDir string
}

// kvPath is where the namespace lives: KVDir, or kv/ beside the config.
func (o ConfigOptions) kvPath() string {
	if o.KVDir != "" {
		return o.KVDir
	}
	return "kv"
}

// Config is the workerd configuration (Cap'n Proto text) that serves the bundle in the same
// directory on the socket named "http", whose listening socket the caller passes with
// --socket-fd. Fetches leave through the "net" service, allowed only to opts.Allow.
func Config(opts ConfigOptions) string {
	quoted := make([]string, len(opts.Allow))
	for i, a := range opts.Allow {
		quoted[i] = strconv.Quote(a)
	}
	var kvService string
	bindings := []string{fmt.Sprintf("(name = \"PINGEDGE_ORIGIN\", text = %s)", strconv.Quote(opts.Origin))}
	for _, k := range slices.Sorted(maps.Keys(opts.Vars)) {
		bindings = append(bindings, fmt.Sprintf("(name = %s, text = %s)", strconv.Quote(k), strconv.Quote(opts.Vars[k])))
	}
	if opts.KV || opts.KVDir != "" {
		kvService = fmt.Sprintf("\n    (name = \"kv\", disk = (path = %s, writable = true)),", strconv.Quote(opts.kvPath()))
		bindings = append(bindings, "(name = \"PINGEDGE_KV\", kvNamespace = \"kv\")")
	}
	return fmt.Sprintf(`# Written by pingedge for workerd: the pingedge Worker bundle in this directory.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .pingedge),
    (name = "net", network = (allow = [%s], tlsOptions = (trustBrowserCas = true))),%s
  ],
  sockets = [ (name = "http", http = (), service = "main") ],
);

const pingedge :Workerd.Worker = (
  modules = [
    (name = %q, esModule = embed %q),
    (name = %q, esModule = embed %q),
    (name = %q, esModule = embed %q),
    (name = %q, wasm = embed %q),
  ],
  compatibilityDate = %q,
  bindings = [
    %s
  ],
  globalOutbound = "net",
);
`, strings.Join(quoted, ", "), kvService,
		FileShim, FileShim, FileWasmExec, FileWasmExec, FilePolicy, FilePolicy, FileWasm, FileWasm,
		CompatibilityDate, strings.Join(bindings, ",\n    "))
}

// AllowFor lists what the Worker must reach: the public internet (a real issuer) and, for
// each of urls whose host is a loopback or private address, that address alone, so a local
// origin and issuer work without opening the whole local network.
func AllowFor(urls ...string) []string {
	allow := []string{"public"}
	seen := map[string]bool{}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			continue
		}
		ips, err := net.LookupIP(u.Hostname())
		if err != nil {
			continue
		}
		for _, ip := range ips {
			if ip.IsLoopback() || ip.IsPrivate() {
				cidr := ip.String() + "/32"
				if ip.To4() == nil {
					cidr = ip.String() + "/128"
				}
				if !seen[cidr] {
					seen[cidr] = true
					allow = append(allow, cidr)
				}
			}
		}
	}
	return allow
}

// Process is a running workerd.
type Process struct {
	cmd  *exec.Cmd
	done chan error
}

// Start runs workerd on the config in dir, serving on ln (handed over as --socket-fd, so the
// address is bound before workerd starts and cannot be taken meanwhile). Its output goes to
// logs. The caller keeps ln open until Wait returns and then closes it.
func Start(ctx context.Context, workerd, dir string, ln *net.TCPListener, logs io.Writer) (*Process, error) {
	f, err := ln.File()
	if err != nil {
		return nil, fmt.Errorf("hand the socket to workerd: %w", err)
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, workerd, "serve", "--verbose", "--socket-fd", "http=3", "config.capnp")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.ExtraFiles = []*os.File{f}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5e9
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start workerd: %w", err)
	}
	p := &Process{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

// Wait returns when workerd exits.
func (p *Process) Wait() error { return <-p.done }

// WriteConfig writes config.capnp into dir.
func WriteConfig(dir string, opts ConfigOptions) error {
	if opts.KV || opts.KVDir != "" {
		kv := opts.kvPath()
		if !filepath.IsAbs(kv) {
			kv = filepath.Join(dir, kv)
		}
		if err := os.MkdirAll(kv, 0o755); err != nil {
			return fmt.Errorf("kv directory: %w", err)
		}
	}
	return os.WriteFile(filepath.Join(dir, "config.capnp"), []byte(Config(opts)), 0o644)
}
