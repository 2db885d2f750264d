// Package dpopkey is the client side of DPoP (RFC 9449): a P-256 key per profile and the
// proofs it signs for the token endpoint (login, refresh) and for every request the tunnel and
// `pingedge token` make. The edge's checks are in internal/verify/dpop.
package dpopkey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// Signer makes DPoP proofs (RFC 9449 §4.2) with one P-256 key: the client side (login, token,
// the tunnel). The header, with the public jwk, is encoded once; a proof then costs one JSON
// payload, one SHA-256 and one ECDSA signature.
type Signer struct {
	key    *ecdsa.PrivateKey
	header string // base64url of {"alg":"ES256","typ":"dpop+jwt","jwk":{...}}
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
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	p := make([]byte, 0, 256)
	p = append(p, `{"jti":"`...)
	p = base64.RawURLEncoding.AppendEncode(p, jti[:])
	p = append(p, `","htm":`...)
	p, _ = appendJSON(p, method)
	p = append(p, `,"htu":`...)
	p, _ = appendJSON(p, url)
	p = append(p, `,"iat":`...)
	p = strconv.AppendInt(p, now.Unix(), 10)
	if token != "" {
		p = append(p, `,"ath":"`...)
		p = append(p, TokenHash(token)...)
		p = append(p, '"')
	}
	if nonce != "" {
		p = append(p, `,"nonce":`...)
		p, _ = appendJSON(p, nonce)
	}
	p = append(p, '}')
	input := s.header + "." + base64.RawURLEncoding.EncodeToString(p)
	digest := sha256.Sum256([]byte(input))
	r, ss, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", err
	}
	var sig [64]byte
	r.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig[:]), nil
}

func appendJSON(b []byte, s string) ([]byte, error) {
	j, err := json.Marshal(s)
	return append(b, j...), err
}

// TokenHash is ath: base64url(SHA-256(ASCII access token)) (RFC 9449 §4.2).
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
