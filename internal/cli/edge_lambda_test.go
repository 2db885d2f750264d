package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/devop"
)

// TestEdgeLambdaBootstrapDispatch: started without arguments and with AWS_LAMBDA_RUNTIME_API
// set (as Lambda starts a custom runtime's bootstrap), pingedge is the authorizer, not the CLI:
// here its init fails on the missing policy, with a line that says what to ship.
func TestEdgeLambdaBootstrapDispatch(t *testing.T) {
	e := newCLIEnv(t, devop.Config{SigningAlg: "ES256"})
	e.env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9"
	e.env["PINGEDGE_POLICY"] = filepath.Join(t.TempDir(), "absent.yaml")
	code, _, stderr := e.run()
	if code != ExitUsage || !strings.Contains(stderr, "read policy") || !strings.Contains(stderr, "policy.yaml") {
		t.Errorf("exit %d, stderr %q: want the Lambda runtime's init failure naming the policy", code, stderr)
	}
	delete(e.env, "AWS_LAMBDA_RUNTIME_API")
	if code, _, stderr = e.run("edge", "lambda", "run"); code != ExitUsage || !strings.Contains(stderr, "AWS_LAMBDA_RUNTIME_API") {
		t.Errorf("edge lambda run outside Lambda: exit %d, %q", code, stderr)
	}
}

func TestEdgeLambdaBuildErrors(t *testing.T) {
	e := newCLIEnv(t, devop.Config{SigningAlg: "ES256"})
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(bad, []byte("issuer: x\nrole: [admin]\n"), 0o600)
	if code, _, stderr := e.run("edge", "lambda", "build", "--policy", bad, "--out", t.TempDir()); code != ExitUsage {
		t.Errorf("bad policy: exit %d, want %d (%s)", code, ExitUsage, stderr)
	}
	if code, _, _ := e.run("edge", "lambda", "build", "--out", t.TempDir()); code != ExitUsage {
		t.Errorf("no --policy: exit %d, want %d", code, ExitUsage)
	}
}
