package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pingedge/pingedge/internal/dpopkey"
)

// scriptDPoPCmds are the scripts' DPoP fixtures, made fresh per run so no private key is kept
// in the repository and no proof goes stale:
//
//	dpopfixture                          jwks.json, $BOUND (a token bound to the script's DPoP
//	                                     key), $UNBOUND, $JKT; issuer/audience as policy.yaml's
//	dpopproof VAR METHOD URL TOKEN [AGE] $VAR = a proof by the script's key, iat AGE ago (a duration)
func scriptDPoPCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(*testscript.TestScript, bool, []string){
		"dpopfixture": dpopFixture,
		"dpopproof":   dpopProofCmd,
	}
}

func dpopFixture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: dpopfixture")
	}
	sk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	dk, err := dpopkey.Generate()
	ts.Check(err)
	s, err := dpopkey.NewSigner(dk)
	ts.Check(err)
	enc, err := dpopkey.Marshal(dk)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs("dpop.key"), []byte(enc), 0o600))
	jwks, err := json.Marshal(map[string]any{"keys": []any{map[string]any{"alg": "ES256", "crv": "P-256", "kid": "d1",
		"kty": "EC", "use": "sig", "x": b64u(fixed32(sk.X)), "y": b64u(fixed32(sk.Y))}}})
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs("jwks.json"), jwks, 0o644))
	claims := func(bound bool) map[string]any {
		c := map[string]any{"aud": "https://api.example.com", "iss": "https://issuer.example.com", "sub": "alice",
			"roles": []string{"engineer"}, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
		if bound {
			c["cnf"] = map[string]any{"jkt": s.JKT()}
		}
		return c
	}
	ts.Setenv("BOUND", signES256(ts, sk, claims(true)))
	ts.Setenv("UNBOUND", signES256(ts, sk, claims(false)))
	ts.Setenv("JKT", s.JKT())
}

func dpopProofCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 4 || len(args) > 5 {
		ts.Fatalf("usage: dpopproof VAR METHOD URL TOKEN [AGE]")
	}
	raw, err := os.ReadFile(ts.MkAbs("dpop.key"))
	ts.Check(err)
	k, err := dpopkey.Parse(string(raw))
	ts.Check(err)
	s, err := dpopkey.NewSigner(k)
	ts.Check(err)
	at := time.Now()
	if len(args) == 5 {
		age, err := time.ParseDuration(args[4])
		ts.Check(err)
		at = at.Add(-age)
	}
	p, err := s.Proof(args[1], args[2], args[3], "", at)
	ts.Check(err)
	ts.Setenv(args[0], p)
}

// signES256 is a compact JWS (RFC 7515) of claims with typ at+jwt (RFC 9068).
func signES256(ts *testscript.TestScript, k *ecdsa.PrivateKey, claims map[string]any) string {
	h, err := json.Marshal(map[string]string{"alg": "ES256", "kid": "d1", "typ": "at+jwt"})
	ts.Check(err)
	p, err := json.Marshal(claims)
	ts.Check(err)
	in := b64u(h) + "." + b64u(p)
	d := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
	ts.Check(err)
	return in + "." + b64u(append(fixed32(r), fixed32(s)...))
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// fixed32 is n as 32 big-endian bytes (P-256 coordinates and signature halves, RFC 7518 §3.4).
func fixed32(n *big.Int) []byte { return n.FillBytes(make([]byte, 32)) }
