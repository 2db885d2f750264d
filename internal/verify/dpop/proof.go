package dpop

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// Errors a proof check returns. Every one is a 401 with error="invalid_dpop_proof", except
// ErrUseNonce (error="use_dpop_nonce", RFC 9449 §8) and ErrReplayFull (the edge's own limit).
var (
	ErrProof      = errors.New("invalid DPoP proof")
	ErrUseNonce   = errors.New("DPoP nonce required")
	ErrReplayFull = errors.New("DPoP replay cache full")
)

// MaxProofBytes bounds a proof: a P-256 or Ed25519 proof is under 1 KiB, an RSA-4096 one under
// 2 KiB; anything larger is an attempt to make the edge parse and hash a lot for nothing.
const MaxProofBytes = 4 << 10

// Config is what the policy says about proofs.
type Config struct {
	Algorithms []jose.Algorithm // nil: every supported (asymmetric) algorithm
	Lifetime   time.Duration    // how long after iat a proof is accepted (RFC 9449 §11.1)
	Leeway     time.Duration    // clock skew, both ways
	Now        func() time.Time
	Replay     *ReplayCache // nil: no replay check (tests of single properties only)
	Nonces     *Nonces      // nil: no server nonce (RFC 9449 §8)
}

// Expect is the request the proof must be for.
type Expect struct {
	Method      string // the request method as received
	URL         string // scheme://host[:port]/path as received; query and fragment are ignored
	AccessToken string // the token in Authorization: DPoP; ath must be its hash
	JKT         string // the token's cnf.jkt
}

// Proof is what a valid proof established.
type Proof struct {
	JKT      string
	IssuedAt time.Time
}

type claims struct {
	JTI   string      `json:"jti"`
	HTM   string      `json:"htm"`
	HTU   string      `json:"htu"`
	IAT   json.Number `json:"iat"`
	ATH   string      `json:"ath"`
	Nonce *string     `json:"nonce"`
}

// Check verifies one DPoP proof for the request in e, in RFC 9449 §4.3's order, and records
// its jti in the replay cache last, so a proof that fails any other check cannot evict or
// poison entries. The error wraps ErrProof, ErrUseNonce or ErrReplayFull; its text names the
// failed check and never holds the proof or the token.
func Check(proof string, e Expect, cfg Config) (*Proof, error) {
	if len(proof) > MaxProofBytes {
		return nil, fail("proof is %d bytes, limit %d", len(proof), MaxProofBytes)
	}
	t, err := jose.ParseUnverified(proof, MaxProofBytes)
	if err != nil {
		return nil, fail("%s", jose.Reason(err))
	}
	key, err := checkHeader(t, cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	if err := jose.VerifySignature(jose.Algorithm(t.Header.Alg), key, []byte(t.SigningInput), t.Signature); err != nil {
		return nil, fail("signature: %s", jose.Reason(err))
	}
	jkt, err := jose.Thumbprint(key)
	if err != nil || subtle.ConstantTimeCompare([]byte(jkt), []byte(e.JKT)) != 1 {
		return nil, fail("the proof's key is not the one the token is bound to (cnf.jkt)")
	}
	c, iat, err := checkClaims(t.Payload, e, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Replay != nil {
		if err := cfg.Replay.Add(jkt, c.JTI, cfg.now()); err != nil {
			return nil, err
		}
	}
	return &Proof{JKT: jkt, IssuedAt: iat}, nil
}

// checkHeader: typ dpop+jwt, an allowed asymmetric alg, and a public jwk that fits it (§4.3
// points 4-7). jose.CheckAlg refuses none and HS* whatever the allowlist says.
func checkHeader(t *jose.Token, algs []jose.Algorithm) (*jose.Key, error) {
	if t.Header.Typ != "dpop+jwt" { // §4.2: exactly this media type
		return nil, fail("typ must be dpop+jwt")
	}
	alg, err := jose.CheckAlg(t.Header.Alg, algs)
	if err != nil {
		return nil, fail("%s", jose.Reason(err))
	}
	if t.Header.JWK == nil {
		return nil, fail("header has no jwk")
	}
	key, err := jose.ParseJWK(t.Header.JWK) // refuses d, p, q, dp, dq, qi and k (private members)
	if err != nil {
		return nil, fail("jwk: %v", err)
	}
	if key.Alg != "" && key.Alg != alg {
		return nil, fail("jwk is for %s, proof uses %s", key.Alg, alg)
	}
	return key, nil
}

func checkClaims(payload []byte, e Expect, cfg Config) (*claims, time.Time, error) {
	members, err := jose.ParseObject(payload) // strict: no duplicate members
	if err != nil {
		return nil, time.Time{}, fail("payload: %v", err)
	}
	var c claims
	if err := decodeMembers(members, &c); err != nil {
		return nil, time.Time{}, err
	}
	switch {
	case c.JTI == "" || len(c.JTI) > 256:
		return nil, time.Time{}, fail("jti missing or longer than 256 bytes")
	case c.HTM != e.Method: // §4.3 point 8: case-sensitive, as methods are (RFC 9110 §9.1)
		return nil, time.Time{}, fail("htm does not match the request method")
	case !SameURL(c.HTU, e.URL):
		return nil, time.Time{}, fail("htu does not match the request URL")
	case c.ATH == "":
		return nil, time.Time{}, fail("ath missing (a proof with an access token must carry its hash)")
	case subtle.ConstantTimeCompare([]byte(c.ATH), []byte(TokenHash(e.AccessToken))) != 1:
		return nil, time.Time{}, fail("ath is not the hash of the access token")
	}
	iat, err := checkIAT(c.IAT, cfg)
	if err != nil {
		return nil, time.Time{}, err
	}
	if cfg.Nonces != nil && (c.Nonce == nil || !cfg.Nonces.Valid(*c.Nonce, cfg.now())) {
		return nil, time.Time{}, fmt.Errorf("%w: the proof's nonce is missing or stale", ErrUseNonce)
	}
	return &c, iat, nil
}

func decodeMembers(members []jose.Member, c *claims) error {
	for _, m := range members {
		var err error
		switch m.Name {
		case "jti":
			err = json.Unmarshal(m.Value, &c.JTI)
		case "htm":
			err = json.Unmarshal(m.Value, &c.HTM)
		case "htu":
			err = json.Unmarshal(m.Value, &c.HTU)
		case "ath":
			err = json.Unmarshal(m.Value, &c.ATH)
		case "nonce":
			c.Nonce = new(string)
			err = json.Unmarshal(m.Value, c.Nonce)
		case "iat":
			c.IAT = json.Number(m.Value)
			_, err = c.IAT.Float64()
		}
		if err != nil {
			return fail("%s has the wrong type", m.Name)
		}
	}
	return nil
}

// checkIAT: the proof was made within the lifetime, allowing the leeway both ways (§4.3
// point 11, §11.1). A future iat beyond the leeway is refused: it would extend the window.
func checkIAT(n json.Number, cfg Config) (time.Time, error) {
	if n == "" {
		return time.Time{}, fail("iat missing")
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1<<40 {
		return time.Time{}, fail("iat is not a time")
	}
	iat := time.Unix(int64(f), 0)
	now := cfg.now()
	switch {
	case iat.After(now.Add(cfg.Leeway)):
		return time.Time{}, fail("iat is in the future")
	case now.After(iat.Add(cfg.Lifetime + cfg.Leeway)):
		return time.Time{}, fail("proof is older than the proof lifetime")
	}
	return iat, nil
}

// TokenHash is ath: base64url(SHA-256(ASCII access token)) (RFC 9449 §4.2).
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (c Config) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func fail(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProof}, args...)...)
}
