package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pingedge/pingedge/internal/ui"
	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/keyset"
	"github.com/pingedge/pingedge/internal/verify/policy"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

// VerifyOptions are the inputs of `pingedge verify`.
type VerifyOptions struct {
	f *Factory

	Engine EngineFlags
	Method string
	Path   string
	Token  string      // the argument: a token or "-" for stdin
	DPoP   dpopRequest // --dpop-proof and --url

	methodSet bool
}

// EngineFlags are the flags that say how to verify: a policy file, or an issuer and audience,
// and optionally where the keys are. verify and inspect --verify share them.
type EngineFlags struct {
	Policy   string
	Issuer   string
	Audience []string
	JWKS     string // URL or file

	// pastedProof: verify checks a DPoP proof made for an edge. With dpop_nonce on, its nonce
	// is an HMAC under that edge process's own key (RFC 9449 §8), which no other process has,
	// so build leaves the nonce check out and nonceUnchecked says so.
	pastedProof    bool
	nonceUnchecked bool
}

func (e *EngineFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&e.Policy, "policy", "", "policy file (YAML, see docs/policy.md)")
	fs.StringVar(&e.Issuer, "issuer", "", "expected issuer (instead of --policy)")
	fs.StringSliceVar(&e.Audience, "audience", nil, "expected audience (with --issuer; repeatable)")
	fs.StringVar(&e.JWKS, "jwks", "", "JWKS URL or file (default: the policy's jwks_uri, else issuer discovery)")
}

// NewCmdVerify builds `pingedge verify`.
func NewCmdVerify(f *Factory, runF func(context.Context, *VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{f: f}
	cmd := &cobra.Command{
		Use:   "verify [TOKEN|-]",
		Short: "Check a token as the edge would: signature, claims and, with a policy, access",
		Long: `Verify a JWT access token exactly as "pingedge edge serve" and the Worker do: a strict
compact JWS with an asymmetric algorithm, a key from the issuer's JWKS, iss, aud, exp, nbf
and iat. With --policy and --path it also decides whether the token may call METHOD PATH;
with --policy but no --path only the token is checked, and the verdict says no request was
decided (it is not "allowed").

A DPoP-bound token (cnf.jkt) is decided as the edge would receive it: with the policy's dpop
allowed or required it needs a proof, so without --dpop-proof it is refused
(invalid_dpop_proof); --dpop-proof PROOF --url URL checks one for that URL and --method.

The token is the argument, or "-" to read it from stdin. Exit 0: valid (and allowed);
1: invalid or denied, with the reason; 2: usage or configuration error.`,
		Example: `  pingedge verify --issuer https://auth.pingone.com/ENV/as --audience https://api.example.com "$TOKEN"
  pingedge token | pingedge verify --policy policy.yaml --method POST --path /admin/users -
  pingedge verify --policy policy.yaml --jwks ./jwks.json -o json - < token.txt
  pingedge verify --policy policy.yaml --method POST --url https://api.example.com/items --dpop-proof "$PROOF" "$TOKEN"`,
		Args: tokenArg(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Token = args[0]
			opts.methodSet = cmd.Flags().Changed("method")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return verifyRun(cmd.Context(), opts)
		},
	}
	opts.Engine.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.Method, "method", "GET", "request method to decide (with --path)")
	cmd.Flags().StringVar(&opts.Path, "path", "", "request path to decide against the policy's rules")
	cmd.Flags().StringVar(&opts.DPoP.URL, "url", "", "request URL to decide (its path is the path; a DPoP proof's htu is checked against it)")
	cmd.Flags().StringVar(&opts.DPoP.Proof, "dpop-proof", "", "DPoP proof (the DPoP header's value) sent with the token; needs --url")
	return cmd
}

