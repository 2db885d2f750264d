package archtest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/pingedge/pingedge/"

// allowed lists, for each repository package (or package tree, ending in "/..."), the repository
// packages it may import directly. A package absent from the table may import any repository
// package except internal/cli, internal/devop and the core's internals (checked separately).
// Why each rule exists: docs/architecture.md, "Import rules".
var allowed = map[string][]string{
	"cmd/pingedge":           {"internal/cli"},
	"cmd/pingedge-demo":      {"internal/cli"},
	"internal/verify":        {"internal/verify/jose", "internal/verify/keyset", "internal/verify/policy", "internal/verify/dpop"},
	"internal/verify/dpop":   {"internal/verify/jose"},
	"internal/dpopkey":       {"internal/verify/jose"},
	"internal/verify/jose":   {},
	"internal/verify/keyset": {"internal/verify/jose"},
	"internal/verify/policy": {"internal/verify/jose"},
	// policyfile reads YAML into the policy model; the Worker must not reach it (wasmDeps).
	"internal/verify/policyfile": {"internal/verify/policy"},
	"internal/edge":              {"internal/verify/...", "internal/edgehttp"},
	"internal/edgehttp":          {"internal/verify/..."},
	"internal/lambdaauth":        {"internal/verify/..."},
	"edgeauth":                   {"internal/verify/...", "internal/edgehttp"},
	"worker/bridge":              wasmCore,
	"worker/wasm":                append([]string{"worker/bridge"}, wasmCore...),
	"internal/tunnel":            {"internal/secret", "internal/dpopkey"},
	"internal/credstore":         {"internal/secret"},
	"internal/config":            {"internal/verify/jose"},
	"internal/secret":            {},
	"internal/ui":                {},
	"internal/devop":             {},
	"internal/login":             {"internal/config", "internal/credstore", "internal/secret", "internal/httpclient", "internal/dpopkey", "internal/verify/jose", "internal/verify/keyset"},
	"internal/httpclient":        {"internal/config"},
	"internal/hostileop":         {},
}

// wasmCore is the core less its YAML reader: the Worker gets its policy precompiled.
var wasmCore = []string{"internal/verify", "internal/verify/jose", "internal/verify/keyset", "internal/verify/policy", "internal/verify/dpop"}

// devopUsers (and the benchmark programs under bench/) may import the OpenID provider; nothing
// on the login, tunnel or edge path may.
var devopUsers = []string{"internal/demo", "internal/edgecases", "bench/edgebench", "bench/tunnelbench"}

func TestImportRules(t *testing.T) {
	pkgs := list(t, nil, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...")
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages: is the test running inside the repository?", len(pkgs))
	}
	for pkg, imports := range pkgs {
		for _, imp := range imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			if err := check(pkg, strings.TrimPrefix(imp, module)); err != "" {
				t.Errorf("%s imports %s: %s", pkg, imp, err)
			}
		}
	}
}

func check(pkg, imp string) string {
	pkg = strings.TrimPrefix(pkg, module)
	if rule, ok := ruleFor(pkg); ok {
		if !slices.ContainsFunc(rule, func(p string) bool { return matches(p, imp) }) {
			return "not in its allowed list " + strings.Join(rule, ", ")
		}
		return ""
	}
	switch {
	case imp == "internal/cli" && !strings.HasPrefix(pkg, "tools/"):
		return "only cmd/pingedge and tools may import the command layer"
	case imp == "internal/devop" && !slices.Contains(devopUsers, pkg) && !strings.HasPrefix(pkg, "bench/"):
		return "the OpenID provider is for the demo and tests only"
	case imp == "internal/hostileop":
		return "the hostile OpenID provider is for attack tests only"
	}
	return ""
}

func ruleFor(pkg string) ([]string, bool) {
	for p, rule := range allowed {
		if matches(p, pkg) {
			return rule, true
		}
	}
	return nil, false
}

func matches(pattern, pkg string) bool {
	if tree, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == tree || strings.HasPrefix(pkg, tree+"/")
	}
	return pkg == pattern
}

// TestCoreImportsStdlibAndYAMLOnly: the verification core imports the standard library and the
// YAML parser and nothing else, on every platform (the JOSE work is its own,
// docs/dependencies.md).
func TestCoreImportsStdlibAndYAMLOnly(t *testing.T) {
	for _, goos := range []string{"linux", "js", "wasip1"} {
		env := []string{"GOOS=" + goos, "GOARCH=" + map[bool]string{true: "wasm", false: "amd64"}[goos != "linux"]}
		deps := list(t, env, "-deps", "-f", "{{.ImportPath}} {{.Standard}}", "./internal/verify/...")
		for dep, std := range deps {
			if len(std) == 1 && std[0] == "true" || strings.HasPrefix(dep, module+"internal/verify") ||
				strings.HasPrefix(dep, "go.yaml.in/yaml/v3") {
				continue
			}
			t.Errorf("%s: the core depends on %s", goos, dep)
		}
	}
}

// wasmBanned are packages the Worker's wasm must not link, each for its start-up cost: a
// package's init runs in every cold isolate, and workerd compiles each function the first time
// it runs (docs/performance.md, "Where the time went"). go.yaml.in/yaml/v3's init compiles
// regular expressions (regexp, and the unicode tables they reach); the policy arrives
// precompiled (worker/bridge/policy.go), so neither the YAML reader nor regexp is needed.
var wasmBanned = []string{"go.yaml.in/", "regexp", "regexp/syntax", module + "internal/verify/policyfile"}

