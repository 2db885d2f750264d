package policy

import (
	"fmt"
	"time"
)

// DPoPMode is the policy's dpop field (RFC 9449; docs/dpop.md).
type DPoPMode string

// The DPoP modes, as PingAccess names them Off, Enabled and Required.
const (
	DPoPOff      DPoPMode = "off"      // DPoP is not looked at: today's bearer behaviour
	DPoPAllowed  DPoPMode = "allowed"  // a bound token needs a valid proof; an unbound bearer passes
	DPoPRequired DPoPMode = "required" // only bound tokens with valid proofs
)

// DPoP defaults and limits.
const (
	DefaultDPoPProofLifetime = time.Minute
	MaxDPoPProofLifetime     = 10 * time.Minute
	DefaultDPoPReplayCache   = 100000
)

// DPoPEnabled reports whether requests are checked for DPoP at all (allowed or required).
func (p *Policy) DPoPEnabled() bool { return p.DPoP == DPoPAllowed || p.DPoP == DPoPRequired }

// validateDPoP fills the DPoP defaults and checks the fields.
func (p *Policy) validateDPoP() error {
	switch p.DPoP {
	case "":
		p.DPoP = DPoPOff
	case DPoPOff, DPoPAllowed, DPoPRequired:
	default:
		return &PolicyError{Field: "dpop", Msg: fmt.Sprintf("%q: use off, allowed or required", p.DPoP)}
	}
	setDefault(&p.DPoPProofLifetime, DefaultDPoPProofLifetime)
	if p.DPoPProofLifetime > MaxDPoPProofLifetime {
		return &PolicyError{Field: "dpop_proof_lifetime", Msg: fmt.Sprintf("at most %s: a long lifetime makes a stolen proof useful longer", MaxDPoPProofLifetime)}
	}
	if p.DPoPReplayCacheSize <= 0 {
		p.DPoPReplayCacheSize = DefaultDPoPReplayCache
	}
	return nil
}