// verifyResult is the JSON form of the verdict.
type verifyResult struct {
	Valid   bool           `json:"valid"`
	Allowed *bool          `json:"allowed,omitempty"`
	Status  int            `json:"status,omitempty"`
	Rule    string         `json:"rule,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	Kind    string         `json:"error_kind,omitempty"`
	Claims  map[string]any `json:"claims,omitempty"`
	// Challenge is the WWW-Authenticate the edge would answer a refused request with.
	Challenge string    `json:"www_authenticate,omitempty"`
	DPoP      *dpopView `json:"dpop,omitempty"` // a DPoP-bound token, or a proof given
	// Note says that a policy was given but no request decided: "valid" is about the token only.
	Note string `json:"note,omitempty"`
}

// notDecided is said whenever a policy was loaded but no --path asked it anything, so that
// "valid" cannot be read as "allowed" (the policy may deny every path).
const notDecided = "token valid; no request decided: pass --path P (and --method M) to ask the policy"

func verifyRun(ctx context.Context, opts *VerifyOptions) error {
	token, err := readToken(opts.f, opts.Token)
	if err != nil {
		return err
	}
	opts.Engine.pastedProof = strings.TrimSpace(opts.DPoP.Proof) != ""
	engine, err := opts.Engine.build(opts.f)
	if err != nil {
		return err
	}
	path, err := dpopFlags(engine.Policy(), opts.Path, &opts.DPoP)
	if err != nil {
		return err
	}
	if path == "" && opts.methodSet {
		return usageError("--method needs --path (or --url)")
	}
	res := verifyResult{}
	claims, verr := engine.Verify(ctx, token)
	res.Valid, res.Reason, res.Kind = verr == nil, jose.Reason(verr), verify.Kind(verr)
	if claims != nil {
		res.Claims = claimsMap(claims)
	}
	if verr == nil && path == "" && opts.Engine.Policy != "" {
		res.Note = notDecided
	}
	if verr == nil && path != "" {
		d := engine.Decide(ctx, edgeRequest(engine.Policy(), opts.Method, path, token, claims, opts.DPoP))
		allowed := d.Allow
		res.Allowed, res.Status, res.Rule, res.Reason = &allowed, d.Status, d.Rule, d.Reason
		if !d.Allow {
			res.Challenge = d.WWWAuthenticate
		}
	}
	res.DPoP = newDPoPView(engine.Policy(), claims, opts.DPoP, res.Allowed != nil)
	if res.DPoP != nil {
		res.DPoP.NonceUnchecked = res.DPoP.ProofChecked && opts.Engine.nonceUnchecked
	}
	if err := renderVerify(opts.f, res, claims); err != nil {
		return err
	}
	if !res.Valid || (res.Allowed != nil && !*res.Allowed) {
		return &ExitError{Code: ExitFailed, Silent: true, Err: errors.New(res.Reason)}
	}
	return nil
}

func renderVerify(f *Factory, res verifyResult, c *jose.Claims) error {
	if f.Global.JSON() {
		return json.NewEncoder(f.IO.Out).Encode(res)
	}
	s, out := f.OutStyles(), f.IO.Out
	switch {
	case !res.Valid:
		fmt.Fprintf(out, "%s %s\n", s.Fail.Render("invalid:"), ui.Sanitize(res.Reason))
	case res.Allowed != nil && !*res.Allowed:
		fmt.Fprintf(out, "%s %d %s (rule %s)\n", s.Fail.Render("denied:"), res.Status, ui.Sanitize(res.Reason), ui.Sanitize(res.Rule))
	case res.Allowed != nil:
		fmt.Fprintf(out, "%s by rule %s\n", s.OK.Render("allowed:"), ui.Sanitize(res.Rule))
	case res.Note != "":
		fmt.Fprintf(out, "%s\n", s.Warn.Render(res.Note))
	default:
		fmt.Fprintf(out, "%s\n", s.OK.Render("valid"))
	}
	if res.Challenge != "" {
		fmt.Fprintf(out, "  WWW-Authenticate: %s\n", ui.Sanitize(res.Challenge))
	}
	if c != nil {
		rows := [][2]string{{"subject", c.Subject}, {"client", c.ClientID}, {"issuer", c.Issuer},
			{"expires", describeExpiry(c.Expiry, f.Now())}}
		if res.DPoP != nil {
			rows = append(rows, [2]string{"dpop", ui.Sanitize(res.DPoP.describe(res.Allowed != nil))})
		}
		s.KV(out, rows)
	}
	return nil
}

// build makes the engine from a policy file or --issuer/--audience; without a policy every
// path is open to any valid token.
func (e *EngineFlags) build(f *Factory) (*verify.Engine, error) {
	p, err := e.policy()
	if err != nil {
		return nil, err
	}
	if e.pastedProof && p.DPoPNonce {
		p.DPoPNonce, e.nonceUnchecked = false, true
	}
	opts := verify.EngineOptions{Now: f.Now, CacheSize: -1, Fetcher: &keyset.HTTPFetcher{Client: f.HTTP}}
	if f.Global.Verbose {
		// Key fetches and refresh failures, on stderr; never a token.
		opts.Logger = slog.New(slog.NewTextHandler(f.IO.ErrOut, nil))
	}
	if e.JWKS != "" && !strings.HasPrefix(e.JWKS, "https://") && !strings.HasPrefix(e.JWKS, "http://") {
		data, err := os.ReadFile(e.JWKS)
		if err != nil {
			return nil, usageError("read --jwks: %v", err)
		}
		ks, err := jose.NewStaticKeySet(data)
		if err != nil {
			return nil, usageError("--jwks %s: %v", e.JWKS, err)
		}
		opts.KeySet = ks
	} else if e.JWKS != "" {
		p.JWKSURI = e.JWKS
	}
	engine, err := verify.NewEngine(p, opts)
	if err != nil {
		return nil, usageError("%v", err)
	}
	return engine, nil
}

func (e *EngineFlags) policy() (*policy.Policy, error) {
	switch {
	case e.Policy != "" && (e.Issuer != "" || len(e.Audience) > 0):
		return nil, usageError("use --policy or --issuer/--audience, not both")
	case e.Policy != "":
		p, err := policyfile.Load(e.Policy)
		if err != nil {
			return nil, &ExitError{Code: ExitUsage, Err: err, Hint: "see docs/policy.md"}
		}
		return p, nil
	case e.Issuer == "" || len(e.Audience) == 0:
		return nil, usageError("say what to verify against: --policy FILE, or --issuer URL and --audience AUD")
	}
	return &policy.Policy{Issuer: e.Issuer, Audience: e.Audience, Default: policy.AccessAuthenticated}, nil
}

// tokenArg says what to pass when the token argument is missing, instead of cobra's
// "accepts 1 arg(s)"; other arity mistakes are usage errors as usual.
func tokenArg(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: no token given", cmd.CommandPath()),
				Hint: "pass the token as the argument, or - to read it from stdin (pingedge token | " + cmd.CommandPath() + " … -)"}
		}
		return usageArgs(v)(cmd, args)
	}
}

// readToken takes the token argument, or reads it from stdin for "-" (at most 64 KiB). An
// empty argument is a usage error: it is what an unset $TOKEN expands to, and quietly using
// some other token instead would answer a question nobody asked.
func readToken(f *Factory, arg string) (string, error) {
	if arg != "-" {
		tok := stripBearer(arg)
		if tok == "" {
			return "", &ExitError{Code: ExitUsage, Err: errors.New("the token argument is empty (an unset variable?)"),
				Hint: "pass a token, - to read one from stdin, or (inspect) no argument for the profile's own token"}
		}
		return tok, nil
	}
	data, err := io.ReadAll(io.LimitReader(f.IO.In, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read the token from stdin: %w", err)
	}
	tok := stripBearer(string(data))
	if tok == "" {
		return "", usageError("no token on stdin")
	}
	return tok, nil
}

// stripBearer accepts what people paste: a bare token, "Bearer TOKEN" (RFC 6750 §2.1), or a
// whole "Authorization: Bearer TOKEN" header line, in any letter case.
func stripBearer(s string) string {
	s = strings.TrimSpace(s)
	if name, rest, ok := strings.Cut(s, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "authorization") {
		s = strings.TrimSpace(rest)
	}
	if scheme, rest, ok := strings.Cut(s, " "); ok && strings.EqualFold(scheme, "bearer") {
		s = strings.TrimSpace(rest)
	}
	return s
}

// claimsMap is the JSON view of the claims (raw members as sent, never the token).
func claimsMap(c *jose.Claims) map[string]any {
	raw := c.Raw()
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		out[k] = json.RawMessage(v)
	}
	return out
}

// describeExpiry renders exp as a date and as "expires in 4m12s" / "expired 3h ago".
func describeExpiry(exp, now time.Time) string {
	if exp.IsZero() {
		return "never (no exp)"
	}
	date := exp.UTC().Format("2006-01-02 15:04:05 UTC")
	if d := exp.Sub(now); d > 0 {
		return fmt.Sprintf("%s (expires in %s)", date, humanDuration(d))
	}
	return fmt.Sprintf("%s (expired %s ago)", date, humanDuration(now.Sub(exp)))
}

// humanDuration is a duration in seconds precision without trailing zero units: 4m12s, 3h, 2h5m.
func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d >= time.Hour:
		d = d.Round(time.Minute)
	default:
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
