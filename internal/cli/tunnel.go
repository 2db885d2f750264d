package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/tunnel"
	"github.com/pingedge/pingedge/internal/ui"
)

// defaultListen is the tunnel's address when neither --listen nor the profile names one.
const defaultListen = "127.0.0.1:8080"

// TunnelOptions are the inputs of `pingedge tunnel`.
type TunnelOptions struct {
	f *Factory

	To           string
	Listen       string
	Routes       []string // /prefix=URL
	AllowOrigins []string
	AllowHosts   []string
	AllowRemote  bool
	CAFile       string
	// AllowCleartext accepts http:// upstreams beyond loopback (--allow-cleartext-upstream).
	AllowCleartext bool
	ForwardCookies bool
}

// NewCmdTunnel builds `pingedge tunnel`.
func NewCmdTunnel(f *Factory, runF func(context.Context, *TunnelOptions) error) *cobra.Command {
	opts := &TunnelOptions{f: f}
	cmd := &cobra.Command{
		Use:   "tunnel",
		Short: "Run a local proxy that attaches your access token to every request",
		Long: `Listen on loopback and forward every request to the upstream with
"Authorization: Bearer <token>" of the active profile, refreshing the token ahead of expiry.
Routes pick the upstream by the longest matching path prefix; --to is the route for "/".
Routes, --to and --listen can also be saved in the profile (routes:, to:, listen:).

Guards, on by default: loopback only (unless --allow-remote); the Host header must name
localhost or a loopback address with the tunnel's port (stops DNS rebinding: 421 otherwise);
browser requests from other sites get 403 unless their origin is given with --allow-origin,
for which CORS preflights are answered. --listen unix:/path serves on an owner-only socket.
An http:// upstream on another machine is refused (the token would cross the network in clear
text) unless --allow-cleartext-upstream. Cookies do not cross the tunnel (localhost cookies are
shared by every local port) unless --forward-cookies. CONNECT and TRACE get 405.

One access-log line per request goes to stdout (JSON lines with -o json); the banner and
warnings go to stderr. Ctrl-C lets running requests finish, then exits 0.`,
		Example: `  pingedge tunnel --to https://api.example.com
  curl http://127.0.0.1:8080/v1/items
  pingedge tunnel --listen 127.0.0.1:9000 --route /billing=https://billing.example.com --to https://api.example.com
  pingedge tunnel --to https://api.example.com --allow-origin http://localhost:3000`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tunnelRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.To, "to", "", "upstream URL for every path without a more specific --route")
	fl.StringVar(&opts.Listen, "listen", "", "address to listen on: HOST:PORT or unix:/path (default "+defaultListen+")")
	fl.StringArrayVar(&opts.Routes, "route", nil, "route /prefix=URL (repeatable; the longest matching prefix wins)")
	fl.StringArrayVar(&opts.AllowOrigins, "allow-origin", nil, "browser origin allowed to call the tunnel, e.g. http://localhost:3000 (repeatable)")
	fl.StringArrayVar(&opts.AllowHosts, "allow-host", nil, "extra Host name accepted besides localhost and IP addresses (repeatable)")
	fl.BoolVar(&opts.AllowRemote, "allow-remote", false, "allow a non-loopback --listen address (anyone who can connect acts as you)")
	fl.StringVar(&opts.CAFile, "ca-file", "", "PEM file of a CA to trust for the upstream, in addition to the system roots")
	fl.BoolVar(&opts.AllowCleartext, "allow-cleartext-upstream", false, "allow http:// upstreams beyond loopback (your token crosses the network unencrypted)")
	fl.BoolVar(&opts.ForwardCookies, "forward-cookies", false, "send the browser's localhost cookies upstream and pass the upstream's cookies back")
	return cmd
}

// tunnelPlan is what the flags and the profile resolve to, before anything is opened.
type tunnelPlan struct {
	profile string
	routes  []tunnel.Route
	listen  string
}

func tunnelRun(ctx context.Context, opts *TunnelOptions) error {
	f := opts.f
	plan, err := planTunnel(opts)
	if err != nil {
		return err
	}
	defer tuneGC(f.Getenv)()
	src, err := f.TokenSource(ctx)
	if err != nil {
		return err
	}
	tok, err := src.Token(ctx, 0)
	if errors.Is(err, login.ErrLoginRequired) {
		return err
	}
	if err != nil {
		warn(f, "no token yet (%v); the tunnel starts and keeps retrying", err)
	}
	tr, err := tunnel.NewTransport(tunnel.TransportOptions{CAFile: opts.CAFile})
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err, Hint: "pass --ca-file a PEM file holding the CA certificate"}
	}
	ln, err := tunnel.Listen(plan.listen, opts.AllowRemote)
	if err != nil {
		return err
	}
	defer ln.Close()
	alog := newAccessLog(f)
	defer alog.Close()
	signer, err := f.profileDPoP(ctx)
	if err != nil {
		return err
	}
	t, err := tunnel.New(tunnel.Options{
		Routes: plan.routes, Source: src, Profile: plan.profile, DPoP: signer,
		IsLoginRequired: func(err error) bool { return errors.Is(err, login.ErrLoginRequired) },
		AllowOrigins:    opts.AllowOrigins, AllowHosts: opts.AllowHosts, AllowRemote: opts.AllowRemote,
		AllowCleartextUpstream: opts.AllowCleartext, ForwardCookies: opts.ForwardCookies,
		Transport: tr, AccessLog: alog.Log, Logger: tunnelLogger(f), Now: f.Now,
	})
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	renderBanner(f, bannerInfo{
		url: listenURL(ln), routes: plan.routes, issuer: ui.Sanitize(src.Issuer()), user: ui.Sanitize(firstNonEmpty(src.Username(), src.Subject())),
		expiry: tok.Expiry, opts: opts, remote: opts.AllowRemote && isRemote(ln),
	})
	if err := t.Serve(ctx, ln); err != nil {
		return err
	}
	_ = alog.Close()
	fmt.Fprintln(f.IO.ErrOut, "pingedge tunnel: stopped")
	return nil
}

