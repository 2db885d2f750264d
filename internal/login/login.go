package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/secret"
)

// DefaultScopes are requested when the profile names none: an ID token, a name to show, and a
// refresh token (offline_access, OIDC Core §11).
var DefaultScopes = []string{"openid", "profile", "offline_access"}

// DefaultTimeout bounds how long the PKCE flow waits for the browser when Params.Timeout is zero.
// The device flow then waits until its code expires (at most maxDeviceLifetime).
const DefaultTimeout = 5 * time.Minute

// Params describe one login.
type Params struct {
	Profile   string
	Issuer    string
	ClientID  string
	Scopes    []string      // DefaultScopes when empty
	Resource  string        // RFC 8707 resource indicator, optional
	Flow      string        // auto (default), pkce or device
	NoBrowser bool          // print the URL instead of opening it
	Port      int           // loopback port for PKCE; 0 picks a free one
	Timeout   time.Duration // how long to wait for the sign-in; zero: DefaultTimeout (PKCE), the code's lifetime (device)
}

// Env holds the edges a login touches; all are injected.
type Env struct {
	HTTP           *http.Client
	Now            func() time.Time
	Sleep          func(ctx context.Context, d time.Duration) error // device-flow polling waits
	Browser        Browser
	CanOpenBrowser bool      // from CanOpenBrowser(runtime.GOOS, getenv)
	Prompt         io.Writer // stderr: URLs, codes, progress
	// OnDeviceCode, when set, is called once the device flow has a code, after the code and URL
	// were written to Prompt: the CLI draws a QR code and a live countdown there on a terminal.
	// It returns a stop function called when the flow ends.
	OnDeviceCode func(DeviceCode) (stop func())
	Logf         func(format string, args ...any)
	Store        credstore.Store
	StateDir     string
}

// Result describes a completed login; it holds no secret.
type Result struct {
	Profile      string    `json:"profile"`
	Issuer       string    `json:"issuer"`
	Subject      string    `json:"subject"`
	Username     string    `json:"username,omitempty"`
	Scopes       []string  `json:"scopes"`
	Flow         string    `json:"flow"`
	Store        string    `json:"store"`
	StoreDetail  string    `json:"store_detail"`
	AccessExpiry time.Time `json:"access_token_expiry"`
	NoRefresh    bool      `json:"no_refresh_token,omitempty"`
}

type loginRun struct {
	p   Params
	env Env
	md  *Metadata
}

// Login signs the user in and saves the session: the refresh token to the store first, then the
// session file (metadata and cached access token). The ID token is verified before anything is saved.
func Login(ctx context.Context, p Params, env Env) (*Result, error) {
	l, err := newLoginRun(p, env)
	if err != nil {
		return nil, err
	}
	// Find out that the keychain is unusable now, not after the user has signed in.
	if _, err := env.Store.Get(ctx, p.Profile); err != nil && !errors.Is(err, credstore.ErrNotFound) {
		return nil, err
	}
	if l.md, err = Discover(ctx, env.HTTP, p.Issuer); err != nil {
		return nil, err
	}
	l.env.Logf("discovered %s: token endpoint %s", p.Issuer, l.md.TokenEndpoint)
	flow, err := l.chooseFlow()
	if err != nil {
		return nil, err
	}
	l.env.Logf("signing in with the %s flow", flow)
	resp, nonce, err := l.run(ctx, flow)
	if err != nil {
		return nil, err
	}
	id, err := verifyIDToken(ctx, env.HTTP, l.md, p.ClientID, resp.IDToken, nonce, env.Now())
	if err != nil {
		return nil, fmt.Errorf("sign-in not accepted: %w", err)
	}
	l.env.Logf("ID token verified (signature, iss, aud, nonce) for subject %s", id.Subject)
	return l.save(ctx, flow, resp, id)
}

