package verify

import (
	"crypto/sha256"
	"sync"
	"time"
	"unsafe"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// resultCache remembers successful verifications, keyed by SHA-256 of the token (the token
// itself is never stored). An entry lives until the earlier of cache_ttl after it was added
// and the token's exp, so a cached answer is never more lenient than a fresh one. When full,
// an arbitrary entry is evicted (Go's map order), which is O(1) and good enough: the cache only
// saves work, it never decides.
type resultCache struct {
	mu      sync.RWMutex
	max     int
	entries map[[32]byte]*cacheEntry
}

type cacheEntry struct {
	claims  *jose.Claims
	headers map[string]string // identity headers, shared read-only by every decision
	until   time.Time
	jkt     string // cnf.jkt: the DPoP key the token is bound to, "" when unbound
}

// newResultCache starts empty and grows with use. No size hint: 1,024 slots were a large
// allocation that every cold Worker isolate paid before its first answer
// (docs/performance.md, "Where the time went"), to save a few rehashes later.
func newResultCache(max int) *resultCache {
	return &resultCache{max: max, entries: map[[32]byte]*cacheEntry{}}
}

// tokenKey hashes the token without copying it.
func tokenKey(token string) [32]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

func (c *resultCache) get(key [32]byte, now time.Time) *cacheEntry {
	c.mu.RLock()
	e := c.entries[key]
	c.mu.RUnlock()
	if e == nil {
		return nil
	}
	if !now.Before(e.until) {
		c.mu.Lock()
		delete(c.entries, key)
		c.mu.Unlock()
		return nil
	}
	return e
}

func (c *resultCache) put(key [32]byte, e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if len(c.entries) < c.max {
			break
		}
		delete(c.entries, k)
	}
	c.entries[key] = e
}

func (c *resultCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
