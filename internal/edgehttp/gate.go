package edgehttp

import (
	"net/http"
	"net/url"

	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/jose"
)

// Gate decides requests. Safe for concurrent use once built.
type Gate struct {
	// Engine returns the engine in force. edge serve swaps engines on a policy reload, so it is
	// called once per request and that request sees one policy from start to end.
	Engine func() *verify.Engine
	// Audit receives every decision's record; nil drops them.
	Audit func(verify.AuditRecord)
	// PublicOrigin, when set (ParsePublicURL), is the scheme and authority clients address,
	// for a DPoP proof's htu: behind a TLS-terminating load balancer the request arrives as
	// http, for an internal host, and neither is what the client signed. "" uses the request.
	PublicOrigin string
}

// Pass is what an allowed request needs to be rewritten for the origin (not the whole
// Decision, which is large).
type Pass struct {
	Claims    *jose.Claims      // nil on a route open to anyone: no token was verified
	Path      string            // the normalised path, when it differs from the raw one; "" otherwise
	Set       map[string]string // identity headers, canonical names
	Strip     []string          // Authorization and every identity header name
	RequestID string
	IDHeader  string // canonical
}

// Check decides r. A refused request has been answered on w and Check returns nil; an allowed
// one gets its Pass, and w already carries the request ID header.
func (g *Gate) Check(w http.ResponseWriter, r *http.Request) *Pass {
	eng := g.Engine()
	idHeader := http.CanonicalHeaderKey(eng.Policy().RequestIDHeader) // the policy may spell it in any case
	rid := verify.RequestID(r.Header.Get(idHeader))
	raw := r.URL.EscapedPath()
	req := verify.Request{Method: r.Method, Path: raw, Header: r.Header, RequestID: rid}
	if eng.Policy().DPoPEnabled() { // only a proof's htu needs the URL: no string built per request otherwise
		req.URL = g.requestURL(r, raw)
	}
	d := eng.Decide(r.Context(), req)
	if g.Audit != nil {
		g.Audit(d.Audit)
	}
	w.Header()[idHeader] = []string{rid}
	if !d.Allow {
		Deny(w, r, &d)
		return nil
	}
	p := &Pass{Claims: d.Claims, Set: d.SetHeaders, Strip: d.StripHeaders, RequestID: rid, IDHeader: idHeader}
	if d.Path != raw {
		p.Path = d.Path
	}
	return p
}

// RequestURL is the request as the server received it, for a DPoP proof's htu (RFC 9449 §4.3
// point 9): the server's own scheme, the Host the client sent and the raw path (no query, as
// htu has none). Behind a TLS-terminating load balancer the scheme is http here, so proofs for
// the https URL the client called are refused (docs/dpop.md).
func RequestURL(r *http.Request, rawPath string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + rawPath
}

// requestURL is the htu a proof must name: the public origin when one is configured (the
// request's own scheme and Host are then not read at all), else RequestURL.
func (g *Gate) requestURL(r *http.Request, rawPath string) string {
	if g.PublicOrigin != "" {
		return g.PublicOrigin + rawPath
	}
	return RequestURL(r, rawPath)
}

// RewritePath gives u the path the rules matched, not the raw one: an origin that normalises
// differently (dot segments, repeated slashes, %2e) cannot be reached on a path the policy
// never saw.
func (p *Pass) RewritePath(u *url.URL) {
	if p.Path == "" {
		return
	}
	if dec, err := url.PathUnescape(p.Path); err == nil {
		u.Path, u.RawPath = dec, p.Path
	}
}

// RewriteHeader removes the credentials and every client-sent copy of an identity header,
// then sets the verified identity and the request ID.
func (p *Pass) RewriteHeader(h http.Header) {
	StripHeaders(h, p.Strip)
	// One allocation for every value; each slice is capped so an Add cannot spill into the next.
	vals := make([]string, 0, len(p.Set)+1)
	for k, v := range p.Set {
		vals = append(vals, v)
		n := len(vals)
		h[k] = vals[n-1 : n : n]
	}
	vals = append(vals, p.RequestID)
	n := len(vals)
	h[p.IDHeader] = vals[n-1 : n : n]
}

// StripHeaders removes every header named in names, whatever the spelling: any case (a map
// filled without canonical keys) and underscores for dashes, since CGI-style origins (PHP,
// WSGI, Rack) read X_Auth_User and X-Auth-User as the same HTTP_X_AUTH_USER variable. It
// allocates nothing.
func StripHeaders(h http.Header, names []string) {
	for k := range h {
		for _, n := range names {
			if verify.SameHeaderName(k, n) {
				delete(h, k)
				break
			}
		}
	}
}
