package dpop

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"time"
)

// ReplayCache remembers the proofs (jkt, jti) accepted within the proof lifetime (RFC 9449
// §11.1). It is bounded: entries leave in insertion order once they can no longer be accepted,
// and when it is full of live entries it refuses new proofs (ErrReplayFull) instead of
// forgetting one, since forgetting would let that proof be replayed. Only proofs that passed
// every other check (signature included) are added, so filling it takes the holder of a key.
// It is per process (gateway, forward-auth) or per isolate (Worker): see docs/dpop.md.
type ReplayCache struct {
	mu    sync.Mutex
	max   int
	keep  time.Duration
	seen  map[[32]byte]struct{}
	queue []replayEntry // insertion order; until is non-decreasing
	head  int
}

type replayEntry struct {
	key   [32]byte
	until time.Time
}

// NewReplayCache keeps up to max proofs. keep is how long one stays acceptable after it is
// seen: a proof accepted at t has iat ≥ t-lifetime-leeway and iat ≤ t+leeway, so it is
// accepted at most until t+lifetime+2·leeway.
func NewReplayCache(max int, lifetime, leeway time.Duration) *ReplayCache {
	return &ReplayCache{max: max, keep: lifetime + 2*leeway, seen: make(map[[32]byte]struct{}, min(max, 1024))}
}

// Add records jti for the key jkt at now, or says it was seen (a replay) or that the cache
// is full.
func (c *ReplayCache) Add(jkt, jti string, now time.Time) error {
	h := sha256.New()
	h.Write([]byte(jkt))
	h.Write([]byte{0})
	h.Write([]byte(jti))
	var key [32]byte
	h.Sum(key[:0])
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if _, dup := c.seen[key]; dup {
		return fail("jti was already used (a replayed proof)")
	}
	if len(c.seen) >= c.max {
		return fmt.Errorf("%w: %d live proofs", ErrReplayFull, len(c.seen))
	}
	c.seen[key] = struct{}{}
	c.queue = append(c.queue, replayEntry{key: key, until: now.Add(c.keep)})
	return nil
}

func (c *ReplayCache) expire(now time.Time) {
	for c.head < len(c.queue) && !c.queue[c.head].until.After(now) {
		delete(c.seen, c.queue[c.head].key)
		c.queue[c.head] = replayEntry{}
		c.head++
	}
	if c.head > len(c.queue)/2 && c.head > 64 { // compact so the slice does not grow forever
		c.queue = append(c.queue[:0], c.queue[c.head:]...)
		c.head = 0
	}
}

// Len is the number of live proofs remembered.
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
