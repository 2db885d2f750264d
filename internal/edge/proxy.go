package edge

import (
	"fmt"
	"strings"
)

// Proxy names the proxy in front of a forward-auth server, and so the one set of headers that
// describes the request being authorized: the set that proxy writes itself.
type Proxy string

// The proxies forward-auth answers.
const (
	// ProxyNginx: auth_request with proxy_set_header X-Original-Method and X-Original-URI
	// (docs/examples/nginx.conf).
	ProxyNginx Proxy = "nginx"
	// ProxyTraefik: forwardAuth with trustForwardHeader: false sets X-Forwarded-Method and
	// X-Forwarded-Uri from the request itself.
	ProxyTraefik Proxy = "traefik"
	// ProxyCaddy: forward_auth sets X-Forwarded-Method and X-Forwarded-Uri.
	ProxyCaddy Proxy = "caddy"
	// ProxyEnvoy: ext_authz (HTTP service, no path_prefix) sends the original method and path
	// as its own request line; no header describes the request.
	ProxyEnvoy Proxy = "envoy"
)

// ProxyChoices is how usage errors list the proxies.
const ProxyChoices = "nginx, traefik, caddy or envoy"

// ParseProxy reads --forward-auth's value.
func ParseProxy(s string) (Proxy, error) {
	switch p := Proxy(strings.ToLower(strings.TrimSpace(s))); p {
	case ProxyNginx, ProxyTraefik, ProxyCaddy, ProxyEnvoy:
		return p, nil
	}
	return "", fmt.Errorf("unknown proxy %q: name the proxy in front, one of %s", s, ProxyChoices)
}

// family is the pair of headers a proxy sets to describe the request; empty for Envoy.
type family struct{ method, uri string }

func (p Proxy) family() family {
	switch p {
	case ProxyNginx:
		return family{"X-Original-Method", "X-Original-Uri"}
	case ProxyTraefik, ProxyCaddy:
		return family{"X-Forwarded-Method", "X-Forwarded-Uri"}
	}
	return family{}
}

// originHeaders are every header some proxy or framework uses to describe the original
// request (canonical form). Whichever the configured proxy does not set itself can only come
// from the client, so its presence refuses the request. X-Original-Url and X-Rewrite-Url are
// IIS's, read by some frameworks (Symfony, Zend) as the path to serve.
func originHeaders() []string {
	return []string{"X-Forwarded-Method", "X-Forwarded-Uri", "X-Original-Method", "X-Original-Uri",
		"X-Original-Url", "X-Rewrite-Url", "X-Envoy-Original-Path"}
}
