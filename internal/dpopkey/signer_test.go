package dpopkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/pingedge/pingedge/internal/verify/dpop"
)

// edgeConfig is the edge's own proof check (internal/verify/dpop), with a replay cache and a
// server nonce, as `edge serve` runs it.
func edgeConfig(t *testing.T, now time.Time) dpop.Config {
	nonces, err := dpop.NewNonces(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return dpop.Config{Lifetime: time.Minute, Leeway: 5 * time.Second, Now: func() time.Time { return now },
		Replay: dpop.NewReplayCache(100, time.Minute, 5*time.Second), Nonces: nonces}
}

// TestProofPassesTheEdge: proofs from Proof and ProofWithHash, for plain and escaped URLs and a
// nonce, pass the edge's checks; the same proof a second time is a replay.
func TestProofPassesTheEdge(t *testing.T) {
	s, now := testSigner(t), time.Now()
	cfg := edgeConfig(t, now)
	nonce := cfg.Nonces.Current(now)
	tok := strings.Repeat("t", 900)
	for _, u := range []string{"https://api.example.com/items", "http://127.0.0.1:8080/a&b/%3Cc%3E", "https://h/ü"} {
		e := dpop.Expect{Method: "POST", URL: u, AccessToken: tok, JKT: s.JKT()}
		a, err := s.Proof("POST", u, tok, nonce, now)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.ProofWithHash("POST", u, TokenHash(tok), nonce, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{a, b} {
			if _, err := dpop.Check(p, e, cfg); err != nil {
				t.Fatalf("%s: the edge refused the proof: %v", u, err)
			}
		}
		if _, err := dpop.Check(a, e, cfg); !errors.Is(err, dpop.ErrProof) {
			t.Fatalf("%s: a replayed proof: %v, want ErrProof", u, err)
		}
	}
}

// TestDERSignatureRefused (Wycheproof's "signature in the wrong encoding"): the same signature
// in ASN.1 DER instead of r ‖ s does not pass the edge, so the conversion is not optional.
func TestDERSignatureRefused(t *testing.T) {
	s, now := testSigner(t), time.Now()
	tok := "tok"
	input, err := s.signingInput("GET", "https://h/x", TokenHash(tok), "", now)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(input)
	der, err := s.key.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	proof := string(input) + "." + base64.RawURLEncoding.EncodeToString(der)
	e := dpop.Expect{Method: "GET", URL: "https://h/x", AccessToken: tok, JKT: s.JKT()}
	cfg := edgeConfig(t, now)
	cfg.Nonces = nil
	if _, err := dpop.Check(proof, e, cfg); !errors.Is(err, dpop.ErrProof) || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("a DER signature: %v, want a signature failure", err)
	}
	raw, err := rawSignature(der)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dpop.Check(finish(input, &raw), e, cfg); err != nil {
		t.Fatalf("the same signature as r ‖ s: %v", err)
	}
}

// TestSignatureDeterministic: the signature is RFC 6979's (one per message, so the same input
// signs the same), and two proofs for the same request still differ (the jti).
func TestSignatureDeterministic(t *testing.T) {
	s, now := testSigner(t), time.Now()
	input := []byte("header.payload")
	a, errA := s.sign(input)
	b, errB := s.sign(input)
	if errA != nil || errB != nil || a != b {
		t.Fatalf("two signatures of one input differ (%v, %v): not RFC 6979", errA, errB)
	}
	r, ss := new(big.Int).SetBytes(a[:32]), new(big.Int).SetBytes(a[32:])
	digest := sha256.Sum256(input)
	if !ecdsa.Verify(&s.key.PublicKey, digest[:], r, ss) {
		t.Fatal("r ‖ s does not verify")
	}
	p1, _ := s.Proof("GET", "https://h/x", "t", "", now)
	p2, _ := s.Proof("GET", "https://h/x", "t", "", now)
	if p1 == p2 {
		t.Fatal("two proofs for one request are identical")
	}
}

// derSig encodes r and s as an ECDSA-Sig-Value.
func derSig(r, s *big.Int) []byte {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1BigInt(r); b.AddASN1BigInt(s) })
	return b.BytesOrPanic()
}

// TestRawSignatureRefuses: the encodings a broken signer could return are errors, not proofs.
func TestRawSignatureRefuses(t *testing.T) {
	one, big33 := big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 256)
	ok := derSig(one, one)
	for name, der := range map[string][]byte{
		"empty": nil, "trailing data": append(append([]byte{}, ok...), 0),
		"r of 33 bytes": derSig(big33, one), "negative s": derSig(one, big.NewInt(-1)),
		"zero r": derSig(new(big.Int), one), "truncated": ok[:len(ok)-3],
		"one integer":   {0x30, 0x03, 0x02, 0x01, 0x01},
		"non-minimal r": {0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01},
	} {
		if _, err := rawSignature(der); !errors.Is(err, errSignature) {
			t.Errorf("%s: %v, want errSignature", name, err)
		}
	}
	if got, err := rawSignature(ok); err != nil || got[31] != 1 || got[63] != 1 {
		t.Fatalf("r = s = 1: %x %v", got, err)
	}
}

// FuzzRawSignature: for any r, s below 2^256 the DER converts to their 32-byte big-endian
// halves; and any input that converts is the canonical DER of what it converted to, so no
// second encoding of a signature is accepted.
func FuzzRawSignature(f *testing.F) {
	f.Add([]byte{1}, []byte{0xff, 2}, []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, rb, sb, arbitrary []byte) {
		r, s := new(big.Int).SetBytes(rb), new(big.Int).SetBytes(sb)
		got, err := rawSignature(derSig(r, s))
		valid := r.Sign() > 0 && s.Sign() > 0 && r.BitLen() <= 256 && s.BitLen() <= 256
		if valid != (err == nil) {
			t.Fatalf("r %x s %x: err %v", r, s, err)
		}
		if valid && (new(big.Int).SetBytes(got[:32]).Cmp(r) != 0 || new(big.Int).SetBytes(got[32:]).Cmp(s) != 0) {
			t.Fatalf("r %x s %x: got %x", r, s, got)
		}
		if got, err := rawSignature(arbitrary); err == nil {
			back := derSig(new(big.Int).SetBytes(got[:32]), new(big.Int).SetBytes(got[32:]))
			if string(back) != string(arbitrary) {
				t.Fatalf("accepted a non-canonical encoding %x (canonical %x)", arbitrary, back)
			}
		}
	})
}
