package verify

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

// mapStore is a ResultStore over a map: it records every put's ttl, like KV's expirationTtl.
type mapStore struct {
	mu   sync.Mutex
	vals map[string][]byte
	ttls map[string]time.Duration
	gets int
}

func newMapStore() *mapStore {
	return &mapStore{vals: map[string][]byte{}, ttls: map[string]time.Duration{}}
}

func (s *mapStore) Get(_ context.Context, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	v, ok := s.vals[key]
	return v, ok
}

func (s *mapStore) Put(_ context.Context, key string, value []byte, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals[key], s.ttls[key] = append([]byte(nil), value...), ttl
}

// countingKeys counts the key lookups a signature check needs.
type countingKeys struct {
	jose.KeySet
	mu    sync.Mutex
	calls int
}

func (k *countingKeys) Key(ctx context.Context, kid string, alg jose.Algorithm) (*jose.Key, error) {
	k.mu.Lock()
	k.calls++
	k.mu.Unlock()
	return k.KeySet.Key(ctx, kid, alg)
}

func (k *countingKeys) n() int { k.mu.Lock(); defer k.mu.Unlock(); return k.calls }

// storeEngine is a fresh engine (empty in-memory cache: a cold isolate) on store, whose key
// set holds the test keys, or none when empty.
func storeEngine(t *testing.T, clk *clock, store ResultStore, empty bool, mod func(*policy.Policy)) (*Engine, *countingKeys) {
	t.Helper()
	var ks jose.KeySet = jose.NewStaticKeys()
	if !empty {
		var err error
		if ks, err = jose.NewStaticKeySet(testJWKS(t)); err != nil {
			t.Fatal(err)
		}
	}
	keys := &countingKeys{KeySet: ks}
	p := testPolicy()
	p.Leeway, p.Default = 10*time.Second, policy.AccessAuthenticated
	if mod != nil {
		mod(p)
	}
	e, err := NewEngine(p, EngineOptions{KeySet: keys, Now: clk.Now, ResultStore: store})
	if err != nil {
		t.Fatal(err)
	}
	return e, keys
}

func storeKey(tok string) string {
	k := tokenKey(tok)
	return hex.EncodeToString(k[:])
}

func expIn(d time.Duration) map[string]any {
	return withClaims(func(c map[string]any) { c["exp"] = testNow.Add(d).Unix() })
}

func decideGET(e *Engine, tok string) Decision {
	return e.Decide(bg, Request{Method: "GET", Path: "/x", Token: tok})
}