func newLoginRun(p Params, env Env) (*loginRun, error) {
	if p.ClientID == "" {
		return nil, errors.New("no client ID: the application's client ID at the issuer is required")
	}
	if len(p.Scopes) == 0 {
		p.Scopes = DefaultScopes
	}
	if env.Logf == nil {
		env.Logf = func(string, ...any) {}
	}
	if env.Sleep == nil {
		env.Sleep = SleepContext
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	return &loginRun{p: p, env: env}, nil
}

// chooseFlow resolves --flow auto: PKCE when a browser can show the issuer's page here, the device
// flow otherwise (SSH, containers); an explicit flow must be one the issuer supports.
func (l *loginRun) chooseFlow() (string, error) {
	switch l.p.Flow {
	case FlowPKCE, FlowDevice:
		if err := l.md.Supports(l.p.Flow); err != nil {
			return "", fmt.Errorf("flow %s: %w", l.p.Flow, err)
		}
		return l.p.Flow, nil
	case "", FlowAuto:
	default:
		return "", fmt.Errorf("unknown flow %q: use auto, pkce or device", l.p.Flow)
	}
	order := []string{FlowDevice, FlowPKCE}
	if l.env.CanOpenBrowser {
		order = []string{FlowPKCE, FlowDevice}
	}
	for _, f := range order {
		if l.md.Supports(f) == nil {
			return f, nil
		}
	}
	return "", errors.New("the issuer supports neither the authorization code flow with PKCE S256 nor the device flow")
}

func (l *loginRun) canOpen() bool {
	return !l.p.NoBrowser && l.env.Browser != nil && l.env.CanOpenBrowser
}

func (l *loginRun) run(ctx context.Context, flow string) (*tokenResponse, string, error) {
	if flow == FlowDevice {
		resp, err := l.runDevice(ctx)
		return resp, "", err
	}
	return l.runPKCE(ctx)
}

// runPKCE runs the authorization code flow with PKCE on a loopback redirect and exchanges the code.
func (l *loginRun) runPKCE(ctx context.Context) (*tokenResponse, string, error) {
	ln, redirect, err := loopback(ctx, l.p.Port)
	if err != nil {
		return nil, "", err
	}
	pp := newPKCEParams()
	u, err := authURL(l.md, l.p.ClientID, redirect, l.p.Scopes, l.p.Resource, pp)
	if err != nil {
		ln.Close()
		return nil, "", err
	}
	l.env.Logf("waiting for the browser on %s", redirect)
	h := &callbackHandler{issuer: l.md.Issuer, issParam: l.md.IssParameterSupported, state: pp.state, result: make(chan callbackResult, 1)}
	l.showAuthURL(ctx, u)
	timeout := l.p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	code, err := serveCallback(ctx, ln, h, timeout)
	if err != nil {
		return nil, "", err
	}
	l.env.Logf("exchanging the authorization code at %s", l.md.TokenEndpoint)
	resp, err := tokenRequest(ctx, l.env.HTTP, l.md.TokenEndpoint, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
		"client_id": {l.p.ClientID}, "code_verifier": {pp.verifier},
	})
	if err != nil {
		return nil, "", fmt.Errorf("exchange the authorization code: %w", err)
	}
	return resp, pp.nonce, nil
}

func (l *loginRun) showAuthURL(ctx context.Context, u string) {
	if !l.canOpen() {
		fmt.Fprintf(l.env.Prompt, "Open this URL in a browser on this machine to sign in:\n\n  %s\n\n", u)
		return
	}
	fmt.Fprintln(l.env.Prompt, "Opening the browser to sign in… (Ctrl-C to cancel)")
	if err := l.env.Browser.Open(ctx, u); err != nil {
		fmt.Fprintf(l.env.Prompt, "Could not open a browser (%v). Open this URL to sign in:\n\n  %s\n\n", err, u)
	}
}

// save stores the refresh token, then writes the session with the cached access token.
func (l *loginRun) save(ctx context.Context, flow string, resp *tokenResponse, id *Identity) (*Result, error) {
	paths, err := PathsFor(l.env.StateDir, l.p.Profile)
	if err != nil {
		return nil, err
	}
	unlock, err := lockProfile(ctx, paths.Lock, l.p.Profile) // a running tunnel may be refreshing
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := l.saveRefresh(ctx, resp.RefreshToken); err != nil {
		return nil, err
	}
	now := l.env.Now()
	sess := &Session{
		Issuer: l.md.Issuer, ClientID: l.p.ClientID, Scopes: grantedScopes(resp.Scope, l.p.Scopes),
		Resource: l.p.Resource, TokenEndpoint: l.md.TokenEndpoint, RevocationEndpoint: l.md.RevocationEndpoint,
		Subject: id.Subject, Username: id.Username, Store: l.env.Store.Kind(), Flow: flow, LoggedInAt: now,
		Access: secret.AccessToken{Value: resp.AccessToken, Expiry: accessExpiry(resp, now), IssuedAt: now},
	}
	if err := writeSession(paths.Session, sess); err != nil {
		return nil, fmt.Errorf("save the session for profile %s: %w", l.p.Profile, err)
	}
	return &Result{
		Profile: l.p.Profile, Issuer: sess.Issuer, Subject: id.Subject, Username: id.Username,
		Scopes: sess.Scopes, Flow: flow, Store: l.env.Store.Kind(), StoreDetail: l.env.Store.Describe(),
		AccessExpiry: sess.Access.Expiry, NoRefresh: resp.RefreshToken.Empty(),
	}, nil
}

func (l *loginRun) saveRefresh(ctx context.Context, rt secret.String) error {
	if rt.Empty() {
		// A refresh token from an earlier login must not outlive this one.
		if err := l.env.Store.Delete(ctx, l.p.Profile); err != nil {
			return fmt.Errorf("remove the old refresh token of profile %s: %w", l.p.Profile, err)
		}
		return nil
	}
	if err := l.env.Store.Set(ctx, l.p.Profile, rt); err != nil {
		return fmt.Errorf("save the refresh token for profile %s: %w", l.p.Profile, err)
	}
	l.env.Logf("refresh token saved to %s", l.env.Store.Describe())
	return nil
}

func joinScopes(s []string) string { return strings.Join(s, " ") }

// grantedScopes is the scope the issuer granted (RFC 6749 §5.1), or what was asked when it is silent.
func grantedScopes(granted string, asked []string) []string {
	if granted != "" {
		return strings.Fields(granted)
	}
	return asked
}
