package lambdaauth

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify/policy"
)

const testPolicy = "issuer: https://issuer.example\naudience: https://api.example.com\ndefault: deny\n"

func writePolicy(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBuildNamesTheReleaseArchive: a pingedge that is not linux/<arch> says which release
// archive holds the executable, instead of shipping a bootstrap Lambda cannot run.
func TestBuildNamesTheReleaseArchive(t *testing.T) {
	arch := "arm64"
	if runtime.GOOS == "linux" && runtime.GOARCH == "arm64" {
		arch = "amd64"
	}
	_, err := Build(BuildOptions{PolicyFile: writePolicy(t, testPolicy), OutDir: t.TempDir(), Arch: arch, Version: "v1.4.0"})
	if err == nil || !strings.Contains(err.Error(), "pingedge_1.4.0_linux_"+arch+".tar.gz") || !strings.Contains(err.Error(), "--executable") {
		t.Fatalf("err = %v, want the archive to download and --executable", err)
	}
}

func TestBuildRefusesWhatLambdaCannotRun(t *testing.T) {
	pol := writePolicy(t, testPolicy)
	for name, opts := range map[string]BuildOptions{
		"not an executable": {Executable: pol, Arch: "amd64"},
		"unknown arch":      {Arch: "386"},
		"bad policy":        {Arch: "amd64", PolicyFile: writePolicy(t, "issuer: [\n")},
	} {
		if opts.PolicyFile == "" {
			opts.PolicyFile = pol
		}
		opts.OutDir = t.TempDir()
		if _, err := Build(opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestTemplatesKeyTheCacheOnTheRoute: the authorizer cache key holds the method and path, and
// the TTL is the policy's cache_ttl capped at API Gateway's hour (see templates.go for why), and
// 0 with DPoP on: a cached allow would let a token without its proof, or a replayed proof, pass.
func TestTemplatesKeyTheCacheOnTheRoute(t *testing.T) {
	for _, c := range []struct {
		ttl  time.Duration
		dpop policy.DPoPMode
		want int
	}{{30 * time.Second, "", 30}, {2 * time.Hour, policy.DPoPOff, 3600},
		{30 * time.Second, policy.DPoPAllowed, 0}, {30 * time.Second, policy.DPoPRequired, 0}} {
		got := ttlSeconds(&policy.Policy{CacheTTL: c.ttl, DPoP: c.dpop})
		if got != c.want {
			t.Errorf("cache_ttl %v dpop %q: authorizer TTL %d, want %d", c.ttl, c.dpop, got, c.want)
		}
	}
	for name, body := range map[string]string{"template.yaml": samTemplate("arm64", 30), "main.tf": terraform("arm64", 30)} {
		for _, want := range []string{"$request.header.Authorization", "$context.httpMethod", "$context.path", "30", "provided.al2023", "arm64"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}
}
