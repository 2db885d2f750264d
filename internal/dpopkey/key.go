package dpopkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
)

// ItemSuffix names a profile's DPoP key in the credential store, next to its refresh token:
// the item for profile "work" is "work.dpop", in the same keychain (or the file store, when
// the profile opted into it).
const ItemSuffix = ".dpop"

// Generate makes a new P-256 proof key.
func Generate() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

// Marshal encodes a key for the credential store: base64url of its PKCS #8 DER.
func Marshal(k *ecdsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(der), nil
}

// Parse decodes what Marshal wrote; anything but a P-256 key is refused.
func Parse(s string) (*ecdsa.PrivateKey, error) {
	der, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("dpopkey: the stored key is not base64url")
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("dpopkey: the stored key is not PKCS #8")
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("dpopkey: the stored key is not a P-256 key")
	}
	return ec, nil
}

// IsTokenRequest reports a POST to a token endpoint: an OAuth form with a grant_type (RFC 6749
// §4.1.3, §6, RFC 8628 §3.4). Device authorization and revocation requests have none, so they
// get no proof.
func IsTokenRequest(r *http.Request) bool {
	if r.Method != http.MethodPost || r.GetBody == nil {
		return false
	}
	body, err := r.GetBody()
	if err != nil {
		return false
	}
	defer body.Close()
	b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	return bytes.HasPrefix(b, []byte("grant_type=")) || bytes.Contains(b, []byte("&grant_type="))
}
