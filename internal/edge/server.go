package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"time"

	"github.com/pingedge/pingedge/internal/edgehttp"
	"github.com/pingedge/pingedge/internal/verify"
)

// Server is a gateway or forward-auth server. Build it with New, run it with Serve.
type Server struct {
	opts    Options
	log     *slog.Logger
	metrics *verify.Metrics // shared by every engine the policy reloads build
	policy  policyHolder
	prom    *promMetrics
	audit   *auditSink
	proxy   *httputil.ReverseProxy // gateway mode only
	gate    *edgehttp.Gate         // gateway mode only: the request path edgeauth runs too
}

// New checks opts and loads the policy. It fetches nothing: keys are loaded by Serve.
func New(opts Options) (*Server, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	opts.defaults()
	s := &Server{opts: opts, log: opts.Logger, metrics: &verify.Metrics{}}
	s.prom = newPromMetrics(s)
	s.audit = newAuditSink(opts.Audit, opts.Logger)
	if err := s.initPolicy(); err != nil {
		return nil, err
	}
	if opts.Origin != nil {
		s.gate = &edgehttp.Gate{Engine: s.policy.engine, Audit: s.audit.write, PublicOrigin: opts.PublicURL}
		s.proxy = s.newProxy()
	}
	return s, nil
}

// Engine returns the engine of the policy in force (it changes on reload).
func (s *Server) Engine() *verify.Engine { return s.policy.engine() }

// Metrics returns the verification counters shared across reloads.
func (s *Server) Metrics() *verify.Metrics { return s.metrics }

// Handler serves the gateway or forward-auth endpoint and, when withOps is set, /healthz,
// /readyz and /metrics on the same listener. Those paths are matched exactly and before the
// policy; every other path goes to the policy. No ServeMux: its path cleaning and redirects
// would act before the policy's own normalisation.
func (s *Server) Handler(withOps bool) http.Handler { return s.handler(withOps, withOps) }

// handler is Handler with /metrics separately: it is served beside the API only on a loopback
// listener, where only the host itself can read it (see Serve).
func (s *Server) handler(withHealth, withMetrics bool) http.Handler {
	ops := s.OpsHandler()
	main := http.HandlerFunc(s.serveForwardAuth)
	if s.proxy != nil {
		main = s.serveGateway
	}
	if !withHealth && !withMetrics {
		return main
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawPath == "" && (withHealth && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz") ||
			withMetrics && r.URL.Path == "/metrics") {
			ops.ServeHTTP(w, r)
			return
		}
		main.ServeHTTP(w, r)
	})
}

// OpsHandler serves /healthz (the process answers), /readyz (keys are loaded, so tokens can be
// verified) and /metrics (Prometheus text format).
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		edgehttp.Plain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.policy.engine().Ready() {
			edgehttp.Plain(w, http.StatusServiceUnavailable, "signing keys not loaded yet")
			return
		}
		edgehttp.Plain(w, http.StatusOK, "ready")
	})
	mux.Handle("GET /metrics", s.prom.handler())
	return mux
}

// Serve runs until ctx ends, then shuts down gracefully: listeners close, in-flight requests
// get up to ShutdownTimeout to finish, buffered audit lines are flushed. ops may be nil, in
// which case /healthz, /readyz and /metrics are served on ln.
func (s *Server) Serve(ctx context.Context, ln, ops net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.watch(ctx)
	go s.warmKeys(ctx, s.policy.engine().KeySet())
	go s.audit.loop(ctx)

	// /metrics tells anyone who can read it the request rates, refusal reasons and key
	// refreshes: beside the API it is served only on a loopback listener; a public listener
	// without --ops-listen sends /metrics to the policy like any other path (docs/edge.md).
	metrics := ops == nil && isLoopback(ln.Addr())
	if ops == nil && !metrics {
		s.log.Warn("/metrics is not served on a non-loopback --listen; use --ops-listen 127.0.0.1:PORT to scrape it", "listen", ln.Addr().String())
	}
	servers := []*http.Server{s.httpServer(s.handler(ops == nil, metrics))}
	listeners := []net.Listener{ln}
	if ops != nil {
		servers = append(servers, s.httpServer(s.OpsHandler()))
		listeners = append(listeners, ops)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("serve: %w", err)
	}
	s.shutdown(servers)
	s.audit.Flush()
	return err
}

func (s *Server) shutdown(servers []*http.Server) {
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("graceful shutdown timed out; closing the remaining connections", "err", err)
			_ = srv.Close()
		}
	}
}

// Read deadlines of every listener (issue 10, finding 3).
const (
	// ReadHeaderTimeout bounds reading a request's headers: slowloris.
	ReadHeaderTimeout = 10 * time.Second
	// BodyIdleTimeout bounds each wait for more of an allowed request's body: an upload may
	// last as long as it makes progress, a stalled one is cut (see bodyDeadline).
	BodyIdleTimeout = 30 * time.Second
	// IdleTimeout frees a keep-alive connection with no next request.
	IdleTimeout = 120 * time.Second
)

// httpServer sets the limits a server facing clients needs. No whole-request ReadTimeout or
// WriteTimeout: uploads and streamed responses (SSE, long polls, WebSocket) may legitimately
// last. Headers have ReadHeaderTimeout, a body BodyIdleTimeout between reads (gateway) or is
// never read at all (a refusal, forward-auth: see edgehttp.CloseUnread), idle connections IdleTimeout.
func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// isLoopback reports whether a listener only accepts connections from this host.
func isLoopback(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	return err == nil && ap.Addr().Unmap().IsLoopback()
}
