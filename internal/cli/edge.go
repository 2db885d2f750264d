package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/edge"
	"github.com/pingedge/pingedge/internal/edgehttp"
	"github.com/pingedge/pingedge/internal/verify/keyset"
)

// newCmdEdge is the parent of the server-side commands (serve here; worker build elsewhere).
func newCmdEdge(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "edge",
		Short: "Run the verification core in front of an API",
		Long: `Commands that put pingedge's verification core in front of an API: a gateway or a
forward-auth endpoint ("edge serve"), driven by the same policy file as "pingedge verify".`,
	}
	cmd.AddCommand(newCmdEdgeServe(f, nil))
	cmd.AddCommand(newCmdEdgeWorker(f))
	cmd.AddCommand(newCmdEdgeLambda(f))
	return cmd
}

// EdgeServeOptions are the flags of `pingedge edge serve`.
type EdgeServeOptions struct {
	Policy         string
	Listen         string
	OpsListen      string
	Origin         string
	ForwardAuth    string
	PublicURL      string
	TrustedProxies []string
	ReloadInterval time.Duration
}

func newCmdEdgeServe(f *Factory, runF func(context.Context, *EdgeServeOptions) error) *cobra.Command {
	opts := &EdgeServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve --policy FILE (--origin URL | --forward-auth nginx|traefik|caddy|envoy)",
		Short: "Serve a gateway (--origin) or a forward-auth endpoint (--forward-auth PROXY)",
		Long: `Serve the policy in front of an API.

With --origin URL, pingedge is the gateway: a request with a token the policy allows goes on to
the origin with Authorization and client-sent identity headers removed and the policy's identity
headers set; others get 401 (with WWW-Authenticate) or 403.

With --forward-auth PROXY, pingedge answers nginx auth_request, Traefik forwardAuth, Caddy
forward_auth or Envoy ext_authz: 200 with the identity headers, or 401/403. The original method
and URI are read only from the headers that proxy sets itself, sent by --trusted-proxies:
nginx X-Original-Method/-URI (as in docs/examples/nginx.conf), traefik and caddy
X-Forwarded-Method/-Uri, envoy its own request line. A request that also carries another
proxy's headers, or two copies, is refused (400; 403 for nginx) and audited: those came from
the client.

With DPoP (docs/dpop.md), a proof names the URL the client called. The gateway takes it from
the request it received, which behind a TLS-terminating load balancer is http and maybe an
internal host: pass --public-url https://api.example.com, the scheme and host clients call.
X-Forwarded-Proto/Host are never read in gateway mode.

One audit JSON line per request goes to stdout; logs go to stderr. /healthz, /readyz and /metrics
are served on --listen, or on --ops-listen when given. The policy reloads on SIGHUP and when the
file changes; a policy that does not load is logged and the last good one stays in force.`,
		Example: `  pingedge edge serve --policy policy.yaml --origin http://127.0.0.1:3000 --listen :8000
  pingedge edge serve --policy policy.yaml --forward-auth nginx --listen 127.0.0.1:9000
  pingedge edge serve --policy policy.yaml --origin http://127.0.0.1:3000 --public-url https://api.example.com`,
		Args: usageArgs(forwardAuthArgs(opts)),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return edgeServeRun(cmd.Context(), f, opts)
		},
	}
	// A bare --forward-auth (the old boolean form) fails in flag parsing: say what to add.
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if strings.Contains(err.Error(), "--forward-auth") {
			err = fmt.Errorf("%w: name the proxy in front, one of %s (e.g. --forward-auth nginx)", err, edge.ProxyChoices)
		}
		return &ExitError{Code: ExitUsage, Err: err, Hint: helpHint(c)}
	})
	fl := cmd.Flags()
	fl.StringVar(&opts.Policy, "policy", "", "policy file (YAML)")
	fl.StringVar(&opts.Listen, "listen", "127.0.0.1:8000", "address to serve on")
	fl.StringVar(&opts.OpsListen, "ops-listen", "", "serve /healthz, /readyz and /metrics here instead of on --listen")
	fl.StringVar(&opts.Origin, "origin", "", "gateway mode: the API to pass allowed requests to")
	fl.StringVar(&opts.ForwardAuth, "forward-auth", "", "forward-auth mode for the proxy in front: "+edge.ProxyChoices)
	fl.StringVar(&opts.PublicURL, "public-url", "", "DPoP: the scheme and host clients call (https://api.example.com), when a load balancer or proxy in front terminates TLS")
	fl.StringSliceVar(&opts.TrustedProxies, "trusted-proxies", []string{"127.0.0.0/8", "::1/128"},
		"proxies whose X-Forwarded-*/X-Original-* headers are believed (CIDRs or addresses)")
	fl.DurationVar(&opts.ReloadInterval, "reload-interval", edge.DefaultReloadInterval, "how often to check the policy file for changes (0 turns it off)")
	return cmd
}

