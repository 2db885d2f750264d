package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/ui"
	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/jose"
)

// InspectOptions are the inputs of `pingedge inspect`.
type InspectOptions struct {
	f *Factory

	Token       string // argument, or "-" for stdin
	FromProfile bool   // no argument: the profile's current token (an empty argument is an error)
	Verify      bool
	Engine      EngineFlags
	RolesClaim  string
	// Method and Path ask the policy for a decision on one request (inspect_decide.go).
	Method    string
	Path      string
	methodSet bool
}

// NewCmdInspect builds `pingedge inspect`.
func NewCmdInspect(f *Factory, runF func(context.Context, *InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{f: f}
	cmd := &cobra.Command{
		Use:   "inspect [TOKEN|-]",
		Short: "Decode and explain a token (the profile's current one when none is given)",
		Long: `Decode a JWT and lay out its header and claims: times as dates and as "expires in 4m12s",
scopes and roles picked out, the signature shortened. Nothing is verified unless --verify,
--policy or --issuer is given (the output then starts with a warning); with them every check
"pingedge verify" makes is shown passed or failed with why. With --policy and --path (and
--method, default GET) inspect also shows which rule matched and whether the edge would allow
that request.

Without a TOKEN argument, inspect shows the active profile's current access token
(refreshed if needed). "-" reads the token from stdin. A pasted "Bearer TOKEN" or
"Authorization: Bearer TOKEN" line is accepted as well. Exit 0, or 1 when a requested check
failed or the request would be denied.`,
		Example: `  pingedge inspect
  pingedge inspect "$TOKEN" -o json
  pingedge inspect --policy policy.yaml --method POST --path /admin/users
  pingedge token | pingedge inspect --verify --issuer https://auth.pingone.com/ENV/as --audience https://api.example.com -`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.methodSet = cmd.Flags().Changed("method")
			if opts.FromProfile = len(args) == 0; !opts.FromProfile {
				opts.Token = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return inspectRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Verify, "verify", false, "also verify, showing each check (implied by --policy and --issuer)")
	opts.Engine.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.Method, "method", "GET", "request method to decide (with --path)")
	cmd.Flags().StringVar(&opts.Path, "path", "", "request path to decide against the policy's rules (needs --policy)")
	cmd.Flags().StringVar(&opts.RolesClaim, "roles-claim", "roles", "claim path holding roles (the policy's roles_claim wins)")
	return cmd
}

func inspectRun(ctx context.Context, opts *InspectOptions) error {
	if err := opts.checkFlags(); err != nil {
		return err
	}
	token, err := opts.token(ctx)
	if err != nil {
		return err
	}
	res, err := opts.check(ctx, token)
	if err != nil {
		return err
	}
	t, err := jose.ParseUnverified(token, 0)
	if err != nil {
		if res.report != nil {
			_ = renderInspect(opts, nil, res)
		}
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("not a token pingedge can read: %w", err)}
	}
	res.binding = inspectBinding(ctx, opts.f, t)
	if err := renderInspect(opts, t, res); err != nil {
		return err
	}
	return res.exitError()
}

// token resolves the argument: a token, "-" for stdin, or the profile's current access token.
func (o *InspectOptions) token(ctx context.Context) (string, error) {
	if !o.FromProfile {
		return readToken(o.f, o.Token)
	}
	src, err := o.f.TokenSource(ctx)
	if err != nil {
		return "", err
	}
	tok, err := src.Token(ctx, 0)
	if err != nil {
		return "", err
	}
	return tok.Value.Reveal(), nil
}

