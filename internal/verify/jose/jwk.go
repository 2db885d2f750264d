package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Limits on key material (issue 3, "Limits").
const (
	MaxJWKSBytes  = 64 << 10 // a JWKS document larger than this is refused
	maxKeys       = 100      // keys kept from one JWKS
	MinRSABits    = 2048
	MaxRSABits    = 4096
	MaxKidBytes   = 256
	maxRSAExpBits = 31
)

// ErrJWKS marks a JWKS document or a JWK pingedge refuses.
var ErrJWKS = errors.New("invalid JWKS")

// Key is one verification key from a JWKS.
type Key struct {
	ID     string           // kid
	Type   string           // kty: RSA, EC or OKP
	Alg    Algorithm        // the alg the JWK names, empty when it names none
	Public crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// fits refuses a key of the wrong type for alg, or whose own alg is another one: a kid of an
// RSA key with alg ES256, or an RS256 key with alg PS256, is rejected before any crypto.
func (k *Key) fits(alg Algorithm, spec algSpec) error {
	if k.Alg != "" && k.Alg != alg {
		return errorf(ErrKeyMismatch, "key %s is for %s, token uses %s", QuoteShort(k.ID), k.Alg, alg)
	}
	ok := false
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		ok = spec.family == famRSA || spec.family == famPSS
	case *ecdsa.PublicKey:
		ok = spec.family == famECDSA && pub.Curve == spec.curve
	case ed25519.PublicKey:
		ok = spec.family == famEdDSA
	}
	if !ok {
		return errorf(ErrKeyMismatch, "key %s (%s) cannot verify %s", QuoteShort(k.ID), k.Type, alg)
	}
	return nil
}

// rawJWK holds the members of a JWK pingedge reads; others are ignored (RFC 7517 §4).
type rawJWK struct {
	Kty, Kid, Use, Alg, Crv string
	KeyOps                  []string
	N, E, X, Y              string
	hasPrivate              bool
}

// ParseJWKS parses a JWK Set (RFC 7517 §5) into verification keys. Keys that are not for
// signature verification (use other than "sig", key_ops without "verify"), symmetric keys and
// keys of unsupported types are skipped; a malformed key of a supported type fails the whole
// set, since a half-read set hides mistakes. A set with no usable key is an error.
func ParseJWKS(data []byte) ([]*Key, error) {
	if len(data) > MaxJWKSBytes {
		return nil, fmt.Errorf("%w: document is %d bytes, limit %d", ErrJWKS, len(data), MaxJWKSBytes)
	}
	top, err := ParseObject(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJWKS, err)
	}
	var rawKeys [][]byte
	for _, m := range top {
		if m.Name == "keys" {
			list, ok := rawElements(m.Value)
			if !ok {
				return nil, fmt.Errorf("%w: keys is not an array", ErrJWKS)
			}
			rawKeys = list
		}
	}
	if len(rawKeys) > maxKeys {
		return nil, fmt.Errorf("%w: %d keys, limit %d", ErrJWKS, len(rawKeys), maxKeys)
	}
	keys := make([]*Key, 0, len(rawKeys))
	seen := map[string]bool{}
	for i, raw := range rawKeys {
		k, err := ParseJWK(raw)
		if errors.Is(err, errSkipKey) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("%w: keys[%d]: kid %s appears twice", ErrJWKS, i, QuoteShort(k.ID))
		}
		seen[k.ID] = true
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no signature verification key in the set", ErrJWKS)
	}
	return keys, nil
}

var errSkipKey = errors.New("not a verification key")

// ParseJWK parses one public JWK of type RSA, EC (P-256, P-384) or OKP (Ed25519).
func ParseJWK(data []byte) (*Key, error) {
	r, err := readJWK(data)
	if err != nil {
		return nil, err
	}
	if !r.forVerify() {
		return nil, errSkipKey
	}
	if r.hasPrivate {
		return nil, fmt.Errorf("%w: kid %s carries private key material", ErrJWKS, QuoteShort(r.Kid))
	}
	if len(r.Kid) > MaxKidBytes {
		return nil, fmt.Errorf("%w: kid longer than %d bytes", ErrJWKS, MaxKidBytes)
	}
	k := &Key{ID: r.Kid, Type: r.Kty, Alg: Algorithm(r.Alg)}
	if r.Alg != "" {
		if _, ok := specOf(k.Alg); !ok {
			return nil, errSkipKey // an HS256 or unknown-alg key is never used
		}
	}
	switch r.Kty {
	case "RSA":
		k.Public, err = r.rsaKey()
	case "EC":
		k.Public, err = r.ecKey()
	case "OKP":
		k.Public, err = r.okpKey()
	default:
		return nil, errSkipKey
	}
	if errors.Is(err, errSkipKey) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: kid %s: %w", ErrJWKS, QuoteShort(r.Kid), err)
	}
	return k, nil
}

