package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha256" // hashes for RS/PS/ES256
	_ "crypto/sha512" // hashes for RS/PS/ES384 and 512
	"math/big"
	"strings"
)

// Algorithm is a JWS "alg" value pingedge can verify (RFC 7518 §3.1, RFC 8037 §3.1).
type Algorithm string

// The asymmetric algorithms pingedge verifies. Symmetric (HS*) algorithms are never accepted:
// an edge that holds an HMAC secret could also mint tokens, and an HS key built from a public
// key is the classic key-confusion attack (RFC 8725 §2.1).
const (
	RS256 Algorithm = "RS256"
	RS384 Algorithm = "RS384"
	RS512 Algorithm = "RS512"
	PS256 Algorithm = "PS256"
	PS384 Algorithm = "PS384"
	PS512 Algorithm = "PS512"
	ES256 Algorithm = "ES256"
	ES384 Algorithm = "ES384"
	EdDSA Algorithm = "EdDSA"
)

// SupportedAlgorithms lists every algorithm in the order docs show them.
var SupportedAlgorithms = []Algorithm{RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA}

type algFamily int

const (
	famRSA algFamily = iota + 1
	famPSS
	famECDSA
	famEdDSA
)

type algSpec struct {
	family algFamily
	hash   crypto.Hash
	curve  elliptic.Curve // ECDSA only
	size   int            // ECDSA: bytes of r and of s
}

func specOf(a Algorithm) (algSpec, bool) {
	switch a {
	case RS256:
		return algSpec{family: famRSA, hash: crypto.SHA256}, true
	case RS384:
		return algSpec{family: famRSA, hash: crypto.SHA384}, true
	case RS512:
		return algSpec{family: famRSA, hash: crypto.SHA512}, true
	case PS256:
		return algSpec{family: famPSS, hash: crypto.SHA256}, true
	case PS384:
		return algSpec{family: famPSS, hash: crypto.SHA384}, true
	case PS512:
		return algSpec{family: famPSS, hash: crypto.SHA512}, true
	case ES256:
		return algSpec{family: famECDSA, hash: crypto.SHA256, curve: elliptic.P256(), size: 32}, true
	case ES384:
		return algSpec{family: famECDSA, hash: crypto.SHA384, curve: elliptic.P384(), size: 48}, true
	case EdDSA:
		return algSpec{family: famEdDSA}, true
	}
	return algSpec{}, false
}

// CheckAlg refuses none in any spelling, every symmetric algorithm, anything unknown, and
// anything outside allowed (nil allows every supported algorithm).
func CheckAlg(alg string, allowed []Algorithm) (Algorithm, error) {
	switch {
	case strings.EqualFold(alg, "none"):
		return "", errorf(ErrAlgorithm, "alg %s: unsigned tokens are never accepted", QuoteShort(alg))
	case len(alg) >= 2 && strings.EqualFold(alg[:2], "HS"):
		return "", errorf(ErrAlgorithm, "alg %s: symmetric algorithms are never accepted", QuoteShort(alg))
	}
	a := Algorithm(alg)
	if _, ok := specOf(a); !ok {
		return "", errorf(ErrAlgorithm, "alg %s is not supported", QuoteShort(alg))
	}
	if allowed != nil && !containsAlg(allowed, a) {
		return "", errorf(ErrAlgorithm, "alg %s is not in the policy's algorithms", alg)
	}
	return a, nil
}

func containsAlg(list []Algorithm, a Algorithm) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// VerifySignature checks sig over signingInput with key for alg. The key's type must be the
// one alg needs, and when the key names an alg it must be this one (RFC 7517 §4.4).
func VerifySignature(alg Algorithm, key *Key, signingInput, sig []byte) error {
	spec, ok := specOf(alg)
	if !ok {
		return errorf(ErrAlgorithm, "alg %s is not supported", alg)
	}
	if err := key.fits(alg, spec); err != nil {
		return err
	}
	switch spec.family {
	case famEdDSA:
		pub := key.Public.(ed25519.PublicKey)
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, signingInput, sig) {
			return errorf(ErrSignature, "EdDSA signature does not verify")
		}
		return nil
	}
	h := spec.hash.New()
	h.Write(signingInput)
	var sum [64]byte
	digest := h.Sum(sum[:0])
	switch spec.family {
	case famRSA:
		if rsa.VerifyPKCS1v15(key.Public.(*rsa.PublicKey), spec.hash, digest, sig) != nil {
			return errorf(ErrSignature, "%s signature does not verify", alg)
		}
	case famPSS:
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: spec.hash}
		if rsa.VerifyPSS(key.Public.(*rsa.PublicKey), spec.hash, digest, sig, opts) != nil {
			return errorf(ErrSignature, "%s signature does not verify", alg)
		}
	case famECDSA:
		return verifyECDSA(alg, spec, key.Public.(*ecdsa.PublicKey), digest, sig)
	}
	return nil
}

// verifyECDSA accepts only the fixed-length r‖s form of RFC 7518 §3.4: a DER signature, or an
// r‖s with extra or missing bytes, is refused before any arithmetic.
func verifyECDSA(alg Algorithm, spec algSpec, pub *ecdsa.PublicKey, digest, sig []byte) error {
	if len(sig) != 2*spec.size {
		return errorf(ErrSignature, "%s signature must be %d bytes (r‖s), got %d", alg, 2*spec.size, len(sig))
	}
	r := new(big.Int).SetBytes(sig[:spec.size])
	s := new(big.Int).SetBytes(sig[spec.size:])
	if !ecdsa.Verify(pub, digest, r, s) {
		return errorf(ErrSignature, "%s signature does not verify", alg)
	}
	return nil
}
