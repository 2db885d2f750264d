package edge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"github.com/pingedge/pingedge/internal/edgehttp"
)

// passKey carries the allowed request's edgehttp.Pass from the handler to the proxy's Rewrite.
type passKey struct{}

// serveGateway decides the request with edgehttp.Gate, the request path edgeauth runs too: a
// refusal is answered there, an allowed request is proxied to the origin.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	p := s.gate.Check(w, r)
	if p == nil {
		return
	}
	dropH2C(r.Header)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &bodyDeadline{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: s.opts.BodyIdleTimeout}
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

// rewrite works on the outgoing copy ReverseProxy made, after it dropped the hop-by-hop
// headers (and any the client listed in Connection) and the client's X-Forwarded-*/Forwarded:
// the identity headers are set there, so a client's "Connection: X-Auth-User" cannot remove
// them on the way out.
func (s *Server) rewrite(pr *httputil.ProxyRequest) {
	p := pr.In.Context().Value(passKey{}).(*edgehttp.Pass)
	p.RewritePath(pr.Out.URL) // before SetURL, which joins it under the origin's base path
	pr.SetURL(s.opts.Origin)
	pr.SetXForwarded()
	p.RewriteHeader(pr.Out.Header)
}

// bufferPool reuses the 32 KiB copy buffers ReverseProxy would otherwise allocate per response.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (bp *bufferPool) Get() []byte  { return *bp.p.Get().(*[]byte) }
func (bp *bufferPool) Put(b []byte) { bp.p.Put(&b) }

func (s *Server) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away; nothing to answer
	}
	s.prom.upstreamErrors.Inc()
	s.log.Warn("origin did not answer", "path", r.URL.Path, "err", err)
	edgehttp.Plain(w, http.StatusBadGateway, http.StatusText(http.StatusBadGateway))
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
