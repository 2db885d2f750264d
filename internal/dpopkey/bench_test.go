//go:build unix

package dpopkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The proof benchmarks, run together so their figures come from one machine state
// (docs/performance.md, "DPoP in the tunnel"):
//
//	go test -run X -bench 'Proof|Sign' -benchmem -count 5 ./internal/dpopkey/
//
// BenchmarkProofOverhead is what a proof costs besides the ECDSA signature (the target: < 3 µs);
// BenchmarkSignDeterministic is the signature alone, the floor; BenchmarkSignHedged is the
// randomised signature the signer used before, for comparison. Each also reports cpu-ns/op, the
// process's CPU time (GC included) per proof: on a machine shared with other work it moves far
// less than ns/op, which is wall time.

const benchURL = "https://api.example.com/items"

// BenchmarkProof is the client's cost of one proof with the token hashed each time (login,
// `pingedge token`).
func BenchmarkProof(b *testing.B) {
	s, tok := testSignerB(b), strings.Repeat("t", 900)
	now := time.Now()
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		if _, err := s.Proof("GET", benchURL, tok, "", now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProofWithHash is the tunnel's cost per request: ath kept beside the token.
func BenchmarkProofWithHash(b *testing.B) {
	s, ath := testSignerB(b), TokenHash(strings.Repeat("t", 900))
	now := time.Now()
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		if _, err := s.ProofWithHash("GET", benchURL, ath, "", now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProofOverhead is everything ProofWithHash does except the ECDSA signature: jti,
// payload, base64, the digest, the DER to r ‖ s conversion and the final string.
func BenchmarkProofOverhead(b *testing.B) {
	s, ath := testSignerB(b), TokenHash(strings.Repeat("t", 900))
	digest := sha256.Sum256([]byte("x"))
	der, _ := s.key.Sign(nil, digest[:], crypto.SHA256)
	now := time.Now()
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		jws, err := s.signingInput("GET", benchURL, ath, "", now)
		if err != nil {
			b.Fatal(err)
		}
		_ = sha256.Sum256(jws)
		sig, err := rawSignature(der)
		if err != nil {
			b.Fatal(err)
		}
		_ = finish(jws, &sig)
	}
}

// BenchmarkSignDeterministic is the RFC 6979 P-256 signature the signer uses, alone.
func BenchmarkSignDeterministic(b *testing.B) {
	s := testSignerB(b)
	digest := sha256.Sum256([]byte("x"))
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		if _, err := s.key.Sign(nil, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignHedged is the randomised signature (SHA-512 hedged DRBG), for comparison.
func BenchmarkSignHedged(b *testing.B) {
	s := testSignerB(b)
	digest := sha256.Sum256([]byte("x"))
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		if _, err := ecdsa.SignASN1(rand.Reader, s.key, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignColdCache is the signature after 4 MB of other memory was touched, as a request's
// other work would: sign-cpu-ns/op against BenchmarkSignDeterministic's cpu-ns/op says whether
// cold caches make the tunnel's signatures dearer than the loop's (docs/performance.md).
func BenchmarkSignColdCache(b *testing.B) {
	s := testSignerB(b)
	digest := sha256.Sum256([]byte("x"))
	other := make([]byte, 4<<20)
	var signing time.Duration
	for b.Loop() {
		for i := 0; i < len(other); i += 64 { // one write per cache line
			other[i]++
		}
		start := cpuTime()
		if _, err := s.key.Sign(nil, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
		signing += cpuTime() - start
	}
	b.ReportMetric(float64(signing.Nanoseconds())/float64(b.N), "sign-cpu-ns/op")
}

// cpuPerOp starts counting the process's CPU time; the function it returns reports it per op.
func cpuPerOp(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op") }
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
