package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes for a command that could not be run, as POSIX shells report them.
const (
	exitCannotExecute = 126
	exitNotFound      = 127
)

// ExecOptions are the inputs of `pingedge exec`.
type ExecOptions struct {
	f *Factory

	MinTTL    time.Duration
	minTTLSet bool     // --min-ttl given: warn when the issuer's tokens are shorter
	Args      []string // the command and its arguments
}

// NewCmdExec builds `pingedge exec`.
func NewCmdExec(f *Factory, runF func(context.Context, *ExecOptions) error) *cobra.Command {
	opts := &ExecOptions{f: f}
	cmd := &cobra.Command{
		Use:   "exec [--min-ttl DUR] -- CMD [ARGS...]",
		Short: "Run a command with a fresh access token in its environment",
		Long: `Run CMD with PINGEDGE_ACCESS_TOKEN set to an access token of the active profile that stays
valid for at least --min-ttl, and PINGEDGE_ISSUER set to its issuer. Signals pingedge receives
(interrupt, terminate, hang-up, quit) are passed on to CMD, and pingedge exits with CMD's exit
code (128+N when CMD is killed by signal N, 127 when CMD is not found).

The token cannot be refreshed inside a running command: for long-running programs, prefer
"pingedge tunnel", or call "pingedge token" whenever a token is needed.`,
		Example: `  pingedge exec -- sh -c 'curl -H "Authorization: Bearer $PINGEDGE_ACCESS_TOKEN" https://api.example.com/'
  pingedge exec --min-ttl 30m -- ./integration-tests.sh`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			opts.minTTLSet = cmd.Flags().Changed("min-ttl")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return execRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().SetInterspersed(false) // flags after CMD belong to CMD, even without --
	cmd.Flags().DurationVar(&opts.MinTTL, "min-ttl", 5*time.Minute, "the token must stay valid at least this long")
	return cmd
}

func execRun(ctx context.Context, opts *ExecOptions) error {
	if opts.MinTTL < 0 {
		return usageError("--min-ttl must not be negative")
	}
	path, err := exec.LookPath(opts.Args[0])
	if err != nil {
		code := exitNotFound
		if errors.Is(err, os.ErrPermission) {
			code = exitCannotExecute
		}
		return &ExitError{Code: code, Err: fmt.Errorf("run %s: %w", opts.Args[0], err), Hint: "check the command name and PATH"}
	}
	src, err := opts.f.TokenSource(ctx)
	if err != nil {
		return err
	}
	tok, err := src.Token(ctx, opts.MinTTL)
	if err != nil {
		return err
	}
	if opts.minTTLSet {
		warnShortToken(opts.f, tok, opts.MinTTL)
	}
	cmd := exec.Command(path, opts.Args[1:]...) // not CommandContext: Ctrl-C is forwarded, not a kill
	cmd.Args[0] = opts.Args[0]
	cmd.Env = append(withoutVars(os.Environ(), "PINGEDGE_ACCESS_TOKEN", "PINGEDGE_ISSUER", "PINGEDGE_TOKEN_TYPE", "PINGEDGE_PROFILE"),
		"PINGEDGE_ACCESS_TOKEN="+tok.Value.Reveal(), "PINGEDGE_ISSUER="+src.Issuer())
	dpopEnv, err := opts.f.dpopExecEnv(ctx)
	if err != nil {
		return err
	}
	cmd.Env = append(cmd.Env, dpopEnv...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.f.IO.In, opts.f.IO.Out, opts.f.IO.ErrOut
	return runForwardingSignals(cmd)
}

// forwardedSignals are passed on to the child. A terminal's Ctrl-C reaches the child directly as
// well (same process group); programs treat the repeat like the first.
var forwardedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

func runForwardingSignals(cmd *exec.Cmd) error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return &ExitError{Code: exitCannotExecute, Err: fmt.Errorf("run %s: %w", cmd.Args[0], err)}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case err := <-done:
			return childExit(err)
		}
	}
}

// childExit turns the child's end into pingedge's exit: its code, or 128+N for signal N.
func childExit(err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("wait for the command: %w", err)
	}
	code := ee.ExitCode()
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	return &ExitError{Code: code, Err: err, Silent: true}
}

func withoutVars(env []string, names ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, n := range names {
			if strings.EqualFold(name, n) {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}