// inspectJSON is the -o json form.
type inspectJSON struct {
	Header    json.RawMessage `json:"header,omitempty"`
	Claims    json.RawMessage `json:"claims,omitempty"`
	Signature *signatureJSON  `json:"signature,omitempty"`
	Scopes    []string        `json:"scopes,omitempty"`
	Roles     []string        `json:"roles,omitempty"`
	Expiry    *time.Time      `json:"expires_at,omitempty"`
	Verified  *bool           `json:"verified,omitempty"`
	Checks    []verify.Check  `json:"checks,omitempty"`
	Ignored   []string        `json:"ignored_header_members,omitempty"`
	Warnings  []string        `json:"warnings,omitempty"`
	Decision  *decisionJSON   `json:"decision,omitempty"`
	DPoP      *dpopBinding    `json:"dpop,omitempty"`
}

type signatureJSON struct {
	Bytes int    `json:"bytes"`
	Short string `json:"short"`
}

func renderInspect(o *InspectOptions, t *jose.Token, res inspectResult) error {
	v, r := decodeView(t, o.RolesClaim), res.report
	if o.f.Global.JSON() {
		out := inspectJSON{Warnings: res.warnings(t), Decision: res.decisionJSON(), DPoP: res.binding}
		if t != nil {
			out.Header, out.Signature, out.Ignored = compactJSON(t.HeaderJSON), &signatureJSON{len(t.Signature), v.sig}, t.Header.Ignored
			if json.Valid(t.Payload) {
				out.Claims = compactJSON(t.Payload)
			}
			out.Scopes, out.Roles, out.Expiry = v.scopes, v.roles, optionalTime(v.exp)
		}
		ok := r != nil && r.OK()
		out.Verified = &ok
		if r != nil {
			out.Checks = r.Checks
		}
		return json.NewEncoder(o.f.IO.Out).Encode(out)
	}
	s, w := o.f.OutStyles(), o.f.IO.Out
	renderWarnings(w, s, res.warnings(t))
	if t != nil {
		renderTokenText(w, s, t, v, o.RolesClaim, o.f.Now())
	}
	renderBinding(w, s, res.binding)
	if r != nil {
		fmt.Fprintf(w, "\n%s\n", s.Title.Render("Verification"))
		for _, c := range r.Checks {
			mark := s.Mark(c.OK)
			if !c.Ran {
				mark = s.Dim.Render("-")
			}
			fmt.Fprintf(w, "  %s %-10s %s\n", mark, c.Name, s.Dim.Render(ui.Sanitize(c.Detail)))
		}
		verdict := s.OK.Render("valid")
		if !r.OK() {
			verdict = s.Fail.Render("invalid: ") + ui.Sanitize(jose.Reason(r.Err))
		}
		fmt.Fprintf(w, "  %s\n", verdict)
	}
	renderDecision(w, s, res)
	return nil
}

// view is what inspect picks out of an unverified token.
type view struct {
	claims map[string]json.RawMessage
	scopes []string
	roles  []string
	exp    time.Time
	sig    string
}

func decodeView(t *jose.Token, rolesClaim string) view {
	v := view{}
	if t == nil {
		return v
	}
	v.sig = shortSignature(t.Signature)
	if json.Unmarshal(t.Payload, &v.claims) != nil {
		return v
	}
	// The engine's own reading (scope and scp together, scp as a string or a list), so inspect
	// shows the scopes a policy's scopes rule is matched against.
	v.scopes = jose.Scopes(t.Payload)
	if raw, ok := lookupClaim(v.claims, rolesClaim); ok {
		if json.Unmarshal(raw, &v.roles) != nil {
			var one string
			if json.Unmarshal(raw, &one) == nil {
				v.roles = []string{one}
			}
		}
	}
	var exp float64
	if json.Unmarshal(v.claims["exp"], &exp) == nil {
		v.exp = time.Unix(int64(exp), 0)
	}
	return v
}

func lookupClaim(claims map[string]json.RawMessage, path string) (json.RawMessage, bool) {
	if v, ok := claims[path]; ok {
		return v, true
	}
	cur := claims
	parts := strings.Split(path, ".")
	for i, p := range parts {
		v, ok := cur[p]
		if !ok {
			return nil, false
		}
		if i == len(parts)-1 {
			return v, true
		}
		if json.Unmarshal(v, &cur) != nil {
			return nil, false
		}
	}
	return nil, false
}

