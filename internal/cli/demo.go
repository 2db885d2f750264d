//go:build demo

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/demo"
	"github.com/pingedge/pingedge/internal/tunnel"
	"github.com/pingedge/pingedge/internal/ui"
)

// DemoOptions are the inputs of `pingedge demo`.
type DemoOptions struct {
	f      *Factory
	Listen string
	User   string
	DPoP   bool
}

// NewCmdDemo builds `pingedge demo`.
func NewCmdDemo(f *Factory, runF func(context.Context, *DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{f: f}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole loop on loopback: a local issuer, an API behind the edge gateway, a login and a tunnel",
		Long: `Run pingedge end to end on this machine, without a Ping tenant: a local OpenID issuer with
demo users, a small API, "pingedge edge serve" in front of it with a demo policy, a real
authorization code + PKCE login, and a tunnel. Then try the printed curl commands.
Ctrl-C stops everything; nothing is left in the keychain or the config file.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return demoRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Listen, "listen", "127.0.0.1:0", "tunnel address (loopback)")
	cmd.Flags().StringVar(&opts.User, "user", "alice", "demo user: alice (engineer) or bob (admin)")
	cmd.Flags().BoolVar(&opts.DPoP, "dpop", false, "bind the tokens to a key (RFC 9449): the gateway requires DPoP proofs, the tunnel signs them")
	return cmd
}

func demoRun(ctx context.Context, opts *DemoOptions) error {
	f := opts.f
	level := slog.LevelWarn
	if f.Global.Verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: level}))
	// zitadel/oidc, behind the demo issuer, logs every device-flow poll through slog.Default and
	// offers no other logger (op.WithLogger has no effect); for the life of the demo, which is
	// the whole process, the default is the demo's own logger at the demo's level.
	prev := slog.Default()
	slog.SetDefault(logger)
	defer slog.SetDefault(prev)
	err := demo.Run(ctx, demo.Options{
		Listen: opts.Listen, User: opts.User, Logger: logger, DPoP: opts.DPoP,
		Ready:     func(info demo.Info) { printDemo(f, info) },
		AccessLog: func(e tunnel.Entry) { demoAccessLog(f.IO.ErrOut, e) },
		// The gateway's audit lines say why each request was allowed or refused.
		Audit: prefixWriter{w: f.IO.ErrOut, prefix: "  gateway audit: "},
	})
	if errors.Is(err, demo.ErrNoSuchUser) {
		return &ExitError{Code: ExitUsage, Err: err, Hint: "pingedge-demo --user bob"}
	}
	if err != nil && ctx.Err() == nil {
		return err
	}
	fmt.Fprintln(f.IO.ErrOut, "demo stopped; nothing was left behind")
	return nil
}

func printDemo(f *Factory, info demo.Info) {
	if f.Global.JSON() {
		_ = json.NewEncoder(f.IO.Out).Encode(info)
	}
	s := f.ErrStyles()
	w := f.IO.ErrOut
	fmt.Fprintln(w, s.Title.Render("pingedge demo is running")+" "+s.Dim.Render("(Ctrl-C stops it)"))
	s.KV(w, [][2]string{
		{"signed in as", fmt.Sprintf("%s (roles %s) via authorization code + PKCE", info.User, strings.Join(info.Roles, ", "))},
		{"issuer", info.Issuer},
		{"tunnel", info.Tunnel + "  → gateway " + info.Gateway + " → API " + info.API},
	})
	fmt.Fprintln(w, "\nTry:")
	fmt.Fprintf(w, "  %s   the API sees who you are, not your token\n", s.Code.Render("curl "+info.Tunnel+"/api/hello"))
	fmt.Fprintf(w, "  %s      403: the policy wants the admin role\n", s.Code.Render("curl -i "+info.Tunnel+"/admin"))
	fmt.Fprintf(w, "  %s  401: straight to the gateway, no token\n", s.Code.Render("curl -i "+info.Gateway+"/api/hello"))
	fmt.Fprintf(w, "  %s  %s\n", s.Code.Render("pingedge-demo --user bob"), "signs in an admin instead")
	if info.DPoP {
		fmt.Fprintf(w, "\nDPoP is on (dpop: required): the tunnel signs a proof per request with a key only it holds.\n")
		fmt.Fprintf(w, "  the same token copied and sent alone: %s\n", ui.Sanitize(info.Stolen))
	} else {
		fmt.Fprintf(w, "  %s  %s\n", s.Code.Render("pingedge-demo --dpop"), "binds the token to a key: a copied token is refused")
	}
	fmt.Fprintln(w, "\nSign in to the demo issuer yourself (another terminal, while the demo runs):")
	fmt.Fprintf(w, "  %s\n", s.Code.Render(demoLoginLine(info)))
	fmt.Fprintf(w, "  %s\n", s.Code.Render("pingedge token --profile demo | pingedge verify --policy "+info.PolicyFile+" --path /api/hello -"))
	fmt.Fprintf(w, "  %s\n", s.Code.Render("pingedge inspect --profile demo --policy "+info.PolicyFile+" --method DELETE --path /admin/users"))
	fmt.Fprintf(w, "  %s\n", s.Code.Render("pingedge logout --profile demo"))
	fmt.Fprintf(w, "%s\n\n", s.Dim.Render("  (the policy file above exists while the demo runs; the demo's own sign-in leaves nothing behind)"))
}

// demoLoginLine is a working `pingedge login` against the demo issuer: its public client, and
// the API's audience as the RFC 8707 resource so the token passes the demo policy.
func demoLoginLine(info demo.Info) string {
	return fmt.Sprintf("pingedge login --profile demo --issuer %s --client-id %s --resource %s", info.Issuer, info.ClientID, info.Audience)
}

// demoAccessLog escapes the method and path: any web page can make a browser send a path with
// control characters to the demo's tunnel.
func demoAccessLog(w io.Writer, e tunnel.Entry) {
	fmt.Fprintf(w, "%s %s %d %s\n", tunnel.AppendEscaped(nil, e.Method), tunnel.AppendEscaped(nil, e.Path), e.Status, e.Latency.Round(10_000))
}

// prefixWriter writes each line it is given with a prefix (the gateway writes whole lines).
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			if _, err := io.WriteString(p.w, p.prefix+line); err != nil {
				return 0, err
			}
		}
	}
	return len(b), nil
}