// TestResultStoreHit: a result one engine verified is answered by a cold engine from the
// store without a key lookup (its key set is empty, so a signature check could not succeed),
// and the store holds the token's hash and payload, never the token.
func TestResultStoreHit(t *testing.T) {
	clk := &clock{t: testNow}
	store := newMapStore()
	tok := mint(t, jose.ES256, goodClaims(), nil)
	warm, _ := storeEngine(t, clk, store, false, nil)
	if d := decideGET(warm, tok); !d.Allow {
		t.Fatal(d.Reason)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	for k, v := range store.vals {
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(k) || k != storeKey(tok) {
			t.Errorf("store key %q, want the hex SHA-256 of the token", k)
		}
		if string(v) != string(payload) || strings.Contains(string(v), tok) {
			t.Errorf("store value %q, want the token's claims JSON only", v)
		}
	}
	cold, keys := storeEngine(t, clk, store, true, nil)
	for range 3 {
		d := decideGET(cold, tok)
		if !d.Allow || d.Claims.Subject != "user-1" || !d.Claims.HasRole("engineer") || d.Claims.Header.Kid != "ec-1" {
			t.Fatalf("from the store: %+v", d)
		}
	}
	m := cold.Metrics().Snapshot()
	if keys.n() != 0 || m.StoreHits != 1 || m.StoreMisses != 0 || m.CacheHits != 2 {
		t.Fatalf("key lookups %d, metrics %+v: want 0 lookups, 1 store hit, then the memory cache", keys.n(), m)
	}
	if store.gets != 2 { // warm's miss and cold's hit
		t.Errorf("store read %d times, want 2", store.gets)
	}
}

// TestResultStoreRefused: entries that are expired, altered or no longer fit the policy are
// refused; the token is then verified in full (a key lookup), so the answer is a fresh one.
func TestResultStoreRefused(t *testing.T) {
	cases := []struct {
		name    string
		claims  map[string]any
		value   func(payload []byte) []byte // nil: what the warm engine stored
		advance time.Duration
		policy  func(*policy.Policy)
		status  int // with the full key set
	}{
		// exp is 2 min ahead; 5 s past it the leeway still lets a fresh check pass, but a
		// stored result is never used past exp itself.
		{name: "expired", claims: expIn(2 * time.Minute), advance: 2*time.Minute + 5*time.Second, status: 200},
		{name: "long expired", claims: expIn(2 * time.Minute), advance: time.Hour, status: 401},
		{name: "not JSON", claims: goodClaims(), value: func([]byte) []byte { return []byte("{not json") }, status: 200},
		{name: "other iss", claims: goodClaims(), value: func(p []byte) []byte {
			return []byte(strings.Replace(string(p), testIssuer, "https://evil.example.com", 1))
		}, status: 200},
		{name: "other aud", claims: goodClaims(), value: func(p []byte) []byte {
			return []byte(strings.Replace(string(p), testAudience, "https://other.example.com", 1))
		}, status: 200},
		{name: "more roles", claims: goodClaims(), value: func(p []byte) []byte {
			return []byte(strings.Replace(string(p), `"engineer"`, `"admin"`, 1))
		}, status: 200},
		{name: "policy audience changed", claims: goodClaims(), status: 401,
			policy: func(p *policy.Policy) { p.Audience = []string{"https://other.example.com"} }},
		{name: "policy issuer changed", claims: goodClaims(), status: 401,
			policy: func(p *policy.Policy) { p.Issuer = "https://issuer.example.com/other" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: testNow}
			store := newMapStore()
			tok := mint(t, jose.ES256, tc.claims, nil)
			warm, _ := storeEngine(t, clk, store, false, nil)
			if d := decideGET(warm, tok); !d.Allow {
				t.Fatal(d.Reason)
			}
			if tc.value != nil {
				k := storeKey(tok)
				store.vals[k] = tc.value(store.vals[k])
			}
			clk.Advance(tc.advance)
			// With no keys the refused entry leaves nothing to allow with.
			empty, _ := storeEngine(t, clk, store, true, tc.policy)
			if d := decideGET(empty, tok); d.Allow {
				t.Fatalf("refused entry allowed: %+v", d)
			}
			if m := empty.Metrics().Snapshot(); m.StoreHits != 0 || m.StoreMisses != 1 {
				t.Errorf("metrics %+v, want one store miss", m)
			}
			full, keys := storeEngine(t, clk, store, false, tc.policy)
			if d := decideGET(full, tok); d.Status != tc.status || keys.n() != 1 {
				t.Fatalf("status %d (%s) with %d key lookups, want %d after a full check", d.Status, d.Reason, keys.n(), tc.status)
			}
		})
	}
}

// TestResultStoreTTL: ttl = min(cache_ttl, exp - now), and no put under 60 s (KV's minimum).
func TestResultStoreTTL(t *testing.T) {
	cases := []struct {
		name     string
		exp      time.Duration
		cacheTTL time.Duration
		want     time.Duration // 0: nothing stored
	}{
		{"cache_ttl first", 10 * time.Minute, 5 * time.Minute, 5 * time.Minute},
		{"exp first", 90 * time.Second, 5 * time.Minute, 90 * time.Second},
		{"exactly 60 s", 60 * time.Second, 5 * time.Minute, 60 * time.Second},
		{"exp too close", 59 * time.Second, 5 * time.Minute, 0},
		{"cache_ttl too short", 10 * time.Minute, 30 * time.Second, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: testNow}
			store := newMapStore()
			e, _ := storeEngine(t, clk, store, false, func(p *policy.Policy) { p.CacheTTL = tc.cacheTTL })
			tok := mint(t, jose.ES256, expIn(tc.exp), nil)
			if d := decideGET(e, tok); !d.Allow {
				t.Fatal(d.Reason)
			}
			ttl, ok := store.ttls[storeKey(tok)]
			if tc.want == 0 && ok || tc.want != 0 && ttl != tc.want {
				t.Fatalf("stored %v (present %v), want %v", ttl, ok, tc.want)
			}
		})
	}
}

// TestResultStoreNotAskedForGarbage: a token refused by the key-free checks costs no store
// read and writes nothing.
func TestResultStoreNotAskedForGarbage(t *testing.T) {
	clk := &clock{t: testNow}
	store := newMapStore()
	e, _ := storeEngine(t, clk, store, false, nil)
	none, _ := json.Marshal(map[string]string{"alg": "none"})
	for _, tok := range []string{"x", "a.b.c", base64.RawURLEncoding.EncodeToString(none) + ".e30."} {
		if d := decideGET(e, tok); d.Allow {
			t.Fatalf("%q allowed", tok)
		}
	}
	if store.gets != 0 || len(store.vals) != 0 {
		t.Fatalf("store read %d times, holds %d", store.gets, len(store.vals))
	}
}
