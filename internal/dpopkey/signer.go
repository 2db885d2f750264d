// Package dpopkey is the client side of DPoP (RFC 9449): a P-256 key per profile and the
// proofs it signs for the token endpoint (login, refresh) and for every request the tunnel and
// `pingedge token` make. The edge's checks are in internal/verify/dpop.
package dpopkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// Signer makes DPoP proofs (RFC 9449 §4.2) with one P-256 key: the client side (login, token,
// the tunnel). The header, with the public jwk, is encoded once; a proof then costs one JSON
// payload written straight into the proof's buffer, one SHA-256 and one ECDSA signature
// (docs/performance.md, "DPoP in the tunnel").
type Signer struct {
	key    *ecdsa.PrivateKey
	header string // base64url of {"typ":"dpop+jwt","alg":"ES256","jwk":{...}}
	jkt    string
}

// NewSigner wraps a P-256 private key.
func NewSigner(key *ecdsa.PrivateKey) (*Signer, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("dpopkey: the proof key must be a P-256 key")
	}
	raw, err := key.PublicKey.Bytes() // 0x04 ‖ x ‖ y
	if err != nil {
		return nil, err
	}
	enc := base64.RawURLEncoding.EncodeToString
	x, y := enc(raw[1:33]), enc(raw[33:])
	jwk := `{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}` // also RFC 7638's canonical form
	sum := sha256.Sum256([]byte(jwk))
	return &Signer{key: key, jkt: enc(sum[:]),
		header: enc([]byte(`{"typ":"dpop+jwt","alg":"ES256","jwk":` + jwk + `}`))}, nil
}

// JKT is the key's RFC 7638 thumbprint: what a bound token's cnf.jkt must be.
func (s *Signer) JKT() string { return s.jkt }

// Proof signs a proof for one request. token, when not empty, is hashed into ath; nonce, when
// not empty, is the server's DPoP-Nonce.
func (s *Signer) Proof(method, url, token, nonce string, now time.Time) (string, error) {
	ath := ""
	if token != "" {
		ath = TokenHash(token)
	}
	return s.ProofWithHash(method, url, ath, nonce, now)
}

// ProofWithHash is Proof for a caller that keeps ath (TokenHash of its token) beside the token:
// the tunnel hashes each token once, not once per request.
func (s *Signer) ProofWithHash(method, url, ath, nonce string, now time.Time) (string, error) {
	jws, err := s.signingInput(method, url, ath, nonce, now)
	if err != nil {
		return "", err
	}
	sig, err := s.sign(jws)
	if err != nil {
		return "", err
	}
	return finish(jws, &sig), nil
}

// signingInput is header.payload in a buffer with room for the signature, so the whole compact
// JWS is built in one allocation.
func (s *Signer) signingInput(method, url, ath, nonce string, now time.Time) ([]byte, error) {
	var jti [16]byte // 128 random bits; RFC 9449 §4.2 asks for at least 96
	if _, err := rand.Read(jti[:]); err != nil {
		return nil, fmt.Errorf("dpop proof jti: %w", err)
	}
	var scratch [384]byte // the payload JSON; stays on the stack unless a URL is very long
	p := s.payload(scratch[:0], jti[:], method, url, ath, nonce, now.Unix())
	enc := base64.RawURLEncoding
	jws := make([]byte, 0, len(s.header)+1+enc.EncodedLen(len(p))+1+enc.EncodedLen(64))
	jws = append(jws, s.header...)
	jws = append(jws, '.')
	return enc.AppendEncode(jws, p), nil
}

// finish appends the signature to the signing input: the compact JWS (RFC 7515 §7.1).
func finish(jws []byte, sig *[64]byte) string {
	jws = append(jws, '.')
	return string(base64.RawURLEncoding.AppendEncode(jws, sig[:]))
}

// payload appends the proof's claims (RFC 9449 §4.2) to p.
func (s *Signer) payload(p, jti []byte, method, url, ath, nonce string, iat int64) []byte {
	p = append(p, `{"jti":"`...)
	p = base64.RawURLEncoding.AppendEncode(p, jti)
	p = append(p, `","htm":`...)
	p = jose.AppendJSONString(p, method)
	p = append(p, `,"htu":`...)
	p = jose.AppendJSONString(p, url)
	p = append(p, `,"iat":`...)
	p = strconv.AppendInt(p, iat, 10)
	if ath != "" {
		p = append(p, `,"ath":`...)
		p = jose.AppendJSONString(p, ath)
	}
	if nonce != "" {
		p = append(p, `,"nonce":`...)
		p = jose.AppendJSONString(p, nonce)
	}
	return append(p, '}')
}

// sign is ES256 over the JWS signing input, as JWS wants it: r ‖ s, 32 bytes each (RFC 7518
// §3.4), not the DER the Go API returns.
//
// The signature is deterministic (RFC 6979 §3, crypto/ecdsa with a nil random source): the
// nonce k comes from HMAC-SHA-256 over the key and the digest, so a failing random source can
// never leak the key, and it skips the hedged signer's SHA-512 DRBG (a quarter of a signature's
// time). Determinism reveals only that two identical messages were signed; every proof carries a
// fresh random jti (RFC 9449 §4.2), so no two proofs are identical and none is linkable to
// another through its signature.
func (s *Signer) sign(input []byte) ([64]byte, error) {
	digest := sha256.Sum256(input)
	der, err := s.key.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		return [64]byte{}, fmt.Errorf("dpop proof signature: %w", err)
	}
	return rawSignature(der)
}

// TokenHash is ath: base64url(SHA-256(ASCII access token)) (RFC 9449 §4.2).
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
