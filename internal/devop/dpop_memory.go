package devop

import (
	"container/heap"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"sync"
	"time"
)

// DefaultDPoPJTIMemory is how many proof jti the token endpoint remembers by default.
const DefaultDPoPJTIMemory = 10000

// errJTIUsed and errJTIForgotten refuse a proof the jti memory cannot vouch for.
var (
	errJTIUsed      = errors.New("jti already used")
	errJTIForgotten = errors.New("the proof is older than the provider's replay memory reaches: sign a fresh one")
	errJTIStale     = errors.New("iat is outside the proof lifetime")
)

// jtiMemory remembers proofs' jti within their lifetime (RFC 9449 §11.1), in at most max
// entries. Expired entries go first (a proof that old fails the iat check anyway); when it is
// full of live ones the entry with the oldest iat is forgotten and floor moves up to that iat,
// and every proof issued at or before floor is refused from then on. So memory is bounded by
// size, a flood of proofs can only make older proofs fail, and no forgotten proof can be
// replayed: it was either still remembered or issued at or before floor.
type jtiMemory struct {
	mu    sync.Mutex
	max   int
	seen  map[string]struct{}
	byIAT iatHeap
	floor time.Time
}

func newJTIMemory(max int) *jtiMemory {
	return &jtiMemory{max: max, seen: map[string]struct{}{}}
}

// add records jti issued at iat; it fails when the proof was seen or cannot be vouched for.
func (m *jtiMemory) add(jti string, iat, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.byIAT) > 0 && now.Sub(m.byIAT[0].iat) > proofLifetime {
		delete(m.seen, heap.Pop(&m.byIAT).(jtiEntry).jti)
	}
	if _, dup := m.seen[jti]; dup {
		return errJTIUsed
	}
	if now.Sub(iat) > proofLifetime { // the memory's own guard: it forgets exactly these
		return errJTIStale
	}
	if !iat.After(m.floor) {
		return errJTIForgotten
	}
	for len(m.byIAT) >= m.max {
		old := heap.Pop(&m.byIAT).(jtiEntry)
		delete(m.seen, old.jti)
		if old.iat.After(m.floor) {
			m.floor = old.iat
		}
	}
	m.seen[jti] = struct{}{}
	heap.Push(&m.byIAT, jtiEntry{jti: jti, iat: iat})
	return nil
}

func (m *jtiMemory) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}

type jtiEntry struct {
	jti string
	iat time.Time
}

// iatHeap is a min-heap by iat (container/heap).
type iatHeap []jtiEntry

func (h iatHeap) Len() int           { return len(h) }
func (h iatHeap) Less(i, j int) bool { return h[i].iat.Before(h[j].iat) }
func (h iatHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *iatHeap) Push(x any)        { *h = append(*h, x.(jtiEntry)) }
func (h *iatHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// dpopNonces are the token endpoint's DPoP nonces (RFC 9449 §8): a random value that changes
// every proof lifetime, the previous one still accepted so a client that just learned it is
// not refused at the turn.
type dpopNonces struct {
	mu        sync.Mutex
	cur, prev string
	since     time.Time
}

// current is the nonce to hand out now, rotating it when it is a lifetime old.
func (n *dpopNonces) current(now time.Time) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cur == "" || now.Sub(n.since) > proofLifetime {
		b := make([]byte, 16)
		_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
		n.prev, n.cur, n.since = n.cur, base64.RawURLEncoding.EncodeToString(b), now
	}
	return n.cur
}

// valid reports whether v is the current or the previous nonce.
func (n *dpopNonces) valid(v string, now time.Time) bool {
	cur := n.current(now)
	n.mu.Lock()
	prev := n.prev
	n.mu.Unlock()
	eq := func(a, b string) bool { return b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
	return v != "" && (eq(v, cur) || eq(v, prev))
}
