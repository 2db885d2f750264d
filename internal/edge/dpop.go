package edge

import (
	"net/http"
	"strings"
)

// forwardAuthURL is the original request's URL for DPoP: the path the trusted proxy described,
// under Options.PublicURL when set, else under the proxy's X-Forwarded-Proto and
// X-Forwarded-Host (one copy each). From any other peer, or when the proxy does not send them,
// it is "" and DPoP proofs are refused (the htu cannot be checked against headers a client
// could have written).
func (s *Server) forwardAuthURL(r *http.Request, target string) string {
	if !s.trusted(r.RemoteAddr) {
		return ""
	}
	path, _, _ := strings.Cut(target, "?")
	if s.opts.PublicURL != "" {
		return s.opts.PublicURL + path
	}
	proto, okP := single(r.Header, "X-Forwarded-Proto")
	host, okH := single(r.Header, "X-Forwarded-Host")
	if !okP || !okH || host == "" || (proto != "http" && proto != "https") {
		return ""
	}
	return proto + "://" + host + path
}
