package devop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// signingKey is one private key; it is op.SigningKey.
type signingKey struct {
	id   string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.priv }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is the public half of a signingKey; it is op.Key, served in the JWKS.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.alg }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.priv.Public() }

// keyRing holds the current signing key and the one before it. Serving the
// previous key keeps tokens signed just before a rotation verifiable, which
// is how real issuers roll keys.
type keyRing struct {
	mu       sync.RWMutex
	alg      jose.SignatureAlgorithm
	current  *signingKey
	previous *signingKey
}

func newKeyRing(alg string) (*keyRing, error) {
	r := &keyRing{alg: jose.SignatureAlgorithm(alg)}
	if _, err := r.rotate(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *keyRing) rotate() (string, error) {
	k, err := generateKey(r.alg)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.previous, r.current = r.current, k
	return k.id, nil
}

func (r *keyRing) signing() *signingKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.current
}

func (r *keyRing) public() []op.Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	keys := []op.Key{publicKey{r.current}}
	if r.previous != nil {
		keys = append(keys, publicKey{r.previous})
	}
	return keys
}

func generateKey(alg jose.SignatureAlgorithm) (*signingKey, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case jose.RS256, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("devop: signing algorithm %q not supported: use RS256, PS256 or ES256", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("devop: generate %s key: %w", alg, err)
	}
	return &signingKey{id: randomHex(8), alg: alg, priv: priv}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error (Go 1.24+)
	return hex.EncodeToString(b)
}

// MintAccessToken signs arbitrary claims with the current key, for tests of
// verifiers (wrong audience, missing roles, odd claim shapes). iss, iat, exp
// (now + ttl, or AccessTokenTTL when ttl <= 0) and jti are filled when absent.
// The header carries typ at+jwt (RFC 9068 §2.1) and the key's kid.
func (s *Server) MintAccessToken(claims map[string]any, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		ttl = s.cfg.AccessTokenTTL
	}
	now := time.Now()
	c := maps.Clone(claims)
	if c == nil {
		c = map[string]any{}
	}
	setDefault(c, "iss", s.issuer)
	setDefault(c, "iat", now.Unix())
	setDefault(c, "exp", now.Add(ttl).Unix())
	setDefault(c, "jti", randomHex(16))
	return signJWT(s.store.keys.signing(), c, "at+jwt")
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func signJWT(k *signingKey, claims map[string]any, typ jose.ContentType) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devop: encode claims: %w", err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.id}},
		(&jose.SignerOptions{}).WithType(typ),
	)
	if err != nil {
		return "", fmt.Errorf("devop: signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("devop: sign: %w", err)
	}
	return jws.CompactSerialize()
}
