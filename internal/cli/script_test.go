package cli

import (
	"fmt"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run `pingedge` as a real process (the test binary re-executed), so
// the scripts pin the whole command-line contract: help text, exit codes, stdout vs stderr.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pingedge": func() { os.Exit(Main(os.Args[1:], SystemIO(), "v0.0.0-test")) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/script",
		Cmds: scriptDPoPCmds(),
		// [demo]: the binary has `pingedge demo` (built with -tags demo, as pingedge-demo is).
		Condition: func(cond string) (bool, error) {
			if cond == "demo" {
				return demoBuilt, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			// Every script gets its own config dir and no colour; no real keychain is touched
			// unless a script asks for one.
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/config")
			env.Setenv("PINGEDGE_CONFIG", "")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}
