package dpopkey

import (
	"errors"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// errSignature is a signature crypto/ecdsa returned that is not an ECDSA-Sig-Value for P-256:
// it cannot happen with the standard library, and a proof is never sent with a broken one.
var errSignature = errors.New("dpop proof signature: not a P-256 ECDSA-Sig-Value")

// rawSignature turns an ECDSA-Sig-Value, SEQUENCE { r INTEGER, s INTEGER } in DER (RFC 3279
// §2.2.3), into the fixed 64-byte r ‖ s that ES256 uses (RFC 7518 §3.4). r and s must be
// positive and minimally encoded, fit in 32 bytes, and nothing may follow them.
func rawSignature(der []byte) ([64]byte, error) {
	var out [64]byte
	var seq cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() {
		return out, errSignature
	}
	for i := range 2 {
		var n []byte // big-endian, no leading zero
		if !seq.ReadASN1Integer(&n) || len(n) > 32 || (len(n) == 1 && n[0] == 0) {
			return out, errSignature
		}
		copy(out[32*i+32-len(n):32*i+32], n)
	}
	if !seq.Empty() {
		return out, errSignature
	}
	return out, nil
}
