package edge

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pingedge/pingedge/internal/verify"
)

// promMetrics is the server's own Prometheus registry: no package-level default registry, so
// two servers in one process (tests, benchmarks) never collide.
type promMetrics struct {
	reg            *prometheus.Registry
	reloads        *prometheus.CounterVec
	upstreamErrors prometheus.Counter
}

func newPromMetrics(s *Server) *promMetrics {
	m := &promMetrics{
		reg: prometheus.NewRegistry(),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pingedge_edge_policy_reloads_total",
			Help: "Policy reloads by result (ok, or error when the last good policy was kept).",
		}, []string{"result"}),
		upstreamErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pingedge_edge_upstream_errors_total",
			Help: "Allowed requests the origin could not answer (502 to the client).",
		}),
	}
	m.reg.MustRegister(m.reloads, m.upstreamErrors, &coreCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *promMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

var (
	descDecisions = prometheus.NewDesc("pingedge_edge_decisions_total",
		"Decisions by outcome: allow, unauthorized (401), forbidden (403), bad_request (400), unavailable (503).",
		[]string{"outcome"}, nil)
	descLatency = prometheus.NewDesc("pingedge_edge_verify_duration_seconds",
		"Time the verification core took to decide a request.", nil, nil)
	descCacheHits   = prometheus.NewDesc("pingedge_edge_cache_hits_total", "Validation-cache hits.", nil, nil)
	descCacheMisses = prometheus.NewDesc("pingedge_edge_cache_misses_total", "Validation-cache misses.", nil, nil)
	descJWKSFetches = prometheus.NewDesc("pingedge_edge_jwks_fetches_total", "JWKS fetches from the issuer.", nil, nil)
	descJWKSFail    = prometheus.NewDesc("pingedge_edge_jwks_fetch_failures_total",
		"JWKS fetches that failed.", nil, nil)
	descStale = prometheus.NewDesc("pingedge_edge_jwks_stale_refreshes_total",
		"Failed refreshes during which the keys already held stayed in use (issuer outage).", nil, nil)
	descReady = prometheus.NewDesc("pingedge_edge_keys_ready",
		"1 when signing keys are loaded and tokens can be verified.", nil, nil)
)

// coreCollector exports verify's lock-free counters at scrape time, so the request path pays
// nothing for Prometheus.
type coreCollector struct{ s *Server }

func (c *coreCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDecisions, descLatency, descCacheHits, descCacheMisses,
		descJWKSFetches, descJWKSFail, descStale, descReady} {
		ch <- d
	}
}

func (c *coreCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.s.metrics.Snapshot()
	for outcome, n := range snap.Decisions {
		ch <- prometheus.MustNewConstMetric(descDecisions, prometheus.CounterValue, float64(n), outcome)
	}
	buckets := make(map[float64]uint64, len(verify.LatencyBuckets))
	for i, le := range verify.LatencyBuckets {
		buckets[le.Seconds()] = snap.LatencyBuckets[i]
	}
	total := snap.LatencyBuckets[len(snap.LatencyBuckets)-1]
	ch <- prometheus.MustNewConstHistogram(descLatency, total, snap.LatencySum.Seconds(), buckets)
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	counter(descCacheHits, snap.CacheHits)
	counter(descCacheMisses, snap.CacheMisses)
	counter(descJWKSFetches, snap.JWKSFetches)
	counter(descJWKSFail, snap.JWKSFetchFailures)
	counter(descStale, snap.StaleKeyRefreshes)
	ready := 0.0
	if c.s.policy.engine().Ready() {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, ready)
}
