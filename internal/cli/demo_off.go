//go:build !demo

package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// demoCommand in the release pingedge: the demo is not linked, because it carries a whole
// OpenID provider (zitadel's op, chi, cors, securecookie, OpenTelemetry) into the binary that
// holds users' refresh tokens (docs/dependencies.md, "What ships"). The command stays, hidden,
// to say where the demo is.
func demoCommand(*Factory) *cobra.Command {
	return &cobra.Command{
		Use:                "demo",
		Short:              "Run the whole loop on loopback (in pingedge-demo)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(*cobra.Command, []string) error {
			return &ExitError{Code: ExitUsage, Err: errors.New("this pingedge is built without the demo"),
				Hint: "run pingedge-demo (shipped in the same release archive), or make run in a checkout"}
		},
	}
}

// demoBuilt is the testscript condition [demo].
const demoBuilt = false
