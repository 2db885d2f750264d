package edge

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/pingedge/pingedge/internal/edgehttp"
	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/keyset"
)

// Options configure a Server. PolicyFile and exactly one of Origin or ForwardAuth are required.
type Options struct {
	PolicyFile string
	Origin     *url.URL // gateway mode: allowed requests go here
	// ForwardAuth is forward-auth mode: answer 200/401/403 for this proxy in front, believing
	// only the headers it sets itself (see Proxy).
	ForwardAuth Proxy

	// PublicURL is the scheme and host clients address ("https://api.example.com"), for a DPoP
	// proof's htu when the request arrives through a TLS-terminating load balancer (gateway)
	// or a proxy whose X-Forwarded-Proto/Host do not say it (forward-auth). "" reads them from
	// the request: the gateway's own scheme and the Host sent, or the trusted proxy's headers.
	PublicURL string

	// TrustedProxies are the peers whose X-Forwarded-*/X-Original-* headers name the request
	// being authorized; nil means loopback only (DefaultTrustedProxies).
	TrustedProxies []netip.Prefix

	Logger *slog.Logger // human logs (stderr); nil discards
	Audit  io.Writer    // one JSON line per decision (stdout); nil discards

	Fetcher keyset.Fetcher // JWKS and discovery fetches; nil: keyset.HTTPFetcher
	KeySet  jose.KeySet    // fixed keys instead of the policy's jwks_uri (tests, air-gapped)
	Now     func() time.Time

	// ReloadInterval is how often the policy file is checked for changes; 0 means
	// DefaultReloadInterval and a negative value turns polling off.
	ReloadInterval time.Duration
	// Reload receives SIGHUP (the CLI wires it); any value reloads the policy now.
	Reload <-chan os.Signal
	// KeyRetry is the pause between attempts to load the keys at start; 0 means 5s.
	KeyRetry time.Duration
	// ShutdownTimeout bounds the graceful shutdown; 0 means 10s.
	ShutdownTimeout time.Duration
	// BodyIdleTimeout bounds each wait for more of an allowed request's body (gateway); 0
	// means the package's BodyIdleTimeout.
	BodyIdleTimeout time.Duration
	// Transport carries requests to the origin; nil means a pooled clone of the default.
	Transport http.RoundTripper
}

// Defaults.
const (
	DefaultReloadInterval = 2 * time.Second
	// MaxHeaderBytes leaves room for a 16 KiB token (jose.DefaultMaxTokenBytes) and the
	// usual cookies, and refuses the rest before any verification work is done.
	MaxHeaderBytes = 64 << 10
)

// DefaultTrustedProxies is loopback: a proxy on the same host.
var DefaultTrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// ParseTrustedProxies reads CIDRs or bare addresses ("10.0.0.0/8", "192.0.2.7", "::1").
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is neither an address nor a CIDR: use e.g. 10.0.0.0/8", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (o *Options) check() error {
	if o.PolicyFile == "" {
		return errors.New("a policy file is required: pass --policy FILE")
	}
	if (o.Origin == nil) == (o.ForwardAuth == "") {
		return errors.New("choose one mode: --origin URL (gateway) or --forward-auth PROXY")
	}
	if o.ForwardAuth != "" {
		if _, err := ParseProxy(string(o.ForwardAuth)); err != nil {
			return err
		}
	}
	if o.PublicURL != "" {
		pub, err := edgehttp.ParsePublicURL(o.PublicURL)
		if err != nil {
			return err
		}
		o.PublicURL = pub
	}
	if o.Origin != nil && (o.Origin.Scheme != "http" && o.Origin.Scheme != "https" || o.Origin.Host == "") {
		return fmt.Errorf("origin %q must be an http(s) URL with a host", o.Origin.Redacted())
	}
	return nil
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.TrustedProxies == nil {
		o.TrustedProxies = DefaultTrustedProxies
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Fetcher == nil {
		o.Fetcher = &keyset.HTTPFetcher{}
	}
	if o.ReloadInterval == 0 {
		o.ReloadInterval = DefaultReloadInterval
	}
	if o.KeyRetry <= 0 {
		o.KeyRetry = 5 * time.Second
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.BodyIdleTimeout <= 0 {
		o.BodyIdleTimeout = BodyIdleTimeout
	}
	if o.Transport == nil {
		o.Transport = originTransport()
	}
}

// originTransport pools connections generously: a gateway talks to one origin, and a small
// idle pool would make every burst open new connections.
func originTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 512
	t.ResponseHeaderTimeout = 0 // streaming origins may think a while; the client's context bounds it
	return t
}
