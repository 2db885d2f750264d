package tunnel

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
)

// guard decides whether a request may ride the engineer's identity. The tunnel attaches a real
// bearer token to whatever reaches it, so anything a web page can make a browser send to
// 127.0.0.1 would otherwise act as the engineer:
//
//   - DNS rebinding: a page on attacker.example re-resolves its own name to 127.0.0.1 and then
//     reads the tunnel's responses as same-origin. The browser still sends Host: attacker.example,
//     so only loopback names (and the tunnel's own port) are accepted.
//   - Cross-site requests (CSRF): any page can send simple GETs and form POSTs to localhost. Browsers
//     label them with Sec-Fetch-Site (Fetch Metadata) and Origin, which are refused unless the
//     origin was allowed with --allow-origin.
type guard struct {
	port        int // the tunnel's TCP port; 0 for a unix socket (no browser can reach one)
	allowRemote bool
	hosts       map[string]bool // extra host names from --allow-host, lower case
	origins     map[string]bool // normalised --allow-origin values

	lastOK atomic.Pointer[string] // the last Host value accepted: clients repeat theirs
}

func newGuard(port int, allowRemote bool, hosts, origins []string) (*guard, error) {
	g := &guard{port: port, allowRemote: allowRemote, hosts: map[string]bool{}, origins: map[string]bool{}}
	for _, h := range hosts {
		g.hosts[strings.ToLower(strings.TrimSuffix(h, "."))] = true
	}
	for _, o := range origins {
		if o == "*" || o == "null" {
			return nil, fmt.Errorf("%w: %s would let any web page act as you", ErrBadOrigin, o)
		}
		n, ok := normOrigin(o)
		if !ok {
			return nil, fmt.Errorf("%w: %q is not an origin (scheme://host[:port])", ErrBadOrigin, o)
		}
		g.origins[n] = true
	}
	return g, nil
}

// hostOK reports whether the Host header names this tunnel: a loopback name or address with the
// tunnel's port. IP literals cannot be rebound, so with --allow-remote any address is accepted;
// DNS names must be localhost or listed with --allow-host.
func (g *guard) hostOK(hostport string) bool {
	if last := g.lastOK.Load(); last != nil && *last == hostport {
		return true
	}
	if !g.checkHost(hostport) {
		return false
	}
	g.lastOK.Store(&hostport)
	return true
}

func (g *guard) checkHost(hostport string) bool {
	host, port, ok := splitHost(hostport)
	if !ok || (g.port != 0 && port != g.port) {
		return false
	}
	name := strings.ToLower(strings.TrimSuffix(host, ".")) // a trailing dot is the same DNS name
	if name == "localhost" || g.hosts[name] {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return false
	}
	return ip.Unmap().IsLoopback() || g.allowRemote
}

// splitHost splits a Host header into a name and a port, 80 when none is given (RFC 9110 §7.2).
func splitHost(hostport string) (string, int, bool) {
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		if inner, ok := strings.CutPrefix(hostport, "["); ok && strings.HasSuffix(inner, "]") && strings.Contains(inner, ":") {
			return inner[:len(inner)-1], 80, true
		}
		if hostport == "" || strings.Contains(hostport, ":") {
			return "", 0, false
		}
		return hostport, 80, true
	}
	if host == "" || (strings.HasPrefix(hostport, "[") != strings.Contains(host, ":")) {
		return "", 0, false // brackets are for IPv6 literals only (RFC 3986 §3.2.2)
	}
	if p == "" {
		return host, 80, true
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 || strings.Trim(p, "0123456789") != "" {
		return "", 0, false
	}
	return host, port, true
}

// browser checks Fetch Metadata and Origin. It returns the origin to echo in CORS headers (only
// for an allowed origin) and false when the request must be refused.
func (g *guard) browser(r *http.Request) (allowedOrigin string, ok bool) {
	origin := r.Header.Get("Origin")
	if origin != "" {
		if n, valid := normOrigin(origin); valid && g.origins[n] {
			return origin, true
		}
	}
	switch strings.ToLower(r.Header.Get("Sec-Fetch-Site")) {
	case "cross-site", "same-site":
		return "", false
	}
	if origin != "" && !sameOrigin(origin, r.Host) {
		return "", false
	}
	return "", true
}

// sameOrigin reports whether origin is the tunnel itself (a page served through the tunnel).
func sameOrigin(origin, host string) bool {
	n, ok := normOrigin(origin)
	if !ok {
		return false
	}
	self, ok := normOrigin("http://" + host)
	return ok && n == self
}

// normOrigin returns scheme://host[:port] in lower case without a default port (RFC 6454 §4).
func normOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	port := defaultPort(scheme)
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return "", false
		}
		port = n
	}
	if host == "" {
		return "", false
	}
	if port == defaultPort(scheme) {
		return scheme + "://" + hostForURL(host), true
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)), true
}

func defaultPort(scheme string) int {
	if scheme == "https" {
		return 443
	}
	return 80
}

func hostForURL(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

// isPreflight reports a CORS preflight (Fetch standard, "CORS-preflight request").
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// answerPreflight allows the requested method and headers for an allowed origin. It also answers
// Chrome's Private Network Access preflight, which a public page reaching 127.0.0.1 triggers.
func answerPreflight(w http.ResponseWriter, r *http.Request, origin string) {
	h := w.Header()
	setCORS(h, origin)
	h.Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		h.Set("Access-Control-Allow-Headers", rh)
	}
	if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
		h.Set("Access-Control-Allow-Private-Network", "true")
	}
	h.Set("Access-Control-Max-Age", "600")
	dropBody(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func setCORS(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
}
