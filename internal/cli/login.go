package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/ui"
)

// LoginOptions are the inputs of `pingedge login`. Flags left unset keep the saved profile's values.
type LoginOptions struct {
	f *Factory

	Issuer     string
	PingOneEnv string
	Region     string
	ClientID   string
	Flow       string
	Scopes     string
	Resource   string
	Store      string
	NoBrowser  bool
	DPoP       bool
	Port       int
	Timeout    time.Duration

	changed func(flag string) bool
}

// NewCmdLogin builds `pingedge login`.
func NewCmdLogin(f *Factory, runF func(context.Context, *LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{f: f}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in to PingOne, PingFederate or any OpenID Connect issuer",
		Long: `Sign in and save the profile. The refresh token goes to the OS keychain (or, with
--store file, to a 0600 file); the issuer, client ID and scopes go to the config file.

--flow auto (the default) opens a browser for the authorization code flow with PKCE when this
session can show one, and uses the device flow (a code to enter on any device) otherwise.`,
		Example: `  pingedge login --pingone-env 9c0e…-… --region eu --client-id 6f1d…
  pingedge login --issuer https://sso.example.com --client-id pingedge --flow device
  pingedge login --profile staging --no-browser`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.changed = cmd.Flags().Changed
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return loginRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Issuer, "issuer", "", "issuer URL (PingFederate, a custom domain, any OIDC issuer)")
	fl.StringVar(&opts.PingOneEnv, "pingone-env", "", "PingOne environment ID (instead of --issuer)")
	fl.StringVar(&opts.Region, "region", "na", "PingOne region: "+strings.Join(config.Regions(), ", "))
	fl.StringVar(&opts.ClientID, "client-id", "", "client ID of the native application at the issuer")
	fl.StringVar(&opts.Flow, "flow", login.FlowAuto, "auto, pkce (browser) or device (code on any device)")
	fl.StringVar(&opts.Scopes, "scopes", strings.Join(login.DefaultScopes, " "), "scopes to request, space separated")
	fl.StringVar(&opts.Resource, "resource", "", "resource indicator for the access token's audience (RFC 8707)")
	fl.StringVar(&opts.Store, "store", credstore.KindKeychain, "where the refresh token goes: keychain, or file (plain text, 0600)")
	fl.BoolVar(&opts.NoBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	fl.BoolVar(&opts.DPoP, "dpop", false, "ask for DPoP-bound tokens (RFC 9449): a key per profile in the credential store signs a proof for every request")
	fl.IntVar(&opts.Port, "port", 0, "loopback port for the browser's redirect (default: a free one)")
	fl.DurationVar(&opts.Timeout, "timeout", login.DefaultTimeout, "how long to wait for the sign-in (device flow: until the code expires unless this is given)")
	return cmd
}

func loginRun(ctx context.Context, opts *LoginOptions) error {
	f := opts.f
	file, name, paths, err := f.LoadConfig()
	if err != nil {
		return err
	}
	if err := credstore.CheckProfile(name); err != nil {
		return usageError("%w", err)
	}
	prof, err := opts.profile(file, name)
	if err != nil {
		return err
	}
	store, err := f.credStore(prof.Store, paths)
	if err != nil {
		return err
	}
	httpc := f.HTTP
	if prof.DPoP {
		signer, err := dpopSigner(ctx, store, name, true)
		if err != nil {
			return err
		}
		httpc = f.dpopHTTP(signer)
	}
	res, err := login.Login(ctx, opts.params(name, prof), login.Env{
		HTTP: httpc, Now: f.Now, Sleep: f.Sleep, Browser: f.Browser, CanOpenBrowser: f.canOpenBrowser(),
		Prompt: f.IO.ErrOut, Logf: f.verboseLog(), Store: store, StateDir: paths.StateDir,
		OnDeviceCode: f.deviceCodeDisplay(),
	})
	if err != nil {
		return fmt.Errorf("login to %s: %w", prof.Issuer, err)
	}
	if err := saveProfile(file, name, prof, paths.ConfigFile); err != nil {
		return err
	}
	return renderLogin(f, res)
}

// profile merges the saved profile (and PINGEDGE_* overrides) with the flags given.
func (o *LoginOptions) profile(file *config.File, name string) (config.Profile, error) {
	p, _ := file.Effective(name, o.f.Getenv)
	if o.PingOneEnv != "" && o.changed("issuer") {
		return p, usageError("use either --issuer or --pingone-env, not both")
	}
	set := func(flag string, dst *string, v string) {
		if o.changed(flag) || *dst == "" {
			*dst = v
		}
	}
	if o.PingOneEnv != "" {
		iss, err := config.PingOneIssuer(o.PingOneEnv, o.Region)
		if err != nil {
			return p, err
		}
		p.Issuer = iss
	} else if o.changed("issuer") {
		p.Issuer = o.Issuer
	}
	set("client-id", &p.ClientID, o.ClientID)
	set("flow", &p.Flow, o.Flow)
	set("resource", &p.Resource, o.Resource)
	set("store", &p.Store, o.Store)
	if o.changed("dpop") {
		p.DPoP = o.DPoP
	}
	if o.changed("scopes") || len(p.Scopes) == 0 {
		p.Scopes = strings.Fields(strings.ReplaceAll(o.Scopes, ",", " "))
	}
	if o.changed("port") {
		p.Port = o.Port
	}
	return p, o.validate(p)
}

func (o *LoginOptions) validate(p config.Profile) error {
	if p.Issuer == "" {
		return usageError("no issuer: pass --issuer URL or --pingone-env ID --region R")
	}
	if err := config.ValidateIssuer(p.Issuer); err != nil {
		return err
	}
	if p.ClientID == "" {
		return usageError("no client ID: pass --client-id (the native application's client ID at the issuer)")
	}
	switch p.Flow {
	case login.FlowAuto, login.FlowPKCE, login.FlowDevice:
	default:
		return usageError("unknown --flow %q: use auto, pkce or device", p.Flow)
	}
	if o.changed("timeout") && o.Timeout <= 0 {
		return usageError("--timeout %s must be positive, e.g. --timeout 2m", o.Timeout)
	}
	if p.Port < 0 || p.Port > 65535 {
		return usageError("--port %d is not a port", p.Port)
	}
	return nil
}

func (o *LoginOptions) params(name string, p config.Profile) login.Params {
	return login.Params{
		Profile: name, Issuer: p.Issuer, ClientID: p.ClientID, Scopes: p.Scopes, Resource: p.Resource,
		Flow: p.Flow, NoBrowser: o.NoBrowser, Port: p.Port, Timeout: o.timeout(),
	}
}

// timeout is --timeout when given; otherwise zero, so the PKCE flow waits login.DefaultTimeout
// and the device flow until its code expires (issue 12: --timeout bounds both flows).
func (o *LoginOptions) timeout() time.Duration {
	if o.changed("timeout") {
		return o.Timeout
	}
	return 0
}

func saveProfile(file *config.File, name string, p config.Profile, path string) error {
	saved := file.Profiles[name]
	if saved == nil {
		saved = &config.Profile{}
		file.Profiles[name] = saved
	}
	saved.Issuer, saved.ClientID, saved.Scopes, saved.Resource = p.Issuer, p.ClientID, p.Scopes, p.Resource
	saved.Flow, saved.Store, saved.Port, saved.DPoP = p.Flow, p.Store, p.Port, p.DPoP
	if file.CurrentProfile == "" {
		file.CurrentProfile = name
	}
	return file.Save(path)
}

func renderLogin(f *Factory, res *login.Result) error {
	if f.Global.JSON() {
		return json.NewEncoder(f.IO.Out).Encode(res)
	}
	s, w := f.ErrStyles(), f.IO.ErrOut
	who := res.Username
	if who == "" {
		who = res.Subject
	}
	fmt.Fprintf(w, "%s Logged in to %s as %s (profile %s)\n", s.Mark(true), ui.Sanitize(res.Issuer), s.Title.Render(ui.Sanitize(who)), res.Profile)
	fmt.Fprintf(w, "  refresh token stored in: %s\n", ui.Sanitize(res.StoreDetail))
	if res.Store == credstore.KindFile {
		fmt.Fprintf(w, "%s the refresh token is in a plain-text file (you chose --store file); anyone who can read your files as you can use it\n", s.Warn.Render("warning:"))
	}
	if res.NoRefresh {
		fmt.Fprintf(w, "%s the issuer sent no refresh token: you will have to log in again when the access token expires (ask for the offline_access scope and enable the REFRESH_TOKEN grant)\n", s.Warn.Render("warning:"))
	}
	return nil
}
