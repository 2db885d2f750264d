//go:build demo

package cli

import "github.com/spf13/cobra"

// demoCommand is `pingedge demo` itself in a binary built with -tags demo (pingedge-demo, and
// `make run`).
func demoCommand(f *Factory) *cobra.Command { return NewCmdDemo(f, nil) }

// demoBuilt is the testscript condition [demo].
const demoBuilt = true
