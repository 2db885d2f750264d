package verify

import (
	"sync/atomic"
	"time"
)

// Outcome classifies a decision for metrics.
type Outcome int

// Decision outcomes, one counter each.
const (
	OutcomeAllow        Outcome = iota // allowed (with or without a token)
	OutcomeUnauthorized                // 401: missing or invalid token
	OutcomeForbidden                   // 403: valid token, not allowed
	OutcomeBadRequest                  // 400: path refused before matching
	OutcomeUnavailable                 // 503: no keys to verify with
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"allow", "unauthorized", "forbidden", "bad_request", "unavailable"}

func (o Outcome) String() string { return outcomeNames[o] }

// LatencyBuckets are the upper bounds of the verify-latency histogram.
var LatencyBuckets = []time.Duration{
	time.Microsecond, 5 * time.Microsecond, 20 * time.Microsecond, 100 * time.Microsecond,
	500 * time.Microsecond, 2 * time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second,
}

// Metrics are lock-free counters the edge exports to Prometheus. A nil *Metrics counts nothing.
type Metrics struct {
	decisions     [numOutcomes]atomic.Uint64
	cacheHits     atomic.Uint64
	cacheMisses   atomic.Uint64
	storeHits     atomic.Uint64
	storeMisses   atomic.Uint64
	jwksFetches   atomic.Uint64
	jwksFailures  atomic.Uint64
	staleKeyUses  atomic.Uint64
	latencyCounts [10]atomic.Uint64 // len(LatencyBuckets)+1, the last is +Inf
	latencySumNs  atomic.Uint64
}

// MetricsSnapshot is a point-in-time copy of the counters.
type MetricsSnapshot struct {
	Decisions         map[string]uint64 // by Outcome.String()
	CacheHits         uint64
	CacheMisses       uint64
	StoreHits         uint64 // results taken from the ResultStore (in-memory misses only)
	StoreMisses       uint64 // absent or refused there: the token was verified in full
	JWKSFetches       uint64
	JWKSFetchFailures uint64
	StaleKeyRefreshes uint64 // refreshes that failed while older keys stayed in use
	// LatencyBuckets[i] counts decisions with latency <= verify.LatencyBuckets[i]
	// (cumulative, as Prometheus wants); the last element counts all.
	LatencyBuckets []uint64
	LatencySum     time.Duration
}

// Snapshot reads every counter.
func (m *Metrics) Snapshot() MetricsSnapshot {
	s := MetricsSnapshot{Decisions: map[string]uint64{}}
	if m == nil {
		return s
	}
	for i := range m.decisions {
		s.Decisions[Outcome(i).String()] = m.decisions[i].Load()
	}
	s.CacheHits, s.CacheMisses = m.cacheHits.Load(), m.cacheMisses.Load()
	s.StoreHits, s.StoreMisses = m.storeHits.Load(), m.storeMisses.Load()
	s.JWKSFetches, s.JWKSFetchFailures = m.jwksFetches.Load(), m.jwksFailures.Load()
	s.StaleKeyRefreshes = m.staleKeyUses.Load()
	var cum uint64
	for i := range m.latencyCounts {
		cum += m.latencyCounts[i].Load()
		s.LatencyBuckets = append(s.LatencyBuckets, cum)
	}
	s.LatencySum = time.Duration(m.latencySumNs.Load())
	return s
}

func (m *Metrics) decision(o Outcome, d time.Duration) {
	if m == nil {
		return
	}
	m.decisions[o].Add(1)
	i := 0
	for i < len(LatencyBuckets) && d > LatencyBuckets[i] {
		i++
	}
	m.latencyCounts[i].Add(1)
	m.latencySumNs.Add(uint64(max(d, 0)))
}

func (m *Metrics) cache(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.cacheHits.Add(1)
	} else {
		m.cacheMisses.Add(1)
	}
}

func (m *Metrics) store(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.storeHits.Add(1)
	} else {
		m.storeMisses.Add(1)
	}
}

// JWKSFetch counts one key set fetch (keyset.FetchCounter).
func (m *Metrics) JWKSFetch(ok bool) {
	if m == nil {
		return
	}
	m.jwksFetches.Add(1)
	if !ok {
		m.jwksFailures.Add(1)
	}
}

// StaleKeys counts a failed refresh while older keys stayed in use (keyset.FetchCounter).
func (m *Metrics) StaleKeys() {
	if m != nil {
		m.staleKeyUses.Add(1)
	}
}
