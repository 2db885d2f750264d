package edge

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/pingedge/pingedge/internal/edgehttp"
	"github.com/pingedge/pingedge/internal/verify"
)

// serveForwardAuth answers the proxy in front: 200 with the identity headers (the proxy copies
// them to the origin request), or a refusal that the proxy returns to the client.
func (s *Server) serveForwardAuth(w http.ResponseWriter, r *http.Request) {
	eng := s.policy.engine()
	idHeader := http.CanonicalHeaderKey(eng.Policy().RequestIDHeader) // the policy may spell it in any case
	rid := verify.RequestID(r.Header.Get(idHeader))
	o := s.original(r)
	var d verify.Decision
	if o.refusal == "" {
		req := verify.Request{Method: o.method, Path: o.target, Header: r.Header, RequestID: rid}
		if eng.Policy().DPoPEnabled() { // the URL is only a proof's htu
			req.URL = s.forwardAuthURL(r, o.target)
		}
		d = eng.Decide(r.Context(), req)
	} else {
		// The query stays out of the audit, as in every decision: it may carry a token.
		path, _, _ := strings.Cut(o.target, "?")
		d = verify.Decision{Status: http.StatusBadRequest, Reason: o.refusal,
			Audit: verify.AuditRecord{Time: s.opts.Now(), RequestID: rid, Method: o.method, Path: path,
				Decision: "deny", Status: http.StatusBadRequest, Reason: o.refusal}}
	}
	h := w.Header()
	h.Set(idHeader, rid)
	if d.Allow {
		s.audit.write(d.Audit)
		// Every identity header is answered, empty when there is no value (a public path, a
		// missing claim): proxies that copy the answer over the request (Envoy
		// allowed_upstream_headers, Traefik authResponseHeaders) then also overwrite a
		// client-sent copy, and nginx sends no header for an empty value.
		for _, f := range eng.Policy().Forward {
			h[f.Header] = []string{d.SetHeaders[f.Header]}
		}
		h.Set("Cache-Control", "no-store")
		edgehttp.CloseUnread(w, r, func() { w.WriteHeader(http.StatusOK) }) // forward-auth never needs a body
		return
	}
	// nginx auth_request understands only 2xx, 401 and 403 (anything else becomes a 500), so a
	// request refused as malformed (400) is a plain denial there. Traefik, Caddy and Envoy
	// return the answer's status to the client as it is.
	if d.Status == http.StatusBadRequest && s.opts.ForwardAuth == ProxyNginx {
		d.Status = http.StatusForbidden
	}
	d.Audit.Status = d.Status
	s.audit.write(d.Audit)
	edgehttp.Deny(w, r, &d)
}

// request is the request being authorized, as forward-auth reconstructs it.
type request struct {
	method, target string
	refusal        string // why it cannot be decided (400); "" when it can
}

// original reconstructs the request being authorized from the one description the configured
// proxy writes itself (see Proxy). From a peer outside TrustedProxies the request line is
// used and every header ignored. From a trusted proxy, a request carrying another proxy's
// family, a second copy of a header, or missing the family's headers is refused: nginx,
// Traefik and Caddy pass the client's own headers on to pingedge, so any description the proxy
// did not set may come from the client, and guessing which copy is real is how spoofing works.
func (s *Server) original(r *http.Request) request {
	line := request{method: r.Method, target: r.URL.RequestURI()}
	if !s.trusted(r.RemoteAddr) {
		return line
	}
	fam := s.opts.ForwardAuth.family()
	o := line
	if fam.method != "" {
		// The path the origin will serve is the proxy's own header: audit that, even when refusing.
		m, okM := single(r.Header, fam.method)
		t, okT := single(r.Header, fam.uri)
		o = request{method: m, target: t}
		switch {
		case !okM || !okT:
			return refuse(o, "two copies of "+fam.method+" or "+fam.uri)
		case m == "" || t == "":
			return refuse(o, string(s.opts.ForwardAuth)+" did not send "+fam.method+" and "+fam.uri+": check the proxy configuration (docs/edge.md)")
		case !strings.HasPrefix(t, "/"):
			return refuse(o, fam.uri+" is not an origin-form path")
		}
	}
	if strings.EqualFold(o.method, http.MethodConnect) {
		// A CONNECT names a host, not a path: Caddy describes it as "/", which a rule would match.
		return refuse(o, "CONNECT is not a request to the API")
	}
	for _, name := range originHeaders() {
		if name == fam.method || name == fam.uri {
			continue
		}
		if _, sent := r.Header[name]; sent {
			return refuse(o, name+" sent, but "+string(s.opts.ForwardAuth)+" does not set it: a client-supplied description of the request")
		}
	}
	return o
}

func refuse(o request, why string) request {
	o.refusal = "original request: " + why
	return o
}

// single returns the value of name, provided it is present at most once.
func single(h http.Header, name string) (string, bool) {
	switch v := h[name]; len(v) {
	case 0:
		return "", true
	case 1:
		return strings.TrimSpace(v[0]), true
	default:
		return "", false
	}
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