func edgeServeRun(ctx context.Context, f *Factory, opts *EdgeServeOptions) error {
	eo, err := edgeOptions(f, opts)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	eo.Reload = hup
	srv, err := edge.New(eo)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err, Hint: "fix the policy file (reference: docs/policy.md)"}
	}
	ln, ops, err := edgeListen(opts)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err, Hint: "choose a free address with --listen"}
	}
	eo.Logger.Info("serving", "mode", edgeMode(opts), "addr", "http://"+ln.Addr().String(), "policy", opts.Policy)
	if ops != nil {
		eo.Logger.Info("serving health and metrics", "addr", "http://"+ops.Addr().String())
	}
	return srv.Serve(ctx, ln, ops)
}

// edgeOptions maps flags to edge.Options; every mistake here is a usage error (exit 2).
func edgeOptions(f *Factory, opts *EdgeServeOptions) (edge.Options, error) {
	level := slog.LevelInfo
	if f.Global.Verbose {
		level = slog.LevelDebug
	}
	eo := edge.Options{
		PolicyFile: opts.Policy, Audit: f.IO.Out, Now: f.Now,
		Logger:  slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: level})),
		Fetcher: edgeFetcher(f), ReloadInterval: opts.ReloadInterval,
	}
	if opts.ReloadInterval == 0 {
		eo.ReloadInterval = -1
	}
	switch {
	case opts.Policy == "":
		return eo, usageError("edge serve needs --policy FILE")
	case (opts.Origin == "") == (opts.ForwardAuth == ""):
		return eo, usageError("edge serve needs exactly one of --origin URL or --forward-auth PROXY (%s)", edge.ProxyChoices)
	}
	if opts.ForwardAuth != "" {
		p, err := edge.ParseProxy(opts.ForwardAuth)
		if err != nil {
			return eo, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--forward-auth: %w", err)}
		}
		eo.ForwardAuth = p
	}
	if opts.Origin != "" {
		u, err := url.Parse(opts.Origin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return eo, usageError("--origin %q: give an http(s) URL such as http://127.0.0.1:3000", opts.Origin)
		}
		eo.Origin = u
	}
	if opts.PublicURL != "" {
		pub, err := edgehttp.ParsePublicURL(opts.PublicURL)
		if err != nil {
			return eo, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--public-url: %w", err)}
		}
		eo.PublicURL = pub
	}
	tp, err := edge.ParseTrustedProxies(opts.TrustedProxies)
	if err != nil {
		return eo, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--trusted-proxies: %w", err)}
	}
	eo.TrustedProxies = tp
	return eo, nil
}

// forwardAuthArgs refuses positional arguments, and says what changed when they come from the
// old bare --forward-auth: "--forward-auth --listen X" reads "--listen" as the proxy.
func forwardAuthArgs(opts *EdgeServeOptions) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if strings.HasPrefix(opts.ForwardAuth, "-") {
			return fmt.Errorf("--forward-auth needs the proxy in front: --forward-auth nginx (or %s); "+
				"it decides which headers describe the request", edge.ProxyChoices)
		}
		return cobra.NoArgs(cmd, args)
	}
}

func edgeListen(opts *EdgeServeOptions) (net.Listener, net.Listener, error) {
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	if opts.OpsListen == "" {
		return ln, nil, nil
	}
	ops, err := net.Listen("tcp", opts.OpsListen)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("listen on %s: %w", opts.OpsListen, err), ln.Close())
	}
	return ln, ops, nil
}

func edgeMode(opts *EdgeServeOptions) string {
	if opts.ForwardAuth != "" {
		return "forward-auth for " + opts.ForwardAuth
	}
	return "gateway to " + opts.Origin
}

// edgeFetcher fetches JWKS and discovery documents with the factory's client (timeouts set).
func edgeFetcher(f *Factory) keyset.Fetcher { return &keyset.HTTPFetcher{Client: f.HTTP} }
