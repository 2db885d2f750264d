// Package httpclient is pingedge's one policy for HTTP requests to issuers and key sets: every
// request has a timeout, a request that carries a secret never follows a redirect, other
// redirects stay on https (or loopback http), and "localhost" names reach this machine only.
//
// Why: a token endpoint answering 307 Location: http://other-host/ would otherwise receive the
// refresh token in clear text and hand back a token of its own (issue 16 finding 1). Go's client
// follows 307/308 with the body, and 301/302/303 as a GET whose answer would be read as the token
// response. Neither is acceptable for a request whose body or headers hold a secret.
package httpclient

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Config holds what New needs; the zero value (with Getenv set) is the production client.
type Config struct {
	// Getenv reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY (the environment is injected).
	Getenv func(string) string
	// Timeout bounds a whole request; zero means 60 seconds.
	Timeout time.Duration
	// TLS replaces the TLS settings (tests trust httptest's certificate); nil means system roots.
	TLS *tls.Config
	// Dial replaces the network dial for names that are not localhost (tests); nil means a
	// net.Dialer using Resolver.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Resolver is the DNS resolver for other names; nil means the system's.
	Resolver *net.Resolver
}

// New returns the client every pingedge command uses to talk to issuers and key sets.
func New(cfg Config) *http.Client {
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 30 * time.Second
	t.Proxy = proxyFunc(cfg.Getenv)
	t.DialContext = loopbackDial(cfg.dial())
	if cfg.TLS != nil {
		t.TLSClientConfig = cfg.TLS.Clone()
	}
	return &http.Client{Transport: t, Timeout: cfg.Timeout, CheckRedirect: CheckRedirect}
}

func (cfg Config) dial() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if cfg.Dial != nil {
		return cfg.Dial
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Resolver: cfg.Resolver}
	return d.DialContext
}

// Enforce returns a copy of hc that applies the redirect policy, whatever client was injected:
// the code that sends a secret calls it, so the rule holds even for a client built elsewhere.
func Enforce(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	c.CheckRedirect = CheckRedirect
	return &c
}

// proxyFunc is http.ProxyFromEnvironment over the injected environment, except that a localhost
// name is never sent to a proxy: the proxy would resolve evil.localhost through its own DNS.
func proxyFunc(getenv func(string) string) func(*http.Request) (*url.URL, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	env := func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return getenv(toLower(k))
	}
	pf := (&httpproxy.Config{
		HTTPProxy: env("HTTP_PROXY"), HTTPSProxy: env("HTTPS_PROXY"), NoProxy: env("NO_PROXY"),
	}).ProxyFunc()
	return func(r *http.Request) (*url.URL, error) {
		if IsLocalhostName(r.URL.Hostname()) {
			return nil, nil
		}
		return pf(r.URL)
	}
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
