package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"sync"
	"testing"
)

var enc = base64.RawURLEncoding.EncodeToString

type signer struct {
	kid  string
	alg  Algorithm
	priv crypto.Signer
}

var (
	signersOnce sync.Once
	signers     map[Algorithm]*signer
)

// testSigners returns one freshly generated key per algorithm family, made once per test
// binary (RSA generation is slow under -race).
func testSigners(t testing.TB) map[Algorithm]*signer {
	t.Helper()
	signersOnce.Do(func() {
		rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
		p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		_, ed, _ := ed25519.GenerateKey(rand.Reader)
		signers = map[Algorithm]*signer{RS256: {"rsa-1", RS256, rsa2048}, ES256: {"ec-1", ES256, p256}, EdDSA: {"ed-1", EdDSA, ed}}
	})
	return signers
}

// jwkOf renders the public JWK of a key (alg omitted unless given).
func jwkOf(kid string, pub crypto.PublicKey, alg Algorithm) map[string]any {

	m := map[string]any{"kid": kid, "use": "sig"}
	if alg != "" {
		m["alg"] = string(alg)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", enc(k.N.Bytes()), enc(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		m["kty"], m["crv"] = "EC", k.Curve.Params().Name
		m["x"], m["y"] = enc(k.X.FillBytes(make([]byte, size))), enc(k.Y.FillBytes(make([]byte, size)))
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", enc(k)
	}
	return m
}

func jwksOf(keys ...map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		panic(err)
	}
	return b
}
