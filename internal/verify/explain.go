package verify

import (
	"context"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// Check is one line of the inspect checklist (jose.Check).
type Check = jose.Check

// Report is the result of Explain (jose.Report).
type Report = jose.Report

// Explain runs the same ordered checks as Verify (jose.Verifier.Explain) but keeps going where
// it can, so `pingedge inspect --verify` can show each as passed or failed; Report.Err is
// exactly the error Verify returns (TestAttacks holds that over the attack table).
func (e *Engine) Explain(ctx context.Context, token string) *Report {
	r := e.v.Explain(ctx, token)
	if r.Claims != nil {
		e.fillRoles(r.Claims)
	}
	return r
}

// Kind names the sentinel an error wraps ("signature", "expired", ...), for JSON output.
func Kind(err error) string { return jose.Kind(err) }
