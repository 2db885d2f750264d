package bridge

import (
	"context"
	"time"

	"github.com/pingedge/pingedge/internal/verify"
)

// KVResultPrefix starts the KV key of a stored validation result; the rest is verify's hex
// SHA-256 of the token, so the namespace never holds a token, and 80 bytes stay far under
// KV's 512-byte key limit. Key sets live under "pingedge:fetch:" in the same namespace.
const KVResultPrefix = "pingedge:result:"

// KV is the part of a Workers KV binding the Worker uses (the shim's kvGet and kvPut).
type KV interface {
	// Get returns the value and whether it was present.
	Get(ctx context.Context, key string) (string, bool, error)
	// Put writes value with an expirationTtl of ttlSeconds.
	Put(ctx context.Context, key, value string, ttlSeconds int) error
}

// ResultStore is verify.ResultStore on Workers KV: a result verified in one isolate answers
// the same token in every other isolate and colo until min(cache_ttl, exp). KV is eventually
// consistent and may keep a value a little past its expirationTtl; verify refuses a stored
// result at exp whatever KV returns, so neither makes an answer more lenient.
type ResultStore struct {
	KV  KV
	Log func(msg string) // told when KV fails (never a token); nil: silent
}

var _ verify.ResultStore = ResultStore{}

// Get reads a stored result; a KV failure is a miss (the token is then verified in full).
func (s ResultStore) Get(ctx context.Context, key string) ([]byte, bool) {
	v, ok, err := s.KV.Get(ctx, KVResultPrefix+key)
	if err != nil {
		s.log("pingedge: validation result not read from KV: " + err.Error())
		return nil, false
	}
	if !ok || v == "" {
		return nil, false
	}
	return []byte(v), true
}

// Put stores a result. The expirationTtl is ttl rounded down to whole seconds, so it never
// reaches past the token's exp; under 60 s (KV's minimum) nothing is written.
func (s ResultStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) {
	secs := int(ttl / time.Second)
	if secs < int(kvMinTTL/time.Second) {
		return
	}
	if err := s.KV.Put(ctx, KVResultPrefix+key, string(value), secs); err != nil {
		s.log("pingedge: validation result not written to KV: " + err.Error())
	}
}

func (s ResultStore) log(msg string) {
	if s.Log != nil {
		s.Log(msg)
	}
}
