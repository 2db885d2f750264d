// Package cli holds one file per pingedge command. A command parses flags into an options struct,
// calls one domain package, and renders the result; it holds no business logic.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/login"
)

// Main runs pingedge with args and returns the process exit code. It builds a context that is
// cancelled on SIGINT/SIGTERM, so every command can end cleanly on Ctrl-C.
func Main(args []string, io IOStreams, version string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := &Factory{
		IO:      io,
		Getenv:  os.Getenv,
		Now:     time.Now,
		HTTP:    withProgress(defaultHTTPClient(), io.ErrOut, slowAfter),
		Version: version,
		Global:  &GlobalOptions{},
		Keyring: credstore.OSBackend{},
		Browser: login.SystemBrowser{Getenv: os.Getenv, Stderr: io.ErrOut},
		Sleep:   login.SleepContext,
	}
	return Run(ctx, f, args)
}

// Run executes the command line in args with the given factory and returns the exit code.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	if len(args) == 0 && f.Getenv(lambdaRuntimeEnv) != "" {
		args = []string{"edge", "lambda", "run"} // started by Lambda as the bootstrap
	}
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		if isUnknownCommand(err) {
			// cobra indents its "Did you mean this?" suggestions with a tab, which the error
			// renderer would show escaped; two spaces read the same.
			msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\t", "  ")
			err = &ExitError{Code: ExitUsage, Err: errors.New(msg)}
		}
		return reportError(f, cmd, err)
	}
	return ExitOK
}

// isUnknownCommand recognises cobra's "unknown command" error (a plain error, no type to match:
// cobra builds it with fmt.Errorf in legacyArgs), so a typo such as `pingedge logn` is a usage
// error (exit 2) like an unknown flag.
func isUnknownCommand(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command ")
}

// NewRootCmd builds the command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "pingedge",
		Short: "Identity-aware access to APIs protected by Ping Identity",
		Long: `pingedge signs you in to PingOne or PingFederate (any OpenID Connect issuer), keeps the
refresh token in the OS keychain, and opens a local tunnel that attaches a short-lived
access token to every request. The same verification core runs in the CLI, in
"pingedge edge serve" and in a Cloudflare Worker.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return applyGlobals(f) },
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: err, Hint: helpHint(cmd)}
	})
	addGlobalFlags(root, f.Global)
	for _, c := range commands(f) {
		root.AddCommand(c)
	}
	// --version prints what `pingedge version` prints (text form).
	root.Version = versionLine(buildVersion(f.Version))
	root.SetVersionTemplate("{{.Version}}\n")
	registerCompletions(root, f)
	return root
}

func addGlobalFlags(root *cobra.Command, g *GlobalOptions) {
	pf := root.PersistentFlags()
	pf.StringVar(&g.Profile, "profile", "", "profile to use (env PINGEDGE_PROFILE)")
	pf.StringVar(&g.Config, "config", "", "config file (env PINGEDGE_CONFIG)")
	pf.StringVarP(&g.Output, "output", "o", "text", "output format: text or json")
	pf.BoolVar(&g.NoColor, "no-color", false, "disable colour (also NO_COLOR)")
	pf.BoolVarP(&g.Verbose, "verbose", "v", false, "explain what happens (never prints secrets)")
}

func applyGlobals(f *Factory) error {
	switch f.Global.Output {
	case "text", "json":
	default:
		return usageError("unknown output format %q: use -o text or -o json", f.Global.Output)
	}
	return nil
}

// commands lists the subcommands; each lives in its own file.
func commands(f *Factory) []*cobra.Command {
	return []*cobra.Command{
		NewCmdVersion(f, nil),
		NewCmdLogin(f, nil),
		NewCmdToken(f, nil),
		NewCmdStatus(f, nil),
		NewCmdProfiles(f, nil),
		NewCmdLogout(f, nil),
		NewCmdTunnel(f, nil),
		NewCmdExec(f, nil),
		NewCmdDoctor(f, nil),
		demoCommand(f),
		newCmdEdge(f),
		NewCmdVerify(f, nil),
		NewCmdInspect(f, nil),
		newCmdCompletion(),
	}
}

// exactArgs wraps cobra's arg validators so arity mistakes exit 2.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
		}
		return nil
	}
}
