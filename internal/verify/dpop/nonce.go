package dpop

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Nonces issues and checks server nonces (RFC 9449 §8) without state: a nonce is a time window
// number and its HMAC under a key made at start. A nonce from the current or the previous
// window is accepted, so a fresh one lives between one and two windows. The key is per process
// (per isolate in the Worker): a nonce from another instance is answered with use_dpop_nonce
// and a new one, which costs the client one retry.
type Nonces struct {
	key    [32]byte
	window time.Duration
}

// NewNonces makes a nonce source whose nonces change every window.
func NewNonces(window time.Duration) (*Nonces, error) {
	n := &Nonces{window: window}
	if _, err := rand.Read(n.key[:]); err != nil {
		return nil, err
	}
	return n, nil
}

// Current is the nonce to send in DPoP-Nonce now.
func (n *Nonces) Current(now time.Time) string { return n.make(n.slot(now)) }

// Valid reports whether s is a nonce this source made for now's window or the one before.
func (n *Nonces) Valid(s string, now time.Time) bool {
	slot := n.slot(now)
	return hmac.Equal([]byte(s), []byte(n.make(slot))) || hmac.Equal([]byte(s), []byte(n.make(slot-1)))
}

func (n *Nonces) slot(now time.Time) uint64 { return uint64(now.UnixNano() / int64(n.window)) }

func (n *Nonces) make(slot uint64) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], slot)
	m := hmac.New(sha256.New, n.key[:])
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}
