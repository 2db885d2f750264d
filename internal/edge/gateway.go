package edge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pingedge/pingedge/internal/verify"
)

// passKey carries the decision from the handler to the proxy's Rewrite.
type passKey struct{}

// pass is what Rewrite needs from the decision (not the whole Decision, which is large).
type pass struct {
	path      string            // the normalised path, when it differs from the raw one
	set       map[string]string // identity headers
	strip     []string
	requestID string
	idHeader  string
}

// serveGateway decides the request and either refuses it or proxies it to the origin.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	eng := s.policy.engine()
	idHeader := http.CanonicalHeaderKey(eng.Policy().RequestIDHeader) // the policy may spell it in any case
	rid := verify.RequestID(r.Header.Get(idHeader))
	raw := r.URL.EscapedPath()
	d := eng.Decide(r.Context(), verify.Request{Method: r.Method, Path: raw, Header: r.Header, RequestID: rid,
		URL: gatewayURL(r, raw)})
	s.audit.write(d.Audit)
	w.Header()[idHeader] = []string{rid}
	if !d.Allow {
		deny(w, r, &d)
		return
	}
	dropH2C(r.Header)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &bodyDeadline{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: s.opts.BodyIdleTimeout}
	}
	p := &pass{set: d.SetHeaders, strip: d.StripHeaders, requestID: rid, idHeader: idHeader}
	if d.Path != raw {
		p.path = d.Path
	}
	s.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), passKey{}, p)))
}

// newProxy builds the reverse proxy. Rewrite (not Director) so that hop-by-hop headers and the
// client's X-Forwarded-*/Forwarded headers are dropped before we add ours, and a client cannot
// pass a forged X-Forwarded-For to the origin. FlushInterval -1 flushes every write, so
// streamed responses (SSE, chunked) reach the client as they are produced; WebSocket and other
// Upgrade requests are passed through by ReverseProxy itself.
func (s *Server) newProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:       s.rewrite,
		Transport:     s.opts.Transport,
		FlushInterval: -1,
		ErrorHandler:  s.proxyError,
		BufferPool:    newBufferPool(),
	}
}

func (s *Server) rewrite(pr *httputil.ProxyRequest) {
	p := pr.In.Context().Value(passKey{}).(*pass)
	// The origin gets the path the rules matched, not the raw one: an origin that normalises
	// differently (dot segments, repeated slashes, %2e) cannot be reached on a path the policy
	// never saw.
	if p.path != "" {
		if u, err := url.PathUnescape(p.path); err == nil {
			pr.Out.URL.Path, pr.Out.URL.RawPath = u, p.path
		}
	}
	pr.SetURL(s.opts.Origin)
	pr.SetXForwarded()
	h := pr.Out.Header
	stripHeaders(h, p.strip)
	// One allocation for every value; each slice is capped so an Add cannot spill into the next.
	vals := make([]string, 0, len(p.set)+1)
	for k, v := range p.set {
		vals = append(vals, v)
		n := len(vals)
		h[k] = vals[n-1 : n : n]
	}
	vals = append(vals, p.requestID)
	n := len(vals)
	h[p.idHeader] = vals[n-1 : n : n]
}

// bufferPool reuses the 32 KiB copy buffers ReverseProxy would otherwise allocate per response.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (bp *bufferPool) Get() []byte  { return *bp.p.Get().(*[]byte) }
func (bp *bufferPool) Put(b []byte) { bp.p.Put(&b) }

// stripHeaders removes the credentials and every client-sent copy of an identity header,
// whatever the spelling: any case (a map filled without canonical keys) and underscores for
// dashes, since CGI-style origins (PHP, WSGI, Rack) read X_Auth_User and X-Auth-User as the
// same HTTP_X_AUTH_USER variable. It allocates nothing.
func stripHeaders(h http.Header, names []string) {
	for k := range h {
		for _, n := range names {
			if verify.SameHeaderName(k, n) {
				delete(h, k)
				break
			}
		}
	}
}

func (s *Server) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away; nothing to answer
	}
	s.prom.upstreamErrors.Inc()
	s.log.Warn("origin did not answer", "path", r.URL.Path, "err", err)
	plain(w, http.StatusBadGateway, http.StatusText(http.StatusBadGateway))
}

// bodyDeadline gives each read of an allowed request's body a deadline idle from now, so an
// upload may take as long as it keeps sending, and a client that stops is cut off after idle
// instead of holding a connection (and one to the origin) forever. Once the body is read it
// sets nothing: net/http then watches the connection for the client going away.
type bodyDeadline struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	done bool
}

func (b *bodyDeadline) Read(p []byte) (int, error) {
	if !b.done {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done = true
	}
	return n, err
}

// dropH2C removes an "Upgrade: h2c" offer before the request is proxied. ReverseProxy passes
// Upgrade requests through and, on a 101, tunnels the connection: an origin that accepts h2c
// would then serve every later HTTP/2 stream on it without pingedge seeing one (h2c
// smuggling). Cleartext HTTP/2 upgrade is deprecated anyway (RFC 9113 §3.1); WebSocket and
// other upgrades are untouched.
func dropH2C(h http.Header) {
	for _, v := range h.Values("Upgrade") {
		for tok := range strings.SplitSeq(v, ",") {
			if p, _, _ := strings.Cut(strings.TrimSpace(tok), "/"); strings.EqualFold(p, "h2c") {
				h.Del("Upgrade")
				h.Del("Http2-Settings")
				return
			}
		}
	}
}
