package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/secret"
)

// TokenOptions are the inputs of `pingedge token`.
type TokenOptions struct {
	f *Factory

	MinTTL time.Duration
	Format string // raw, header, json or k8s
	// Method and URL name the one request a DPoP proof is for (--format header on a profile
	// with dpop: true).
	Method, URL string
	// minTTLSet: --min-ttl was given, so a shorter token is worth a warning (the default is not).
	minTTLSet bool
}

// NewCmdToken builds `pingedge token`.
func NewCmdToken(f *Factory, runF func(context.Context, *TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{f: f}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a valid access token, refreshed when needed",
		Long: `Print an access token of the active profile on stdout. A cached token is reused while it
stays valid for --min-ttl; otherwise pingedge refreshes it once, even when many pingedge
processes ask at the same moment.

Formats: raw (the token), header (an Authorization header line), json, and k8s (a
client.authentication.k8s.io/v1 ExecCredential, so kubectl can use pingedge as a credential
plugin).`,
		Example: `  curl -H "$(pingedge token --format header)" https://api.example.com/
  pingedge token --min-ttl 10m --format json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.minTTLSet = cmd.Flags().Changed("min-ttl")
			if !cmd.Flags().Changed("format") && f.Global.JSON() {
				opts.Format = "json"
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.MinTTL, "min-ttl", defaultMinTTL, "refresh unless the token stays valid at least this long (warns when the issuer's tokens are shorter)")
	cmd.Flags().StringVar(&opts.Format, "format", "raw", "raw, header, json or k8s")
	cmd.Flags().StringVar(&opts.Method, "method", "GET", "DPoP profiles, --format header: the method of the request the proof is for")
	cmd.Flags().StringVar(&opts.URL, "url", "", "DPoP profiles, --format header: the URL of the request the proof is for (query ignored)")
	return cmd
}

func tokenRun(ctx context.Context, opts *TokenOptions) error {
	switch opts.Format {
	case "raw", "header", "json", "k8s":
	default:
		return usageError("unknown --format %q: use raw, header, json or k8s", opts.Format)
	}
	if opts.MinTTL < 0 {
		return usageError("--min-ttl must not be negative")
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
	signer, err := opts.f.profileDPoP(ctx)
	if err != nil {
		return err
	}
	if signer != nil {
		return writeDPoPToken(opts, signer, tok)
	}
	return writeToken(opts.f, opts.Format, tok)
}

// warnShortToken says so on stderr when the token cannot last --min-ttl: the issuer's tokens
// live shorter than that, and a fresh refresh cannot do better. Scripts that asked for an hour
// must not find out from a 401 after five minutes.
func warnShortToken(f *Factory, tok secret.AccessToken, minTTL time.Duration) {
	if tok.Expiry.IsZero() || minTTL == 0 {
		return
	}
	if left := tok.Expiry.Sub(f.Now()); left < minTTL {
		fmt.Fprintf(f.IO.ErrOut, "%s this access token expires in %s, before --min-ttl %s: the issuer's tokens live shorter than that\n",
			f.ErrStyles().Warn.Render("warning:"), humanDuration(left), minTTL)
	}
}

// writeToken is the one place the access token leaves pingedge on stdout.
func writeToken(f *Factory, format string, tok secret.AccessToken) error {
	out := f.IO.Out
	switch format {
	case "header":
		_, err := fmt.Fprintf(out, "Authorization: Bearer %s\n", tok.Value.Reveal())
		return err
	case "json":
		return json.NewEncoder(out).Encode(tokenJSON{
			AccessToken: tok.Value.Reveal(), TokenType: "Bearer", ExpiresAt: optionalTime(tok.Expiry),
		})
	case "k8s":
		return json.NewEncoder(out).Encode(execCredential{
			APIVersion: "client.authentication.k8s.io/v1", Kind: "ExecCredential",
			Status: execCredentialStatus{Token: tok.Value.Reveal(), ExpirationTimestamp: optionalTime(tok.Expiry)},
		})
	}
	_, err := fmt.Fprintln(out, tok.Value.Reveal())
	return err
}

type tokenJSON struct {
	AccessToken string     `json:"access_token"`
	TokenType   string     `json:"token_type"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
}

// execCredential is client.authentication.k8s.io/v1 ExecCredential (Kubernetes "client-go
// credential plugins"); kubectl caches the token until expirationTimestamp.
type execCredential struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	Status     execCredentialStatus `json:"status"`
}

type execCredentialStatus struct {
	ExpirationTimestamp *time.Time `json:"expirationTimestamp,omitempty"`
	Token               string     `json:"token"`
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC().Truncate(time.Second)
	return &u
}