// planTunnel merges flags over the profile: --route replaces a saved route with the same prefix,
// --to replaces the saved "to", and --listen the saved listen address.
func planTunnel(opts *TunnelOptions) (tunnelPlan, error) {
	file, name, _, err := opts.f.LoadConfig()
	if err != nil {
		return tunnelPlan{}, err
	}
	prof, _ := file.Effective(name, opts.f.Getenv)
	plan := tunnelPlan{profile: name, listen: firstNonEmpty(opts.Listen, prof.Listen, defaultListen)}
	if plan.routes, err = mergeRoutes(opts, prof); err != nil {
		return tunnelPlan{}, &ExitError{Code: ExitUsage, Err: err}
	}
	if len(plan.routes) == 0 {
		return tunnelPlan{}, usageError("no upstream: pass --to URL or --route /prefix=URL (or save to:/routes: in profile %s)", name)
	}
	if err := tunnel.CheckCleartext(plan.routes, opts.AllowCleartext); err != nil {
		return tunnelPlan{}, &ExitError{Code: ExitUsage, Err: err,
			Hint: "use the upstream's https:// URL, or add --allow-cleartext-upstream if you accept that anyone on the network path can read and reuse your token"}
	}
	if !opts.AllowRemote && !isUnix(plan.listen) && !tunnel.IsLoopbackAddr(plan.listen) {
		return tunnelPlan{}, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w: %s", tunnel.ErrNotLoopback, plan.listen),
			Hint: "listen on 127.0.0.1:PORT, or add --allow-remote if other machines must reach it (they would act as you)"}
	}
	if !isUnix(plan.listen) {
		// A malformed address is a usage error before any login or token is needed.
		if _, err := net.ResolveTCPAddr("tcp", plan.listen); err != nil {
			return tunnelPlan{}, fmt.Errorf("%w on %s: %w", tunnel.ErrListen, plan.listen, err)
		}
	}
	return plan, nil
}

// mergeRoutes parses the profile's routes, the "/" upstream (--to, else the profile's to:) and
// --route, and layers them in that order (tunnel.MergeRoutes).
func mergeRoutes(opts *TunnelOptions, prof config.Profile) ([]tunnel.Route, error) {
	var saved, to, flags []tunnel.Route
	for _, pr := range prof.Routes {
		r, err := tunnel.NewRoute(pr.Prefix, pr.URL)
		if err != nil {
			return nil, fmt.Errorf("profile route: %w", err)
		}
		saved = append(saved, r)
	}
	if u := firstNonEmpty(opts.To, prof.To); u != "" {
		r, err := tunnel.NewRoute("/", u)
		if err != nil {
			return nil, fmt.Errorf("--to: %w", err)
		}
		to = append(to, r)
	}
	for _, s := range opts.Routes {
		r, err := tunnel.ParseRoute(s)
		if err != nil {
			return nil, fmt.Errorf("--route: %w", err)
		}
		flags = append(flags, r)
	}
	return tunnel.MergeRoutes(saved, to, flags), nil
}

// tunnelLogger reports refresh failures and lost sessions on stderr: text, or JSON with -o json.
func tunnelLogger(f *Factory) *slog.Logger {
	level := slog.LevelInfo
	if f.Global.Verbose {
		level = slog.LevelDebug
	}
	ho := &slog.HandlerOptions{Level: level}
	if f.Global.JSON() {
		return slog.New(slog.NewJSONHandler(f.IO.ErrOut, ho))
	}
	ho.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	return slog.New(slog.NewTextHandler(f.IO.ErrOut, ho))
}

func listenURL(ln net.Listener) string {
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		return "http://" + a.String()
	}
	return "unix:" + ln.Addr().String()
}

func isRemote(ln net.Listener) bool {
	a, ok := ln.Addr().(*net.TCPAddr)
	return ok && !a.IP.IsLoopback()
}

func isUnix(addr string) bool { return len(addr) > 5 && addr[:5] == "unix:" }
