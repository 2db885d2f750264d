package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pingedge/pingedge/internal/ui"
	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/jose"
)

// inspectResult is what inspect checked beyond decoding: the verification report (nil when the
// signature was not checked) and, with --path, the policy's decision for one request.
type inspectResult struct {
	report   *verify.Report
	decision *verify.Decision
	method   string
	binding  *dpopBinding // the token's cnf.jkt, nil when unbound (dpop.go)
}

// checkFlags: --path asks the policy, so it needs one; --method only means something with a path.
func (o *InspectOptions) checkFlags() error {
	switch {
	case o.methodSet && o.Path == "":
		return usageError("--method needs --path")
	case o.Path != "" && o.Engine.Policy == "":
		return usageError("--path needs --policy FILE: the policy's rules decide the request")
	}
	return nil
}

// wantsVerify: --verify, or any flag that says what to verify against.
func (o *InspectOptions) wantsVerify() bool {
	e := o.Engine
	return o.Verify || e.Policy != "" || e.Issuer != "" || len(e.Audience) > 0 || e.JWKS != ""
}

// check verifies the token (when asked) and decides --method --path against the policy. The
// decision goes through Engine.Decide, the same call the gateway and the Worker make.
func (o *InspectOptions) check(ctx context.Context, token string) (inspectResult, error) {
	res := inspectResult{method: strings.ToUpper(o.Method)}
	if !o.wantsVerify() {
		return res, nil
	}
	engine, err := o.Engine.build(o.f)
	if err != nil {
		return res, err
	}
	res.report = engine.Explain(ctx, token)
	if p := engine.Policy(); p.RolesClaim != "" {
		o.RolesClaim = p.RolesClaim
	}
	if o.Path != "" {
		// A DPoP-bound token is decided as the edge receives it, without a proof (verify_dpop.go).
		d := engine.Decide(ctx, edgeRequest(engine.Policy(), res.method, o.Path, token, res.report.Claims, dpopRequest{}))
		res.decision = &d
	}
	return res, nil
}

// exitError is exit 1 (already reported) when verification failed or the request is denied.
func (r inspectResult) exitError() error {
	switch {
	case r.report != nil && !r.report.OK():
		return &ExitError{Code: ExitFailed, Silent: true, Err: r.report.Err}
	case r.decision != nil && !r.decision.Allow:
		return &ExitError{Code: ExitFailed, Silent: true, Err: errors.New(r.decision.Reason)}
	}
	return nil
}

// warnings are said before anything else, in plain words, because the claims below them read
// as facts: without a signature check they are only what the token says about itself.
func (r inspectResult) warnings(t *jose.Token) []string {
	var w []string
	if t != nil && strings.EqualFold(t.Header.Alg, "none") {
		w = append(w, `this token is unsigned (alg "none"): anyone could have written it, and pingedge, the gateway and the Worker always refuse it`)
	}
	if r.report == nil {
		w = append(w, "signature NOT checked: the claims below are only what the token says about itself; add --policy FILE or --issuer URL --audience AUD to verify it")
	}
	return w
}

func renderWarnings(w io.Writer, s *ui.Styles, warnings []string) {
	for _, line := range warnings {
		fmt.Fprintf(w, "%s %s\n", s.Warn.Render("warning:"), line)
	}
	if len(warnings) > 0 {
		fmt.Fprintln(w)
	}
}

// decisionJSON is the -o json form of the decision, the same fields verify prints.
type decisionJSON struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Allowed bool   `json:"allowed"`
	Status  int    `json:"status"`
	Rule    string `json:"rule"`
	Reason  string `json:"reason,omitempty"`
	// Challenge is the WWW-Authenticate a refusal carries (for a bound token: invalid_dpop_proof).
	Challenge string `json:"www_authenticate,omitempty"`
}

func (r inspectResult) decisionJSON() *decisionJSON {
	d := r.decision
	if d == nil {
		return nil
	}
	return &decisionJSON{Method: r.method, Path: d.Path, Allowed: d.Allow, Status: d.Status, Rule: d.Rule, Reason: d.Reason,
		Challenge: d.WWWAuthenticate}
}

// renderDecision shows the request, the rule that matched, and the verdict the edge would give.
func renderDecision(w io.Writer, s *ui.Styles, r inspectResult) {
	d := r.decision
	if d == nil {
		return
	}
	fmt.Fprintf(w, "\n%s %s %s\n", s.Title.Render("Decision"), r.method, ui.Sanitize(d.Path))
	s.KV(w, [][2]string{{"  rule", ui.Sanitize(d.Rule)}})
	if d.Allow {
		fmt.Fprintf(w, "  %s %s\n", s.Mark(true), s.OK.Render("allowed"))
		return
	}
	fmt.Fprintf(w, "  %s %s %d %s\n", s.Mark(false), s.Fail.Render("denied:"), d.Status, ui.Sanitize(d.Reason))
	if d.WWWAuthenticate != "" {
		fmt.Fprintf(w, "  WWW-Authenticate: %s\n", ui.Sanitize(d.WWWAuthenticate))
	}
	if r.binding != nil && strings.HasPrefix(d.WWWAuthenticate, "DPoP ") {
		fmt.Fprintf(w, "  %s\n", "the edge needs a DPoP proof with this token; check one: pingedge verify --dpop-proof PROOF --url URL")
	}
}
