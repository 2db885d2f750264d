package tunnel

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Entry is one access-log record. It never holds a token, a query string or a header value.
type Entry struct {
	Time     time.Time
	Method   string
	Path     string
	Status   int
	Bytes    int64
	Latency  time.Duration
	Route    string // the matched prefix, or "-" when refused before routing
	Upstream string // the route's upstream host
	Refused  string // why the tunnel refused the request itself, if it did
}

func (t *Tunnel) handler(g *guard) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := t.opts.Now()
		lw := &logWriter{ResponseWriter: w}
		e := t.serve(lw, r, g)
		if t.opts.AccessLog == nil {
			return
		}
		e.Time, e.Method, e.Path = start, r.Method, r.URL.Path
		e.Status, e.Bytes, e.Latency = lw.code(), lw.bytes, t.opts.Now().Sub(start)
		t.opts.AccessLog(e)
	})
}

// serve applies the guards, picks the route, attaches the token and proxies.
func (t *Tunnel) serve(w http.ResponseWriter, r *http.Request, g *guard) Entry {
	e := Entry{Route: "-"}
	if refusedMethod(r.Method) {
		e.Refused = "method"
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
		// What follows a CONNECT on the connection is meant for the target, not HTTP to us.
		w.Header().Set("Connection", "close")
		_ = http.NewResponseController(w).SetReadDeadline(time.Unix(1, 0))
		deny(w, r, http.StatusMethodNotAllowed, r.Method+" is not forwarded: the tunnel would send your token with it")
		return e
	}
	if !g.hostOK(r.Host) {
		e.Refused = "host"
		deny(w, r, http.StatusMisdirectedRequest, fmt.Sprintf(
			"Host %q does not name this tunnel: use http://localhost:PORT or http://127.0.0.1:PORT (this guard stops DNS rebinding)", r.Host))
		return e
	}
	origin, ok := g.browser(r)
	if !ok {
		e.Refused = "cross-site"
		deny(w, r, http.StatusForbidden, "requests from other web sites are refused: start the tunnel with --allow-origin ORIGIN for your app")
		return e
	}
	if origin != "" && isPreflight(r) {
		e.Refused = "preflight"
		answerPreflight(w, r, origin)
		return e
	}
	route, ok := t.routes.match(r.URL.Path)
	if !ok {
		e.Refused = "no-route"
		deny(w, r, http.StatusNotFound, fmt.Sprintf("no route for %q: routes are %s", r.URL.Path, t.routes))
		return e
	}
	e.Route, e.Upstream = route.Prefix, route.Target.Host
	cred, err := t.keeper.authorization(r.Context())
	if err != nil {
		e.Refused = "token"
		t.tokenError(w, r, err)
		return e
	}
	st := &reqState{route: route, cred: cred, origin: origin}
	if r.ContentLength != 0 {
		r.Body = &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: t.opts.BodyIdleTimeout, st: st}
	}
	t.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
	return e
}

// refusedMethod: CONNECT would open a raw tunnel to any host:port carrying the engineer's
// token (RFC 9110 §9.3.6), and TRACE echoes the request, Authorization included, back to
// whoever sent it (RFC 9110 §9.3.8). Neither is something an API client needs.
func refusedMethod(m string) bool {
	return m == http.MethodConnect || m == http.MethodTrace
}

func (rt routeTable) String() string {
	s := make([]string, len(rt))
	for i, r := range rt {
		s[i] = r.Prefix + "=" + r.Target.Redacted()
	}
	return strings.Join(s, ", ")
}

// logWriter records the status and size for the access log. Unwrap lets ReverseProxy reach the
// underlying writer's Flush (streaming) and Hijack (WebSocket) through http.ResponseController.
type logWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *logWriter) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *logWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
