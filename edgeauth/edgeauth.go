package edgeauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/pingedge/pingedge/internal/edgehttp"
	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/keyset"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

// Config configures a Middleware. Policy is required; the rest have defaults.
type Config struct {
	// Policy is the policy document (YAML), the same file `pingedge edge serve --policy` reads.
	Policy []byte
	// Logger receives one audit record per decision (level Info) and key-fetch problems.
	// Nil discards them.
	Logger *slog.Logger
	// HTTPClient fetches discovery and the JWKS. Nil: a client with a 10 s timeout.
	HTTPClient *http.Client
	// PublicURL is the scheme and host clients call ("https://api.example.com"), for DPoP
	// proofs' htu when a load balancer in front terminates TLS: the service then sees http
	// and perhaps an internal host, neither of which the client signed. Empty: the request's
	// own scheme and Host. X-Forwarded-Proto/Host are never read.
	PublicURL string
}

// Middleware decides requests with one policy. Safe for concurrent use.
type Middleware struct {
	eng  *verify.Engine
	gate edgehttp.Gate // the request path `edge serve`'s gateway runs too
	log  *slog.Logger
}

// New parses and validates the policy. It fetches nothing; the first request (or Ready
// probing) loads the keys.
func New(cfg Config) (*Middleware, error) {
	if len(cfg.Policy) == 0 {
		return nil, errors.New("edgeauth: Config.Policy is empty: pass the policy YAML (see docs/policy.md)")
	}
	p, err := policyfile.Parse(cfg.Policy)
	if err != nil {
		return nil, fmt.Errorf("edgeauth: policy: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	var pub string
	if cfg.PublicURL != "" {
		if pub, err = edgehttp.ParsePublicURL(cfg.PublicURL); err != nil {
			return nil, fmt.Errorf("edgeauth: Config.PublicURL: %w", err)
		}
	}
	m := &Middleware{log: log}
	m.eng, err = verify.NewEngine(p, verify.EngineOptions{Fetcher: &keyset.HTTPFetcher{Client: hc}, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("edgeauth: policy: %w", err)
	}
	m.gate = edgehttp.Gate{Engine: func() *verify.Engine { return m.eng }, Audit: m.audit, PublicOrigin: pub}
	return m, nil
}

// Handler wraps next: only requests the policy allows reach it, rewritten as the gateway
// rewrites them for its origin.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := m.gate.Check(w, r) // a refusal is answered there
		if p == nil {
			return
		}
		r = r.Clone(withClaims(r.Context(), p.Claims)) // next's changes stay off the caller's request
		p.RewritePath(r.URL)                           // next sees the path the rules matched, not the raw one
		p.RewriteHeader(r.Header)
		next.ServeHTTP(w, r)
	})
}

// Ready reports whether the signing keys are loaded, for a readiness probe.
func (m *Middleware) Ready() bool { return m.eng.Ready() }

// audit writes the decision with the field names of edge serve's JSON audit line.
func (m *Middleware) audit(a verify.AuditRecord) {
	m.log.LogAttrs(context.Background(), slog.LevelInfo, "decision",
		slog.Time("time", a.Time), slog.String("request_id", a.RequestID), slog.String("sub", a.Subject),
		slog.String("client_id", a.ClientID), slog.String("iss", a.Issuer), slog.String("method", a.Method),
		slog.String("path", a.Path), slog.String("decision", a.Decision), slog.Int("status", a.Status),
		slog.String("rule", a.Rule), slog.String("reason", a.Reason),
		slog.Float64("latency_us", float64(a.Latency.Nanoseconds())/1e3))
}
