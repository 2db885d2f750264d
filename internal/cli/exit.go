package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/ui"
)

// Exit codes (docs/architecture.md, "Command-line contract"; 4 from the login issue so scripts can react).
const (
	ExitOK            = 0
	ExitFailed        = 1 // failed, or denied
	ExitUsage         = 2 // usage or configuration error
	ExitLoginRequired = 4 // no session, or the session expired: run pingedge login
)

// ExitError carries an exit code and, optionally, a hint for the user. Commands return it when the
// code cannot be derived from the error's type. Hint is the one place a next step is written: a
// command or flag to use, without "try:" (the renderer adds it) and never repeated in Err.
type ExitError struct {
	Code int
	Err  error
	Hint string
	// Silent means the command already reported (for example verify printed "denied: …").
	Silent bool
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks bad flags or arguments (exit 2).
func usageError(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// classifier maps an error to an exit code and hint; packages register theirs in classifiers.
type classifier func(err error) (code int, hint string, ok bool)

// classifiers is the one place errors become exit codes. Keep it a fixed list (no init-time
// registration) so the mapping is readable in one file.
var classifiers = []classifier{
	func(err error) (int, string, bool) {
		var ee *ExitError
		if errors.As(err, &ee) {
			return ee.Code, ee.Hint, true
		}
		return 0, "", false
	},
	func(err error) (int, string, bool) {
		// before ErrInvalid, which it wraps: the config file is not what needs fixing
		if errors.Is(err, config.ErrUnsafeState) {
			return ExitUsage, "run the command above; pingedge doctor lists every such problem (docs/security.md)", true
		}
		return 0, "", false
	},
	func(err error) (int, string, bool) {
		if errors.Is(err, config.ErrInvalid) {
			return ExitUsage, "fix the config file (reference: docs/config.md)", true
		}
		return 0, "", false
	},
	classifyLogin,
	classifyListen,
}

// exitCode maps err to its code and hint. The first classifier that knows the error sets the
// code; the hint is the first one any classifier gives, so an ExitError without a hint still
// carries the hint its cause's type implies.
func exitCode(err error) (code int, hint string) {
	code = -1
	for _, c := range classifiers {
		cc, h, ok := c(err)
		if !ok {
			continue
		}
		if code < 0 {
			code = cc
		}
		if hint == "" {
			hint = h
		}
	}
	if code < 0 {
		code = ExitFailed
	}
	return code, hint
}

// reportError renders err once on stderr (unless the command already did) and returns the code.
// Errors quote issuer and token text, so they are sanitized here, the one place they are printed.
// A usage error without a hint of its own points at the help of the command that failed.
func reportError(f *Factory, cmd *cobra.Command, err error) int {
	code, hint := exitCode(err)
	var ee *ExitError
	if errors.As(err, &ee) && ee.Silent {
		return code
	}
	if code == ExitUsage && hint == "" {
		hint = helpHint(cmd)
	}
	f.ErrStyles().RenderError(f.IO.ErrOut, ui.Problem{What: ui.SanitizeLines(err.Error()), Hint: ui.Sanitize(hint)})
	return code
}

// helpHint is "pingedge CMD --help" for the command that failed ("pingedge --help" when cobra
// could not find one).
func helpHint(cmd *cobra.Command) string {
	if cmd == nil {
		return "pingedge --help"
	}
	return cmd.CommandPath() + " --help"
}