// timeClaims are shown as dates with a relative time.
var timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true, "auth_time": true}

func renderTokenText(w io.Writer, s *ui.Styles, t *jose.Token, v view, rolesClaim string, now time.Time) {
	fmt.Fprintf(w, "%s\n", s.Title.Render("Header"))
	var hdr map[string]json.RawMessage
	_ = json.Unmarshal(t.HeaderJSON, &hdr)
	s.KV(w, sortedRows(hdr, func(k string, raw json.RawMessage) string { return plain(raw) }))
	if len(t.Header.Ignored) > 0 {
		fmt.Fprintf(w, "  %s %s\n", s.Warn.Render("ignored:"), strings.Join(ui.SanitizeAll(t.Header.Ignored), ", ")+" (never trusted)")
	}
	fmt.Fprintf(w, "\n%s\n", s.Title.Render("Claims"))
	if v.claims == nil {
		fmt.Fprintf(w, "  %s\n", s.Fail.Render("payload is not a JSON object"))
	}
	s.KV(w, sortedRows(v.claims, func(k string, raw json.RawMessage) string {
		switch {
		case timeClaims[k]:
			return describeTime(k, raw, now)
		case k == "scope" || k == "scp":
			return s.Code.Render(strings.Join(ui.SanitizeAll(v.scopes), " "))
		case k == rolesClaim && len(v.roles) > 0:
			return s.Code.Render(strings.Join(ui.SanitizeAll(v.roles), ", "))
		}
		return plain(raw)
	}))
	if _, top := v.claims[rolesClaim]; len(v.roles) > 0 && !top {
		s.KV(w, [][2]string{{"roles (" + ui.Sanitize(rolesClaim) + ")", s.Code.Render(strings.Join(ui.SanitizeAll(v.roles), ", "))}})
	}
	fmt.Fprintf(w, "\n%s\n", s.Title.Render("Signature"))
	fmt.Fprintf(w, "%s %s\n", s.Dim.Render(v.sig), s.Dim.Render(fmt.Sprintf("(%d bytes, not shown in full)", len(t.Signature))))
}

func sortedRows(m map[string]json.RawMessage, render func(string, json.RawMessage) string) [][2]string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([][2]string, 0, len(keys))
	for _, k := range keys {
		// Claim names and values come from the token: escape them before the terminal sees them.
		rows = append(rows, [2]string{ui.Sanitize(k), render(k, m[k])})
	}
	return rows
}

// plain shows a string claim without quotes and anything else as compact JSON, escaped for the
// terminal (JSON strings may hold DEL, C1 controls and bidi overrides unescaped).
func plain(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return ui.Sanitize(s)
	}
	return ui.Sanitize(string(compactJSON(raw)))
}

func describeTime(name string, raw json.RawMessage, now time.Time) string {
	var secs float64
	if json.Unmarshal(raw, &secs) != nil {
		return plain(raw) + " (not a number)"
	}
	t := time.Unix(int64(secs), 0)
	if name == "exp" {
		return describeExpiry(t, now)
	}
	date := t.UTC().Format("2006-01-02 15:04:05 UTC")
	if d := now.Sub(t); d >= 0 {
		return fmt.Sprintf("%s (%s ago)", date, humanDuration(d))
	}
	return fmt.Sprintf("%s (in %s)", date, humanDuration(t.Sub(now)))
}

// shortSignature shows the first and last 6 base64url characters only.
func shortSignature(sig []byte) string {
	enc := base64.RawURLEncoding.EncodeToString(sig)
	if len(enc) <= 16 {
		return enc
	}
	return enc[:6] + "…" + enc[len(enc)-6:]
}

// compactJSON keeps numbers and member order exactly as the token has them.
func compactJSON(b []byte) json.RawMessage {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return nil
	}
	return out.Bytes()
}
