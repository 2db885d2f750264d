package cli

import (
	"errors"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/login"
)

// classifyLogin maps login errors to exit codes: no session or an expired session (invalid_grant)
// is exit 4 with the command that fixes it, so scripts can react; an unusable keychain or a
// refused sign-in is a plain failure (1) whose message already names the choices.
func classifyLogin(err error) (int, string, bool) {
	var lr *login.LoginRequiredError
	switch {
	case errors.As(err, &lr):
		return ExitLoginRequired, lr.Hint(), true
	case errors.Is(err, login.ErrLoginRequired):
		return ExitLoginRequired, "pingedge login", true
	case errors.Is(err, credstore.ErrUnavailable), errors.Is(err, credstore.ErrTooBig):
		return ExitFailed, "pingedge login --store file (keeps the refresh token in a 0600 file)", true
	}
	return 0, "", false
}
