package jose

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/big"
)

// Thumbprint is the RFC 7638 JWK SHA-256 thumbprint of k, base64url without padding: the
// value a DPoP-bound token carries in cnf.jkt (RFC 9449 §6.1). It is computed from the parsed
// public key, not from the JWK's text, so member order, whitespace, optional members (kid, alg,
// use) and leading zeros cannot make two spellings of one key differ (RFC 7638 §3.3).
func Thumbprint(k *Key) (string, error) {
	// RFC 7638 §3.2: only the required members, in lexicographic order, no whitespace.
	var b []byte
	switch pub := k.Public.(type) {
	case *ecdsa.PublicKey:
		crv, size := "", 0
		switch pub.Curve.Params().BitSize {
		case 256:
			crv, size = "P-256", 32
		case 384:
			crv, size = "P-384", 48
		default:
			return "", errors.New("thumbprint: unsupported curve")
		}
		raw, err := pub.Bytes() // 0x04 ‖ x ‖ y, fixed width
		if err != nil {
			return "", errors.New("thumbprint: invalid EC key")
		}
		b = append(b, `{"crv":"`+crv+`","kty":"EC","x":"`...)
		b = b64.AppendEncode(b, raw[1:1+size])
		b = append(b, `","y":"`...)
		b = b64.AppendEncode(b, raw[1+size:])
	case *rsa.PublicKey:
		b = append(b, `{"e":"`...)
		b = b64.AppendEncode(b, big.NewInt(int64(pub.E)).Bytes())
		b = append(b, `","kty":"RSA","n":"`...)
		b = b64.AppendEncode(b, pub.N.Bytes())
	case ed25519.PublicKey:
		b = append(b, `{"crv":"Ed25519","kty":"OKP","x":"`...)
		b = b64.AppendEncode(b, pub)
	default:
		return "", errors.New("thumbprint: unsupported key type")
	}
	b = append(b, `"}`...)
	sum := sha256.Sum256(b)
	return b64.EncodeToString(sum[:]), nil
}
