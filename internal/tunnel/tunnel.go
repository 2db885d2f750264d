// Package tunnel is the local reverse proxy that attaches short-lived access tokens: requests to
// a loopback listener are forwarded to an upstream with `Authorization: Bearer <token>`, the token
// kept fresh ahead of expiry, and guards that stop other web sites and hosts from riding the
// engineer's identity.
package tunnel

import (
	"github.com/pingedge/pingedge/internal/dpopkey"

	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"sync/atomic"
	"time"
)

// Options configure a Tunnel. Routes and Source are required.
type Options struct {
	Routes []Route
	Source TokenSource
	// IsLoginRequired reports errors from Source that mean the session is gone (invalid_grant,
	// logged out); for those the tunnel answers 401 with a login hint instead of retrying.
	IsLoginRequired func(error) bool
	// Profile is named in the login hint.
	Profile string

	AllowOrigins []string // browser origins allowed to call the tunnel (CORS)
	AllowHosts   []string // extra Host names accepted besides localhost and IP literals
	AllowRemote  bool     // accept a non-loopback listener (checked by Listen)
	// AllowCleartextUpstream accepts http:// upstreams that are not loopback: every request
	// would carry the bearer token in clear text across the network. New refuses them otherwise.
	AllowCleartextUpstream bool
	// ForwardCookies sends the browser's Cookie header upstream and passes Set-Cookie back (see
	// cookies.go for why neither happens by default).
	ForwardCookies bool

	// MinTTL is how long a token must still be valid when a request leaves; default 10s, capped
	// at a quarter of the token's lifetime for short-lived tokens.
	MinTTL time.Duration
	// Transport reaches the upstreams; default NewTransport(TransportOptions{}).
	Transport http.RoundTripper
	// AccessLog receives one entry per request; nil logs nothing.
	AccessLog func(Entry)
	// Logger receives operational events (refresh failures, lost and restored sessions).
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// DrainTimeout bounds how long Serve waits for in-flight requests after ctx ends; default 10s.
	DrainTimeout time.Duration
	// BodyIdleTimeout cuts a forwarded request whose body makes no progress for this long;
	// default 30s. Request headers must arrive within 10s, idle connections close after 2 min.
	BodyIdleTimeout time.Duration
	// RejectedRefreshInterval is the least time between forced refreshes when the upstream keeps
	// rejecting freshly refreshed tokens; default 5s.
	RejectedRefreshInterval time.Duration
	// DPoP, when set, sends the token as `Authorization: DPoP` with a proof per request signed
	// by this key (RFC 9449; dpop.go). The token must be bound to it (login --dpop).
	DPoP *dpopkey.Signer
}

// Tunnel is a configured proxy. Serve it once.
type Tunnel struct {
	opts   Options
	routes routeTable
	keeper *keeper
	dpop   *dpopState // nil without Options.DPoP
	proxy  *httputil.ReverseProxy
	log    *slog.Logger

	cookieWarned atomic.Bool // the dropped-Set-Cookie warning is given once
}

// New checks the options and builds the proxy.
func New(opts Options) (*Tunnel, error) {
	if opts.Source == nil {
		return nil, errors.New("tunnel: no token source")
	}
	opts = withDefaults(opts)
	routes, err := newRouteTable(opts.Routes)
	if err != nil {
		return nil, err
	}
	if err := CheckCleartext(opts.Routes, opts.AllowCleartextUpstream); err != nil {
		return nil, err
	}
	if _, err := newGuard(0, false, nil, opts.AllowOrigins); err != nil {
		return nil, err
	}
	if opts.Transport == nil {
		if opts.Transport, err = NewTransport(TransportOptions{}); err != nil {
			return nil, err
		}
	}
	t := &Tunnel{opts: opts, routes: routes, log: opts.Logger}
	if opts.DPoP != nil {
		t.dpop = &dpopState{signer: opts.DPoP, now: opts.Now}
	}
	t.keeper = &keeper{
		scheme: t.dpop.scheme(),
		src:    opts.Source, now: opts.Now, isLogin: opts.IsLoginRequired, log: opts.Logger,
		minTTL: opts.MinTTL, jitter: rand.Float64, every: opts.RejectedRefreshInterval,
		wake: make(chan struct{}, 1), base: context.Background(),
	}
	t.proxy = t.newProxy()
	return t, nil
}

func withDefaults(o Options) Options {
	if o.IsLoginRequired == nil {
		o.IsLoginRequired = func(error) bool { return false }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MinTTL <= 0 {
		o.MinTTL = 10 * time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 10 * time.Second
	}
	if o.BodyIdleTimeout <= 0 {
		o.BodyIdleTimeout = 30 * time.Second
	}
	if o.RejectedRefreshInterval <= 0 {
		o.RejectedRefreshInterval = 5 * time.Second
	}
	return o
}

// Serve answers requests on ln until ctx ends, then drains in-flight requests (up to
// DrainTimeout) and returns nil. It also runs the background refresher for as long as it serves.
func (t *Tunnel) Serve(ctx context.Context, ln net.Listener) error {
	g, err := newGuard(listenerPort(ln), t.opts.AllowRemote, t.opts.AllowHosts, t.opts.AllowOrigins)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t.keeper.base = ctx
	go t.keeper.run(ctx)
	srv := &http.Server{
		Handler:           t.handler(g),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(t.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("tunnel stopped: %w", err)
	case <-ctx.Done():
	}
	drain, stop := context.WithTimeout(context.WithoutCancel(ctx), t.opts.DrainTimeout)
	defer stop()
	if err := srv.Shutdown(drain); err != nil {
		t.log.Warn("requests still running after the drain timeout were cut", "timeout", t.opts.DrainTimeout)
		_ = srv.Close()
	}
	<-errc
	return nil
}
