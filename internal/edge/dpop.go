package edge

import (
	"net/http"
	"strings"
)

// gatewayURL is the request as the gateway received it, for a DPoP proof's htu (RFC 9449
// §4.3 point 9): the gateway's own scheme, the Host the client sent and the raw path. Behind
// a TLS-terminating load balancer the scheme is http here: run the gateway with TLS or use
// forward-auth there (docs/dpop.md).
func gatewayURL(r *http.Request, rawPath string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + rawPath
}

// forwardAuthURL is the original request's URL for DPoP, from the trusted proxy's
// X-Forwarded-Proto and X-Forwarded-Host (one copy each) and the path it described. From any
// other peer, or when the proxy does not send them, it is "" and DPoP proofs are refused (the
// htu cannot be checked against headers a client could have written).
func (s *Server) forwardAuthURL(r *http.Request, target string) string {
	if !s.trusted(r.RemoteAddr) {
		return ""
	}
	proto, okP := single(r.Header, "X-Forwarded-Proto")
	host, okH := single(r.Header, "X-Forwarded-Host")
	if !okP || !okH || host == "" || (proto != "http" && proto != "https") {
		return ""
	}
	path, _, _ := strings.Cut(target, "?")
	return proto + "://" + host + path
}

// setDPoPNonce sends the server nonce a use_dpop_nonce refusal carries (RFC 9449 §8).
func setDPoPNonce(w http.ResponseWriter, nonce string) {
	if nonce != "" {
		w.Header().Set("DPoP-Nonce", nonce)
	}
}
