package edge

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/pingedge/pingedge/internal/verify"
)

// serveForwardAuth answers the proxy in front: 200 with the identity headers (the proxy copies
// them to the origin request), or 401/403 that the proxy returns to the client.
func (s *Server) serveForwardAuth(w http.ResponseWriter, r *http.Request) {
	eng := s.policy.engine()
	idHeader := http.CanonicalHeaderKey(eng.Policy().RequestIDHeader) // the policy may spell it in any case
	rid := verify.RequestID(r.Header.Get(idHeader))
	method, target, ok := s.original(r)
	var d verify.Decision
	if ok {
		d = eng.Decide(r.Context(), verify.Request{Method: method, Path: target, Header: r.Header, RequestID: rid})
	} else {
		d = verify.Decision{Status: http.StatusBadRequest, Reason: "ambiguous original request headers",
			Audit: verify.AuditRecord{Time: s.opts.Now(), RequestID: rid, Method: method, Path: target,
				Decision: "deny", Status: http.StatusForbidden, Reason: "ambiguous original request headers"}}
	}
	s.audit.write(d.Audit)
	h := w.Header()
	h.Set(idHeader, rid)
	if d.Allow {
		// Every identity header is answered, empty when there is no value (a public path, a
		// missing claim): proxies that copy the answer over the request (Envoy
		// allowed_upstream_headers, Traefik authResponseHeaders) then also overwrite a
		// client-sent copy, and nginx sends no header for an empty value.
		for _, f := range eng.Policy().Forward {
			h[f.Header] = []string{d.SetHeaders[f.Header]}
		}
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	// nginx auth_request understands only 2xx, 401 and 403 (anything else becomes a 500), so a
	// path the core refuses to match (400) is a plain denial here.
	if d.Status == http.StatusBadRequest {
		d.Status = http.StatusForbidden
	}
	deny(w, &d)
}

// original reconstructs the request being authorized. From a trusted proxy: the method from
// X-Forwarded-Method or X-Original-Method, the target from X-Forwarded-Uri, X-Original-URI or
// the path of X-Original-URL; otherwise, and from anyone else, the request line itself (Envoy
// ext_authz sends the original method and path). ok is false when a trusted proxy sent one of
// these headers twice or an unusable target: guessing which copy is real is how spoofing works.
func (s *Server) original(r *http.Request) (method, target string, ok bool) {
	method, target = r.Method, r.URL.RequestURI()
	if !s.trusted(r.RemoteAddr) {
		return method, target, true
	}
	m, ok1 := single(r.Header, "X-Forwarded-Method", "X-Original-Method")
	t, ok2 := single(r.Header, "X-Forwarded-Uri", "X-Original-Uri")
	u, ok3 := single(r.Header, "X-Original-Url")
	if !ok1 || !ok2 || !ok3 {
		return method, target, false
	}
	if t == "" && u != "" {
		parsed, err := url.Parse(u)
		if err != nil {
			return method, target, false
		}
		t = parsed.RequestURI()
	}
	if m != "" {
		method = m
	}
	if t != "" {
		if !strings.HasPrefix(t, "/") {
			return method, t, false
		}
		target = t
	}
	return method, target, true
}

// single returns the value of the first of names present, provided it is present once.
func single(h http.Header, names ...string) (string, bool) {
	for _, n := range names {
		switch v := h[n]; len(v) {
		case 0:
			continue
		case 1:
			return strings.TrimSpace(v[0]), true
		default:
			return "", false
		}
	}
	return "", true
}

// trusted reports whether the direct peer is one of the trusted proxies.
func (s *Server) trusted(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
