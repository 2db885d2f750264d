// Package workerbundle writes pingedge's Cloudflare Worker bundle (the Go wasm, the shim, the
// policy and wrangler.toml), measures it against the Workers size limit, and runs it in a
// local workerd for `pingedge edge worker dev` and the tests.
package workerbundle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/pingedge/pingedge/internal/verify/policy"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
	"github.com/pingedge/pingedge/worker"
	"github.com/pingedge/pingedge/worker/bridge"
)

// MaxGzipBytes is the Workers Free plan's limit on a Worker's compressed size ("3 MB"),
// taken as decimal megabytes to stay on the safe side of either reading.
const MaxGzipBytes = 3_000_000

// CompatibilityDate is the Workers compatibility date the shim is written and tested against.
const CompatibilityDate = "2025-09-01"

// The bundle's files; the shim imports them by these names.
const (
	FileShim     = "worker.mjs"
	FileWasm     = "pingedge.wasm"
	FileWasmExec = "wasm_exec.js"
	FilePolicy   = "policy.mjs"
	FileYAML     = "policy.yaml"
	FileWrangler = "wrangler.toml"
)

// Options say what to bundle.
type Options struct {
	PolicyFile string
	OutDir     string
	Name       string // the Worker's name in wrangler.toml ["pingedge"]
	Origin     string // PINGEDGE_ORIGIN in wrangler.toml; empty: pass through to the route's own origin
	Wasm       *Wasm  // nil: LoadWasm
}

// Bundle is what Build wrote.
type Bundle struct {
	Dir        string   `json:"dir"`
	Files      []string `json:"files"`
	RawBytes   int64    `json:"raw_bytes"` // the files Workers uploads (shim, wasm, wasm_exec.js, policy)
	GzipBytes  int64    `json:"gzip_bytes"`
	WasmSource string   `json:"wasm_source"` // embedded or compiled
}

// Build checks the policy, then writes the bundle into o.OutDir. It fails when the bundle
// would exceed MaxGzipBytes, since Workers would refuse it at deploy.
func Build(ctx context.Context, o Options) (*Bundle, error) {
	raw, err := os.ReadFile(o.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("read the policy: %w", err)
	}
	pol, err := policyfile.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.PolicyFile, err)
	}
	w := o.Wasm
	if w == nil {
		if w, err = LoadWasm(ctx); err != nil {
			return nil, err
		}
	}
	files, err := bundleFiles(o, raw, pol, w)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", o.OutDir, err)
	}
	b := &Bundle{Dir: o.OutDir, WasmSource: w.Source}
	for _, name := range []string{FileShim, FileWasm, FileWasmExec, FilePolicy, FileYAML, FileWrangler} {
		if err := os.WriteFile(filepath.Join(o.OutDir, name), files[name], 0o644); err != nil {
			return nil, fmt.Errorf("write the bundle: %w", err)
		}
		b.Files = append(b.Files, name)
	}
	// Workers uploads the shim, the wasm, wasm_exec.js and the policy module. Each is gzipped
	// on its own (the wasm once per Wasm: it is nearly all of the time spent), which lands
	// within a few hundred bytes of gzipping them together.
	b.GzipBytes = w.gzipSize()
	b.RawBytes = int64(len(w.Module))
	for _, name := range []string{FileShim, FileWasmExec, FilePolicy} {
		b.RawBytes += int64(len(files[name]))
		b.GzipBytes += int64(len(Gzip(files[name])))
	}
	if b.GzipBytes >= MaxGzipBytes {
		return b, fmt.Errorf("the bundle is %d bytes gzip, over the Workers limit of %d: report this as a pingedge bug", b.GzipBytes, MaxGzipBytes)
	}
	return b, nil
}

// bundleFiles lays out the bundle: policy.mjs holds the policy precompiled for the wasm (the
// YAML parser's start-up cost stays out of every cold isolate) and what the shim needs before
// Go starts (policyModule); policy.yaml is the YAML kept for reference.
func bundleFiles(o Options, yaml []byte, pol *policy.Policy, w *Wasm) (map[string][]byte, error) {
	shim, err := fs.ReadFile(worker.Files, "shim.mjs")
	if err != nil {
		return nil, fmt.Errorf("worker shim: %w", err)
	}
	wr, err := wrangler(o)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		FileShim: shim, FileWasm: w.Module, FileWasmExec: w.WasmExec,
		FilePolicy: policyModule(pol, shim, w), FileYAML: yaml, FileWrangler: wr,
	}, nil
}

// policyModule writes policy.mjs: the precompiled policy as its default export, and the memo's
// keying (worker/bridge/memo.go) as named exports, computed by the core's own code so a cold
// isolate can key its memo, and look up an answer another isolate left in KV, without starting
// Go. answerScope names this build (core, shim and policy): a KV answer is only ever replayed by
// the build whose core gave it, never after a redeploy with another policy or core.
func policyModule(pol *policy.Policy, shim []byte, w *Wasm) []byte {
	compiled := bridge.EncodePolicy(pol)
	h := sha256.New()
	for _, part := range [][]byte{w.Module, shim, []byte(compiled)} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) } // strings always marshal
	return []byte("// The policy this Worker enforces: policy.yaml beside it, precompiled by pingedge.\n" +
		"export default " + js(compiled) + ";\n" +
		"// The memo's keying and this build's name for KV answers (worker/bridge/memo.go), written by pingedge.\n" +
		"export const memoValues = " + js(bridge.MemoValues(pol)) + ";\n" +
		"export const requestIDHeader = " + js(strings.ToLower(pol.RequestIDHeader)) + ";\n" +
		"export const answerScope = " + js(hex.EncodeToString(h.Sum(nil))) + ";\n")
}

var workerName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func wrangler(o Options) ([]byte, error) {
	name := o.Name
	if name == "" {
		name = "pingedge"
	}
	if !workerName.MatchString(name) {
		return nil, fmt.Errorf("worker name %q: use lower-case letters, digits and dashes (at most 63)", name)
	}
	text, err := fs.ReadFile(worker.Files, "wrangler.toml.tmpl")
	if err != nil {
		return nil, fmt.Errorf("wrangler template: %w", err)
	}
	t, err := template.New("wrangler").Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("wrangler template: %w", err)
	}
	origin, _ := json.Marshal(o.Origin) // a TOML basic string is a JSON string for these characters
	var b bytes.Buffer
	err = t.Execute(&b, map[string]string{"Name": name, "CompatibilityDate": CompatibilityDate, "Origin": string(origin[1 : len(origin)-1])})
	return b.Bytes(), err
}
