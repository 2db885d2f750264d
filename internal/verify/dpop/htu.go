package dpop

import (
	"net/url"
	"strings"
)

// SameURL compares a proof's htu with the request's URL as RFC 9449 §4.3 point 9 says: without
// query and fragment, after RFC 3986 §6.2.2/§6.2.3 normalisation (case of scheme and host,
// default port, an empty path is "/"). Both must be absolute http(s) URLs without userinfo.
func SameURL(htu, request string) bool {
	a, okA := normalURL(htu)
	b, okB := normalURL(request)
	return okA && okB && a == b
}

func normalURL(s string) (string, bool) {
	if len(s) > 8<<10 {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.User != nil || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") { // an IPv6 literal keeps its brackets
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(scheme == "https" && p == "443" || scheme == "http" && p == "80") {
		host += ":" + p
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, true
}