// readJWK reads a key's members with the strict scanner's helpers, as encoding/json would into
// strings (null leaves a member unset) but without it: in a cold Worker isolate, decoding the
// first key set through encoding/json's reflection was most of the first verified request's
// own Go time (docs/performance.md). Strings kept in the Key are copied out of data.
func readJWK(data []byte) (*rawJWK, error) {
	members, err := ParseObject(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJWKS, err)
	}
	r := &rawJWK{}
	strs := map[string]*string{"kty": &r.Kty, "kid": &r.Kid, "use": &r.Use, "alg": &r.Alg,
		"crv": &r.Crv, "n": &r.N, "e": &r.E, "x": &r.X, "y": &r.Y}
	for _, m := range members {
		if dst, ok := strs[m.Name]; ok {
			if string(m.Value) == "null" {
				continue
			}
			v, ok := jsonString(m.Value)
			if !ok {
				return nil, fmt.Errorf("%w: %s is not a string", ErrJWKS, m.Name)
			}
			*dst = strings.Clone(v)
			continue
		}
		switch m.Name {
		case "key_ops":
			ops, ok := stringArray(m.Value)
			if !ok {
				return nil, fmt.Errorf("%w: key_ops is not an array of strings", ErrJWKS)
			}
			r.KeyOps = ops
		case "d", "p", "q", "dp", "dq", "qi", "k":
			r.hasPrivate = true
		}
	}
	return r, nil
}

func (r *rawJWK) forVerify() bool {
	if r.Use != "" && r.Use != "sig" {
		return false
	}
	if r.KeyOps != nil {
		for _, op := range r.KeyOps {
			if op == "verify" {
				return true
			}
		}
		return false
	}
	return true
}

var b64 = base64.RawURLEncoding.Strict()

func (r *rawJWK) rsaKey() (*rsa.PublicKey, error) {
	n, err := b64.DecodeString(r.N)
	if err != nil || len(n) == 0 || n[0] == 0 {
		return nil, errors.New("n is not unpadded base64url of a big-endian integer without leading zeros")
	}
	e, err := b64.DecodeString(r.E)
	if err != nil || len(e) == 0 || e[0] == 0 || len(e) > 4 {
		return nil, errors.New("e is not a small base64url integer")
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n)}
	if bits := pub.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
		return nil, fmt.Errorf("RSA modulus is %d bits; pingedge accepts %d to %d", bits, MinRSABits, MaxRSABits)
	}
	exp := new(big.Int).SetBytes(e)
	if exp.BitLen() > maxRSAExpBits || exp.Int64() < 3 || exp.Bit(0) == 0 {
		return nil, errors.New("RSA exponent must be odd and between 3 and 2^31")
	}
	pub.E = int(exp.Int64())
	return pub, nil
}

func (r *rawJWK) ecKey() (*ecdsa.PublicKey, error) {
	var spec algSpec
	switch r.Crv {
	case "P-256":
		spec, _ = specOf(ES256)
	case "P-384":
		spec, _ = specOf(ES384)
	default:
		return nil, errSkipKey // P-521 and others: skipped, not an error for the whole set
	}
	x, errX := b64.DecodeString(r.X)
	y, errY := b64.DecodeString(r.Y)
	if errX != nil || errY != nil || len(x) != spec.size || len(y) != spec.size {
		return nil, fmt.Errorf("x and y must be %d-byte base64url values", spec.size)
	}
	// ecdsa.ParseUncompressedPublicKey checks the point is on the curve and not the identity.
	point := append(append([]byte{4}, x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(spec.curve, point)
	if err != nil {
		return nil, errors.New("the point is not on the curve")
	}
	return pub, nil
}

func (r *rawJWK) okpKey() (ed25519.PublicKey, error) {
	if r.Crv != "Ed25519" {
		return nil, errSkipKey // Ed448, X25519: not verification keys pingedge uses
	}
	x, err := b64.DecodeString(r.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, errors.New("x must be a 32-byte base64url value")
	}
	return ed25519.PublicKey(x), nil
}
