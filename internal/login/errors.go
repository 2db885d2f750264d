// Package login signs a user in to an OpenID provider (PingOne, PingFederate or any OIDC issuer)
// and keeps the session alive: discovery, authorization code + PKCE on a loopback redirect
// (RFC 7636, RFC 8252), the device flow (RFC 8628), refresh with rotation, revocation (RFC 7009),
// and Source, a token source safe for concurrent use within and across processes.
package login

import (
	"errors"
	"fmt"

	"github.com/pingedge/pingedge/internal/verify/keyset"
)

// Flows accepted by --flow.
const (
	FlowAuto   = "auto"
	FlowPKCE   = "pkce"
	FlowDevice = "device"
)

var (
	// ErrLoginRequired matches (errors.Is) every error that a new `pingedge login` fixes: no
	// session, or the issuer answered invalid_grant to a refresh.
	ErrLoginRequired = errors.New("login required")
	// ErrAccessDenied: the user (or a policy) refused the sign-in (RFC 8628 §3.5 access_denied,
	// or error=access_denied on the redirect, RFC 6749 §4.1.2.1).
	ErrAccessDenied = errors.New("sign-in was denied")
	// ErrDeviceCodeExpired: the device code expired before the user finished (RFC 8628 §3.5).
	ErrDeviceCodeExpired = errors.New("the sign-in code expired before sign-in finished")
	// ErrDeviceTimeout: the caller's timeout passed before the device-flow sign-in was approved.
	ErrDeviceTimeout = errors.New("timed out waiting for the sign-in to be approved")
	// ErrTimeout: the browser never came back to the loopback redirect.
	ErrTimeout = errors.New("timed out waiting for the browser to return to pingedge")
	// ErrDiscovery: the issuer's discovery document could not be fetched or used.
	ErrDiscovery = keyset.ErrDiscovery
	// ErrRedirectPort: the loopback port for the browser's redirect could not be bound.
	ErrRedirectPort = errors.New("cannot listen for the browser's redirect")
)

// LoginRequiredError says why a profile needs a new login. It matches ErrLoginRequired. Its
// message says what is wrong; the command that fixes it is the CLI's hint (internal/cli), so it
// is said once.
type LoginRequiredError struct {
	Profile string
	Reason  string // "not logged in", "session expired", …
	Err     error  // the cause, when there is one (an *OAuthError with invalid_grant)
}

func (e *LoginRequiredError) Error() string {
	return fmt.Sprintf("%s (profile %s)", e.Reason, e.Profile)
}

func (e *LoginRequiredError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrLoginRequired) true.
func (e *LoginRequiredError) Is(target error) bool { return target == ErrLoginRequired }

func notLoggedIn(profile string) error {
	return &LoginRequiredError{Profile: profile, Reason: "not logged in"}
}

func sessionExpired(profile string, cause error) error {
	return &LoginRequiredError{Profile: profile, Reason: "session expired", Err: cause}
}

// UnsupportedFlowError: the issuer's discovery document lacks what Flow needs (an authorization
// endpoint and S256 for PKCE, RFC 7636 §4.2; a device endpoint for RFC 8628). The CLI turns Flow
// into the hint that names the other flow.
type UnsupportedFlowError struct {
	Flow string
	Why  string
}

func (e *UnsupportedFlowError) Error() string {
	return fmt.Sprintf("the issuer does not support the %s flow: %s", e.Flow, e.Why)
}
