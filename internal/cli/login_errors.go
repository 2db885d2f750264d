package cli

import (
	"errors"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/tunnel"
)

// classifyLogin maps login errors to exit codes and hints: no session or an expired session
// (invalid_grant) is exit 4 with the command that fixes it, so scripts can react; an unusable
// keychain or a refused sign-in is a plain failure (1). internal/login names no flag or command:
// the words a user types live here, once.
func classifyLogin(err error) (int, string, bool) {
	var lr *login.LoginRequiredError
	var uf *login.UnsupportedFlowError
	switch {
	case errors.As(err, &lr):
		return ExitLoginRequired, "pingedge login --profile " + lr.Profile, true
	case errors.Is(err, login.ErrLoginRequired):
		return ExitLoginRequired, "pingedge login", true
	case errors.Is(err, credstore.ErrUnavailable):
		return ExitFailed, "unlock the OS keychain (on Linux: a Secret Service such as gnome-keyring or KeePassXC; pingedge doctor says more), or pingedge login --store file (keeps the refresh token in a 0600 file)", true
	case errors.Is(err, credstore.ErrTooBig):
		return ExitFailed, "ask the issuer's administrator for opaque (shorter) refresh tokens, or pingedge login --store file (a 0600 file)", true
	case errors.As(err, &uf) && uf.Flow == login.FlowDevice:
		return ExitFailed, "enable the DEVICE_CODE grant on the client, or use --flow pkce", true
	case errors.As(err, &uf):
		return ExitFailed, "pingedge login --flow device", true
	case errors.Is(err, login.ErrDiscovery):
		return ExitFailed, "check --issuer (for PingOne: --pingone-env and --region)", true
	case errors.Is(err, login.ErrRedirectPort):
		return ExitUsage, "pick another --port, or use --flow device", true
	case errors.Is(err, login.ErrTimeout):
		return ExitFailed, "finish signing in sooner (--timeout), or use --flow device", true
	case errors.Is(err, login.ErrDeviceTimeout):
		return ExitFailed, "run pingedge login again, with a longer --timeout if you need more time", true
	case errors.Is(err, login.ErrDeviceCodeExpired), errors.Is(err, login.ErrAccessDenied):
		return ExitFailed, "run pingedge login again", true
	}
	return 0, "", false
}

// classifyListen: a listen address that is malformed, taken or not loopback is a usage error
// (exit 2), like `edge serve --listen`, with the flag that fixes it.
func classifyListen(err error) (int, string, bool) {
	switch {
	case errors.Is(err, tunnel.ErrNotLoopback):
		return ExitUsage, "listen on 127.0.0.1:PORT, or add --allow-remote if other machines must reach it (they would act as you)", true
	case errors.Is(err, tunnel.ErrBadOrigin):
		return ExitUsage, "name each web app's exact origin: --allow-origin http://localhost:3000", true
	case errors.Is(err, tunnel.ErrListen):
		return ExitUsage, "choose a free loopback address with --listen 127.0.0.1:PORT", true
	}
	return 0, "", false
}
