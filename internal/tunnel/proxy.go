package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingedge/pingedge/internal/secret"
)

// reqState travels from the handler to Rewrite and ModifyResponse in the request context.
type reqState struct {
	route       *Route
	cred        credential  // Authorization value (and ath with DPoP)
	origin      string      // allowed CORS origin to echo, or ""
	bodyStalled atomic.Bool // the client stopped sending a declared body (see idleBody)
}

type stateKey struct{}

func (t *Tunnel) newProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:   t.rewrite,
		Transport: &retryTransport{base: t.opts.Transport, k: t.keeper, dpop: t.dpop},
		// Streaming responses are flushed as they come without FlushInterval -1: ReverseProxy
		// flushes every write of a text/event-stream or unknown-length (chunked) response by
		// itself. -1 would also flush each write of fixed-length bodies, which only costs: 7 % of
		// throughput in BenchmarkTunnelVsBare. TestStreamingResponsesFlowThrough pins the streaming.
		FlushInterval:  0,
		BufferPool:     newBufferPool(),
		ModifyResponse: t.modifyResponse,
		ErrorHandler:   t.upstreamError,
		ErrorLog:       slog.NewLogLogger(t.log.Handler(), slog.LevelDebug),
	}
}

// rewrite builds the outbound request. ReverseProxy has already cloned the inbound one and removed
// hop-by-hop and X-Forwarded-* headers; the client's Authorization is replaced, never forwarded.
func (t *Tunnel) rewrite(pr *httputil.ProxyRequest) {
	st := pr.In.Context().Value(stateKey{}).(*reqState)
	pr.SetURL(st.route.Target)
	pr.Out.Header["Authorization"] = []string{st.cred.authz}
	if t.dpop != nil {
		t.dpop.sign(pr.Out, st.cred)
	}
	if !t.opts.ForwardCookies {
		delete(pr.Out.Header, "Cookie")
	}
}

// modifyResponse keeps the upstream's cookies out of the browser's localhost jar unless asked
// (cookies.go), and replaces the upstream's CORS headers with the tunnel's for an allowed
// origin: the browser talks to the tunnel's origin, not the upstream's.
func (t *Tunnel) modifyResponse(resp *http.Response) error {
	t.filterSetCookie(resp.Header)
	st, _ := resp.Request.Context().Value(stateKey{}).(*reqState)
	if st == nil || st.origin == "" {
		return nil
	}
	for k := range resp.Header {
		if strings.HasPrefix(k, "Access-Control-Allow-") {
			delete(resp.Header, k)
		}
	}
	setCORS(resp.Header, st.origin)
	return nil
}

func (t *Tunnel) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	st, _ := r.Context().Value(stateKey{}).(*reqState)
	if st != nil && st.bodyStalled.Load() { // the read deadline also cancelled the request's context
		deny(w, r, http.StatusRequestTimeout, fmt.Sprintf("the request body stalled for %s; the connection is closed", t.opts.BodyIdleTimeout))
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		w.WriteHeader(499) // the client went away; nobody reads this
		return
	}
	target := "the upstream"
	if st != nil {
		target = st.route.Target.Redacted()
	}
	err = withoutURL(err)
	t.log.Warn("upstream request failed", "upstream", target, "error", err)
	deny(w, r, http.StatusBadGateway, fmt.Sprintf("cannot reach %s: %v", target, err))
}

// withoutURL drops the request URL from a transport error: its query string may hold a key.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// tokenError answers a request the tunnel has no token for.
func (t *Tunnel) tokenError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrSessionGone):
		deny(w, r, http.StatusUnauthorized, fmt.Sprintf(
			"your login session has ended: run `%s` in another terminal; this tunnel picks the new login up without a restart",
			LoginCommand(t.opts.Profile)))
	case errors.Is(err, ErrIssuerUnavailable):
		w.Header().Set("Retry-After", strconv.Itoa(int(firstBackoff/time.Second)+1))
		deny(w, r, http.StatusServiceUnavailable, fmt.Sprintf("no valid token: %v; the tunnel keeps retrying", err))
	default:
		deny(w, r, http.StatusBadGateway, fmt.Sprintf("no token: %v", err))
	}
}

// LoginCommand is the command that starts a new session for profile.
func LoginCommand(profile string) string {
	if profile == "" {
		return "pingedge login"
	}
	return "pingedge login --profile " + profile
}

// deny writes a plain-text refusal that says what to do.
func deny(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	dropBody(w, r)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "pingedge tunnel: "+msg+"\n")
}

// dropBody makes sure the tunnel never waits for the body of a request it answers itself.
// net/http reads up to 256 KiB of an unread body, before the answer and again when the request
// ends, to keep the connection; a client that declares Content-Length: 1000 and never sends it
// would get no answer and hold the connection for as long as it likes. "Connection: close" skips
// the first read, and a read deadline in the past ends the second at once, so the answer goes out
// and the connection is closed.
func dropBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength == 0 {
		return
	}
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Unix(1, 0))
}

// retryTransport gives a request the upstream answered 401 one more chance with a freshly
// refreshed token. Only requests without a body are retried (a streamed body cannot be replayed),
// and the retry is a clone: a RoundTripper must not modify the request it was given.
type retryTransport struct {
	base http.RoundTripper
	k    *keeper
	dpop *dpopState // nil without DPoP
}

func (rt *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !replayable(req) {
		return resp, err
	}
	authz := req.Header.Get("Authorization")
	if rt.dpop != nil && rt.dpop.wantsNonce(resp) {
		// RFC 9449 §9: the resource server wants its nonce in the proof; one retry with it.
		drain(resp)
		retry := req.Clone(req.Context())
		rt.dpop.sign(retry, credential{authz: authz})
		return rt.base.RoundTrip(retry)
	}
	rejected := secret.String(strings.TrimPrefix(authz, rt.k.scheme))
	tok, ferr := rt.k.forceRefresh(req.Context(), rejected)
	if ferr != nil {
		return resp, nil // the upstream's own 401 reaches the client
	}
	drain(resp)
	retry := req.Clone(req.Context())
	cred := rt.k.credential(tok)
	retry.Header.Set("Authorization", cred.authz)
	if rt.dpop != nil {
		rt.dpop.sign(retry, cred)
	}
	return rt.base.RoundTrip(retry)
}

// drain lets the connection of an answer the client will not see be reused.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

// replayable: ReverseProxy sends a nil Body for requests with Content-Length 0.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody
}

// bufferPool recycles ReverseProxy's copy buffers: without it every response allocates 32 KiB,
// the tunnel's largest allocation and a good share of its GC work under load.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (bp *bufferPool) Get() []byte  { return *bp.p.Get().(*[]byte) }
func (bp *bufferPool) Put(b []byte) { bp.p.Put(&b) }
