package jose

import (
	"context"
	"errors"
	"time"
	"unsafe"
)

// Config is what a Verifier accepts, in the shape of coreos/go-oidc's verifier config: one
// issuer, the audiences, the algorithms, the clock and its leeway. The edge engine builds one
// from its policy; login builds one for ID tokens from the issuer's discovery document.
type Config struct {
	Issuer        string        // iss must equal it exactly (RFC 7519 §4.1.1; OIDC Core §3.1.3.7 step 2)
	Audiences     []string      // aud must contain one of them (RFC 7519 §4.1.3)
	Algorithms    []Algorithm   // nil: SupportedAlgorithms; never symmetric, never none
	TokenTypes    []string      // accepted typ values; nil: DefaultTypes
	Leeway        time.Duration // clock skew allowed on exp, nbf and iat
	Now           func() time.Time
	MaxTokenBytes int // 0: DefaultMaxTokenBytes
}

// Verifier checks compact JWS tokens against a Config and a KeySet. Safe for concurrent use.
//
// Verify and Explain run the same ordered list of checks (checks, below): Verify stops at the
// first failure, Explain runs every check whose prerequisite passed. So the error Verify returns
// is always the first failure Explain reports; verify.TestAttacks holds them equal over the
// attack table.
type Verifier struct {
	cfg  Config
	keys KeySet
}

// NewVerifier returns a verifier for keys under cfg.
func NewVerifier(keys KeySet, cfg Config) *Verifier {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TokenTypes == nil {
		cfg.TokenTypes = DefaultTypes
	}
	return &Verifier{cfg: cfg, keys: keys}
}

// Config returns the verifier's configuration (defaults filled in).
func (v *Verifier) Config() Config { return v.cfg }

// KeySet returns the verifier's key set.
func (v *Verifier) KeySet() KeySet { return v.keys }

// Verify checks token completely: structure, header, algorithm, key, signature, then claims
// (iss exact, aud, exp required, nbf/iat with leeway). The error wraps one of the sentinel
// errors (ErrSignature, ErrExpired via *TokenExpiredError, ...).
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	s := &state{raw: token}
	if err := v.run(ctx, s, phaseHeader, phaseSignature, phaseClaims); err != nil {
		return nil, err
	}
	return s.claims, nil
}

// Parsed is a token that passed the checks that need no key: structure, algorithm, type.
type Parsed struct{ s state }

// Token returns the parsed (not yet verified) token.
func (p *Parsed) Token() *Token { return p.s.token }

// Parse runs the checks that need no key, so a caller can refuse garbage before it costs a key
// lookup or a result-store read.
func (v *Verifier) Parse(token string) (*Parsed, error) {
	p := &Parsed{s: state{raw: token}}
	if err := v.run(context.Background(), &p.s, phaseHeader); err != nil {
		return nil, err
	}
	return p, nil
}

// CheckSignature runs the key and signature checks on a parsed token.
func (v *Verifier) CheckSignature(ctx context.Context, p *Parsed) error {
	return v.run(ctx, &p.s, phaseSignature)
}

// VerifySignature runs every check but the claims and returns the token whose signature
// verified.
func (v *Verifier) VerifySignature(ctx context.Context, token string) (*Token, error) {
	p, err := v.Parse(token)
	if err != nil {
		return nil, err
	}
	if err := v.CheckSignature(ctx, p); err != nil {
		return nil, err
	}
	return p.s.token, nil
}

// CheckClaims decodes the payload of a token whose signature was verified (or whose verified
// payload came back from a result store) and runs the claim checks on it.
func (v *Verifier) CheckClaims(t *Token) (*Claims, error) {
	s := &state{token: t}
	if err := v.run(context.Background(), s, phaseClaims); err != nil {
		return nil, err
	}
	return s.claims, nil
}

// run executes the checks of the given phases in order and stops at the first failure.
func (v *Verifier) run(ctx context.Context, s *state, phases ...phase) error {
	for i := range checks {
		c := &checks[i]
		if !hasPhase(phases, c.phase) {
			continue
		}
		if _, err := c.run(ctx, v, s); err != nil && !errors.Is(err, errNotApplicable) {
			return err
		}
	}
	return nil
}

func hasPhase(list []phase, p phase) bool {
	for _, x := range list {
		if x == p {
			return true
		}
	}
	return false
}

// verifyInput is the signing input as bytes without a copy (read-only).
func verifyInput(t *Token) []byte {
	return unsafe.Slice(unsafe.StringData(t.SigningInput), len(t.SigningInput))
}
