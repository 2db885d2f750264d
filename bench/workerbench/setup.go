package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/edgecases"
	"github.com/pingedge/pingedge/internal/workerbundle"
	"github.com/pingedge/pingedge/worker/bridge"
)

// policy is the benchmark's policy: the shared request table's (internal/edgecases) with the key
// set's URL given, as the jose Worker is given it, so neither pays a discovery fetch. Format it
// with the issuer and the JWKS URL.
var policy = strings.Replace(edgecases.Policy, "roles_claim:", "jwks_uri: %s\nroles_claim:", 1)

// env is what every measurement shares: issuer, origin, token and the Workers.
type env struct {
	dir, workerd string
	taskset      string
	op           *devop.Server
	origin       *http.Server
	originURL    string
	token        string
	targets      []*target // warm targets, in one workerd
	cold         []*target // cold-start targets, one workerd each
	warm         *workerdProc
}

func (e *env) close() {
	if e.warm != nil {
		e.warm.stop()
	}
	_ = e.origin.Close()
	_ = e.op.Close()
	_ = os.RemoveAll(e.dir)
}

func setup(ctx context.Context, o options) (*env, error) {
	bin, err := workerbundle.LocateWorkerd()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "workerbench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, workerd: bin, taskset: o.taskset}
	if e.op, err = devop.Start(ctx, devop.Config{SigningAlg: o.alg, JWKSMaxAge: time.Hour, AccessTokenTTL: 2 * time.Hour}); err != nil {
		return nil, err
	}
	if err := e.startOrigin(); err != nil {
		return nil, err
	}
	if e.token, err = e.op.MintAccessToken(map[string]any{"sub": "alice", "aud": e.op.Audience(),
		"email": "alice@example.com", "roles": []string{"engineer"}}, 2*time.Hour); err != nil {
		return nil, err
	}
	if err := e.buildTargets(ctx, o); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// startOrigin serves the API every Worker forwards to: a small JSON answer.
func (e *env) startOrigin() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.originURL = "http://" + ln.Addr().String()
	e.origin = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" && r.Header.Get("X-Auth-User") != "" {
			http.Error(w, "the Worker passed the token on", http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"items":[1,2,3]}`)
	})}
	go func() { _ = e.origin.Serve(ln) }()
	return nil
}

func (e *env) buildTargets(ctx context.Context, o options) error {
	pol := filepath.Join(e.dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(fmt.Sprintf(policy, e.op.Issuer(), e.op.JWKSURI())), 0o600); err != nil {
		return err
	}
	root, err := workerbundle.FindModuleRoot()
	if err != nil {
		return err
	}
	w, err := workerbundle.CompileWasm(ctx, root)
	if err != nil {
		return err
	}
	pdir := filepath.Join(e.dir, "pingedge")
	if _, err := workerbundle.Build(ctx, workerbundle.Options{PolicyFile: pol, OutDir: pdir, Origin: e.originURL, Wasm: w}); err != nil {
		return err
	}
	if o.pingedgeDir != "" {
		if pdir, err = e.adopt("pingedge", o.pingedgeDir, pdir); err != nil {
			return err
		}
	}
	jose, _ := filepath.Abs(o.jose)
	pass, _ := filepath.Abs(o.passthrough)
	origin := binding{"ORIGIN", e.originURL}
	pass1 := &target{name: "passthrough", modules: []module{{"worker.mjs", "esModule", pass}}, bindings: []binding{origin}}
	jose1 := &target{name: "jose", modules: []module{{"worker.mjs", "esModule", jose}}, bindings: []binding{origin,
		{"JWKS_URL", e.op.JWKSURI()}, {"ISSUER", e.op.Issuer()}, {"AUDIENCE", "https://api.example.com"}}}
	ping := e.pingedge("pingedge", pdir)
	kv := *ping
	kv.name, kv.kv = "pingedge+kv", filepath.Join(e.dir, "kv")
	all := []*target{pass1, jose1, ping}
	for _, x := range o.extra {
		name, dir, ok := strings.Cut(x, "=")
		if !ok {
			return fmt.Errorf("-extra %q: want name=dir", x)
		}
		if dir, err = e.adopt(name, dir, filepath.Join(e.dir, "pingedge")); err != nil {
			return err
		}
		all = append(all, e.pingedge(name, dir))
	}
	floor, err := e.goFloor(ctx, root, pdir, origin)
	if err != nil {
		return err
	}
	e.targets = pick(all, o.only)
	e.cold = pick(append(append([]*target{}, all...), &kv, floor), o.only)
	if len(e.cold) == 0 {
		return errors.New("-only picked no target")
	}
	if len(pick([]*target{&kv}, o.only)) > 0 {
		if err := e.seedKV(ctx, &kv); err != nil {
			return err
		}
	}
	return e.startWarm(ctx)
}

// adopt copies another build's shim, wasm and wasm_exec.js (say, of an earlier commit) into
// a bundle beside this run's, with this run's policy in the form that build reads (YAML
// before the policy was precompiled).
func (e *env) adopt(name, from, built string) (string, error) {
	dir := filepath.Join(e.dir, "bundle-"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, f := range []string{"worker.mjs", "wasm_exec.js", "pingedge.wasm", "policy.mjs"} {
		b, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			return "", err
		}
		if f == "policy.mjs" {
			if b, err = e.policyFor(b, built); err != nil {
				return "", err
			}
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// goFloor builds bench/worker/gofloor, the Go runtime alone as a Worker, for the cold starts:
// what Go's js/wasm port costs an isolate before any pingedge code runs.
func (e *env) goFloor(ctx context.Context, root, pdir string, origin binding) (*target, error) {
	dir := filepath.Join(e.dir, "gofloor")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "gofloor.wasm"), "./bench/worker/gofloor")
	cmd.Dir, cmd.Env = root, append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build gofloor: %w\n%s", err, out)
	}
	return &target{name: "go-floor", bindings: []binding{origin}, modules: []module{
		{"worker.mjs", "esModule", filepath.Join(root, "bench/worker/gofloor/worker.mjs")},
		{"wasm_exec.js", "esModule", filepath.Join(pdir, "wasm_exec.js")},
		{"gofloor.wasm", "wasm", filepath.Join(dir, "gofloor.wasm")},
	}}, nil
}

func (e *env) policyFor(theirs []byte, built string) ([]byte, error) {
	if strings.Contains(string(theirs), bridge.PolicyMagic) {
		return os.ReadFile(filepath.Join(built, "policy.mjs"))
	}
	yaml, err := os.ReadFile(filepath.Join(built, "policy.yaml"))
	if err != nil {
		return nil, err
	}
	q, _ := json.Marshal(string(yaml))
	return []byte("export default " + string(q) + ";\n"), nil
}

// pingedge is the pingedge Worker bundle in dir as a target.
func (e *env) pingedge(name, dir string) *target {
	t := &target{name: name, bindings: []binding{{"PINGEDGE_ORIGIN", e.originURL}}}
	for _, m := range []struct{ name, kind string }{{"worker.mjs", "esModule"}, {"wasm_exec.js", "esModule"}, {"policy.mjs", "esModule"}, {"pingedge.wasm", "wasm"}} {
		t.modules = append(t.modules, module{m.name, m.kind, filepath.Join(dir, m.name)})
	}
	return t
}

func pick(ts []*target, only string) []*target {
	if only == "" {
		return ts
	}
	var out []*target
	for _, t := range ts {
		for _, n := range strings.Split(only, ",") {
			if n == t.name {
				out = append(out, t)
			}
		}
	}
	return out
}

// seedKV runs the KV-bound Worker once with the benchmark's request, so the namespace holds the
// key set, the token's validation result and the core's answer to that request (stored after the
// response, so workerd is kept until it lands) as another isolate would have left them. Every
// cold start of the KV target then sends a repeat of that request, as in a burst of one client.
func (e *env) seedKV(ctx context.Context, kv *target) error {
	if err := os.MkdirAll(kv.kv, 0o755); err != nil {
		return err
	}
	p, err := e.startWorkerd(ctx, filepath.Join(e.dir, "seed"), []*target{kv})
	if err != nil {
		return fmt.Errorf("seed KV: %w", err)
	}
	defer p.stop()
	if err := expect200(ctx, p.url[kv.name], e.token); err != nil {
		return fmt.Errorf("seed KV: %w\n%s", err, p.logs)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if found, _ := filepath.Glob(filepath.Join(kv.kv, "pingedge:answer:*")); len(found) > 0 {
			return nil
		}
	}
	files, _ := os.ReadDir(kv.kv)
	return fmt.Errorf("seed KV: no pingedge:answer: entry in %s (%d entries; an older shim stores none)", kv.kv, len(files))
}

// startWarm runs every warm target in one workerd.
func (e *env) startWarm(ctx context.Context) error {
	p, err := e.startWorkerd(ctx, filepath.Join(e.dir, "warm"), e.targets)
	if err != nil {
		return err
	}
	e.warm = p
	for _, t := range e.targets {
		if err := expect200(ctx, p.url[t.name], e.token); err != nil {
			return fmt.Errorf("%s: %w\n%s", t.name, err, p.logs.String())
		}
		if t.name == "passthrough" {
			continue
		}
		if err := expect200(ctx, p.url[t.name], ""); err == nil || !strings.Contains(err.Error(), "status 401") {
			return fmt.Errorf("%s must refuse a request without a token with 401, got %v", t.name, err)
		}
	}
	return nil
}
