package lambdaauth

import (
	"archive/zip"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/pingedge/pingedge/internal/verify/policy"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

// maxAuthorizerTTL is API Gateway's upper bound on authorizer result caching (seconds).
const maxAuthorizerTTL = 3600

// BuildOptions say what `edge lambda build` writes.
type BuildOptions struct {
	PolicyFile string
	OutDir     string
	Arch       string // arm64 (default) or amd64
	// Executable is the linux/<Arch> pingedge to ship as bootstrap. Empty: this process's own
	// executable, which works only when this pingedge is itself linux/<Arch>.
	Executable string
	Version    string // for the error naming the release archive to take
}

// Bundle is what Build wrote.
type Bundle struct {
	Dir      string   `json:"dir"`
	Files    []string `json:"files"`
	Arch     string   `json:"arch"`
	TTL      int      `json:"authorizer_ttl_seconds"`
	ZipBytes int64    `json:"zip_bytes"`
}

// Build writes DIR/bootstrap, DIR/policy.yaml, DIR/function.zip, DIR/template.yaml (AWS SAM)
// and DIR/main.tf (Terraform). The bootstrap is a pingedge binary: no Go toolchain is needed,
// because a release's linux binary is already the Lambda runtime (it serves the Runtime API
// when started with AWS_LAMBDA_RUNTIME_API set).
func Build(opts BuildOptions) (*Bundle, error) {
	if opts.Arch == "" {
		opts.Arch = "arm64"
	}
	if opts.Arch != "arm64" && opts.Arch != "amd64" {
		return nil, fmt.Errorf("--arch %q: Lambda runs arm64 or amd64", opts.Arch)
	}
	polData, err := os.ReadFile(opts.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	p, err := policyfile.Parse(polData)
	if err == nil {
		err = p.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.PolicyFile, err)
	}
	exe, err := executableFor(opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", opts.OutDir, err)
	}
	b := &Bundle{Dir: opts.OutDir, Arch: opts.Arch, TTL: ttlSeconds(p)}
	if err := copyFile(exe, filepath.Join(opts.OutDir, "bootstrap"), 0o755); err != nil {
		return nil, err
	}
	files := map[string]string{
		"policy.yaml":   string(polData),
		"template.yaml": samTemplate(opts.Arch, b.TTL),
		"main.tf":       terraform(opts.Arch, b.TTL),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(opts.OutDir, name), []byte(body), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
	}
	if b.ZipBytes, err = writeZip(opts.OutDir); err != nil {
		return nil, err
	}
	b.Files = []string{"bootstrap", "policy.yaml", "function.zip", "template.yaml", "main.tf"}
	return b, nil
}

// ttlSeconds: the authorizer cache must not keep a decision longer than the policy's own
// result cache would (cache_ttl), and API Gateway allows at most an hour. With DPoP on it is 0:
// API Gateway would answer a cached decision without calling the authorizer, so a token with
// no proof, or a captured token and proof replayed, would pass on the cached allow; each
// request's proof must reach the engine (RFC 9449 §4.3, §11.1).
func ttlSeconds(p *policy.Policy) int {
	if p.DPoPEnabled() {
		return 0
	}
	return min(int(p.CacheTTL.Seconds()), maxAuthorizerTTL)
}

// executableFor finds the linux/<arch> executable and checks it is one, statically linked
// (provided.al2023 runs it as is).
func executableFor(opts BuildOptions) (string, error) {
	exe := opts.Executable
	if exe == "" {
		if runtime.GOOS != "linux" || runtime.GOARCH != opts.Arch {
			return "", fmt.Errorf("this pingedge is %s/%s, and the function needs a linux/%s executable: download pingedge_%s_linux_%s.tar.gz from the same release and pass its pingedge with --executable, or run this command with that binary",
				runtime.GOOS, runtime.GOARCH, opts.Arch, versionOr(opts.Version), opts.Arch)
		}
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("find this executable: %w", err)
		}
	}
	return exe, checkELF(exe, opts.Arch)
}

func versionOr(v string) string {
	if v == "" || v == "dev" {
		return "<version>"
	}
	return strings.TrimPrefix(v, "v")
}

func checkELF(path, arch string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not a Linux executable: %w", path, err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}[arch]
	if f.Machine != want {
		return fmt.Errorf("%s is a %s executable, --arch %s needs %s", path, f.Machine, arch, want)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (built with cgo); use a release binary or build with CGO_ENABLED=0", path)
		}
	}
	return nil
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("read executable: %w", err)
	}
	defer in.Close()
	tmp := to + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", to, err)
	}
	_, err = io.Copy(out, in)
	err = errors.Join(err, out.Close())
	if err == nil {
		err = os.Rename(tmp, to)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", to, err)
	}
	return nil
}

// writeZip packs bootstrap (mode 0755: Lambda runs it directly) and policy.yaml.
func writeZip(dir string) (int64, error) {
	path := filepath.Join(dir, "function.zip")
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("write function.zip: %w", err)
	}
	zw := zip.NewWriter(f)
	for _, e := range []struct {
		name string
		mode os.FileMode
	}{{"bootstrap", 0o755}, {"policy.yaml", 0o644}} {
		if err = addZip(zw, filepath.Join(dir, e.name), e.name, e.mode); err != nil {
			break
		}
	}
	err = errors.Join(err, zw.Close(), f.Close())
	if err != nil {
		return 0, fmt.Errorf("write function.zip: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func addZip(zw *zip.Writer, src, name string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, in)
	return err
}