// TestWasmLinksNoYAMLOrRegexp: `GOOS=js GOARCH=wasm` builds of the Worker link none of
// wasmBanned, whatever imports them.
func TestWasmLinksNoYAMLOrRegexp(t *testing.T) {
	deps := list(t, []string{"GOOS=js", "GOARCH=wasm"}, "-deps", "-f", "{{.ImportPath}}", "./worker/wasm")
	if _, ok := deps[module+"internal/verify"]; !ok {
		t.Fatalf("go list did not list the core among the wasm's dependencies: %v", keys(deps))
	}
	for dep := range deps {
		for _, b := range wasmBanned {
			if dep == b || strings.HasSuffix(b, "/") && strings.HasPrefix(dep, b) {
				t.Errorf("the Worker's wasm links %s (why it must not: wasmBanned)", dep)
			}
		}
	}
}

// TestCoreHasNoHTTPOnWasm: in the Worker (js/wasm) and under WASI the core links neither
// net/http nor os/exec; keys come through the host's fetch, not Go's HTTP client.
func TestCoreHasNoHTTPOnWasm(t *testing.T) {
	for _, goos := range []string{"js", "wasip1"} {
		deps := list(t, []string{"GOOS=" + goos, "GOARCH=wasm"}, "-deps", "-f", "{{.ImportPath}}", "./internal/verify/...")
		for _, banned := range []string{"net/http", "os/exec"} {
			if _, ok := deps[banned]; ok {
				t.Errorf("GOOS=%s: the core links %s", goos, banned)
			}
		}
		if _, ok := deps[module+"internal/verify"]; !ok {
			t.Fatalf("GOOS=%s: go list did not list the core itself: %v", goos, keys(deps))
		}
	}
}

// list runs go list from the repository root and returns each output line's first field mapped
// to the rest.
func list(t *testing.T, env []string, args ...string) map[string][]string {
	t.Helper()
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), append([]string{"list"}, args...)...)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	return m
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCheckRefuses holds the rule table itself: imports the rules exist to stop are refused.
func TestCheckRefuses(t *testing.T) {
	for _, c := range []struct{ pkg, imp string }{
		{"cmd/pingedge", "internal/login"},
		{"internal/verify", "internal/config"},
		{"internal/verify/jose", "internal/verify/keyset"},
		{"internal/verify/policy", "internal/verify"},
		{"internal/verify/keyset", "internal/verify/policy"},
		{"internal/edge", "internal/login"},
		{"internal/tunnel", "internal/login"},
		{"internal/login", "internal/cli"},
		{"internal/doctor", "internal/cli"},
		{"internal/login", "internal/devop"},
		{"worker/bridge", "internal/edge"},
		{"worker/bridge", "internal/verify/policyfile"},
		{"worker/wasm", "internal/verify/policyfile"},
		{"internal/verify/policy", "internal/verify/policyfile"},
	} {
		if check(module+c.pkg, c.imp) == "" {
			t.Errorf("%s importing %s was allowed", c.pkg, c.imp)
		}
	}
	if msg := check(module+"internal/edge", "internal/verify"); msg != "" {
		t.Errorf("edge importing verify was refused: %s", msg)
	}
}

// TestReleaseBinaryCarriesNoProvider: the release pingedge (no build tags) links neither the
// demo nor its OpenID provider; pingedge-demo (-tags demo) does. docs/dependencies.md, "What
// ships", gives the numbers.
func TestReleaseBinaryCarriesNoProvider(t *testing.T) {
	banned := []string{module + "internal/devop", module + "internal/demo", "github.com/zitadel/", "github.com/go-chi/", "go.opentelemetry.io/"}
	for dep := range list(t, nil, "-deps", "-f", "{{.ImportPath}}", "./cmd/pingedge") {
		for _, b := range banned {
			if strings.HasPrefix(dep, b) {
				t.Errorf("cmd/pingedge links %s", dep)
			}
		}
	}
	if _, ok := list(t, nil, "-tags", "demo", "-deps", "-f", "{{.ImportPath}}", "./cmd/pingedge-demo")[module+"internal/demo"]; !ok {
		t.Error("cmd/pingedge-demo built with -tags demo does not link the demo")
	}
}

// TestReleaseModulesDocumented: every module the release binary links is named in
// docs/dependencies.md, where its reason is given.
func TestReleaseModulesDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "dependencies.md"))
	if err != nil {
		t.Fatal(err)
	}
	mods := list(t, nil, "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}{{end}}{{end}}", "./cmd/pingedge")
	if len(mods) < 5 {
		t.Fatalf("only %d modules listed", len(mods))
	}
	for m := range mods {
		if !bytes.Contains(doc, []byte(m)) {
			t.Errorf("the release binary links %s, which docs/dependencies.md does not mention", m)
		}
	}
}

// TestDemoBinaryBuilds: demo.go compiles only with -tags demo, so a plain `go build ./...` never
// sees an edit to it; this builds pingedge-demo so `go test ./...` does.
func TestDemoBinaryBuilds(t *testing.T) {
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-tags", "demo", "-o", os.DevNull, "./cmd/pingedge-demo")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags demo ./cmd/pingedge-demo: %v\n%s", err, out)
	}
}
