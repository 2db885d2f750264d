// Package devop runs an in-process OpenID Provider on loopback. It is the
// real protocol peer that pingedge's tests log in against and the issuer
// behind `pingedge demo`.
//
// The protocol itself (discovery, authorize, token, device authorization,
// revocation, userinfo, end_session, JWKS) is zitadel/oidc's `op` package,
// the provider ZITADEL itself runs; this package supplies the storage behind it (users, one public
// native client, codes, rotating refresh tokens, device grants, signing keys),
// an auto-login page for scripted browsers, and the failure switches tests
// need (issuer outage, key rotation, injected device-flow errors, revoked
// sessions).
//
// zitadel/oidc logs protocol errors through slog.Default; nothing this
// package puts into an error carries a token, code or refresh token.
package devop

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is an account the provider can sign in.
type User struct {
	Subject, Email, Name string
	Roles                []string
}

// Config configures a Server. The zero value is usable: every field has a
// default suitable for tests and `pingedge demo`.
type Config struct {
	// Addr is where to listen; default "127.0.0.1:0". Only loopback
	// addresses are accepted: this provider has no real authentication.
	Addr string
	// ClientID of the one registered client, default "pingedge-cli": a
	// public native client (token endpoint auth method none) that must use
	// PKCE S256 and may use the authorization_code, refresh_token and
	// device_code grants. Its redirect URI http://127.0.0.1/callback (also
	// http://localhost and http://[::1]) is accepted on any port, as
	// RFC 8252 §7.3 requires for loopback redirects.
	ClientID string
	// Audience is added to the aud of JWT access tokens, after the client
	// ID; default ["https://api.example.com"].
	Audience []string
	// AccessTokenTTL is the access token lifetime; default 5m.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the lifetime of each refresh token; default 24h.
	RefreshTokenTTL time.Duration
	// SigningAlg is RS256 (default), PS256 or ES256.
	SigningAlg string
	// Users who can sign in; default alice (engineer) and bob (admin, engineer).
	Users []User
	// Logger receives operational events; nil discards them. It never
	// receives a token, code or refresh token.
	Logger *slog.Logger

	// DevicePollInterval is the RFC 8628 §3.2 interval; default 1s so
	// tests stay fast.
	DevicePollInterval time.Duration
	// DeviceCodeTTL is how long a device code stays valid; default 5m.
	DeviceCodeTTL time.Duration
	// JWKSMaxAge is the Cache-Control max-age of the JWKS; default 10s,
	// kept small so key rotation reaches caching verifiers quickly.
	JWKSMaxAge time.Duration

	// DPoPNonce makes the token endpoint require its own nonce in DPoP
	// proofs (RFC 9449 §8): a proof without the current one is answered
	// 400 use_dpop_nonce with a DPoP-Nonce header to retry with.
	DPoPNonce bool
	// DPoPJTIMemory bounds how many proof jti the token endpoint remembers
	// against replay; default DefaultDPoPJTIMemory. When it is full, the
	// oldest proofs are forgotten and proofs as old are refused (dpop_memory.go).
	DPoPJTIMemory int
}

// Stats counts requests by endpoint. Requests are counted when they arrive,
// also while the server is down, so tests can bound how often clients call.
type Stats struct {
	TokenRequests        int64 // every POST to the token endpoint
	AuthCodeExchanges    int64 // token requests with grant_type=authorization_code
	Refreshes            int64 // token requests with grant_type=refresh_token
	ReusedRefreshTokens  int64 // refresh tokens presented again after rotation
	DeviceAuthorizations int64 // requests to the device authorization endpoint
	Revocations          int64 // requests to the revocation endpoint
	JWKSFetches          int64 // requests to the JWKS
	DiscoveryFetches     int64 // requests to /.well-known/openid-configuration
}

type counters struct {
	tokenRequests, authCodeExchanges, refreshes, reusedRefreshTokens atomic.Int64
	deviceAuthorizations, revocations, jwksFetches, discoveryFetches atomic.Int64
}

// Server is a running provider. All methods are safe for concurrent use.
type Server struct {
	cfg        Config
	issuer     string
	log        *slog.Logger
	store      *storage
	provider   *op.Provider
	srv        *http.Server
	stats      counters
	down       atomic.Bool
	dpopJTI    *jtiMemory  // jti of DPoP proofs at the token endpoint (dpop.go)
	dpopNonces *dpopNonces // nil unless cfg.DPoPNonce

	injectMu    sync.Mutex
	injectCode  string
	injectTimes int

	closing   chan struct{} // closed by Close; ends the ctx watcher
	closeOnce sync.Once
	closeErr  error
	served    chan struct{}
}

// Start listens on cfg.Addr and serves the provider until Close is called or
// ctx is cancelled. It returns once the listener is open, so the issuer is
// reachable as soon as Start returns.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := listenLoopback(ctx, cfg.Addr)
	if err != nil {
		return nil, err
	}
	s, err := newServer(cfg, "http://"+ln.Addr().String())
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("devop: serve stopped", "error", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.closing:
		}
	}()
	s.log.Info("devop: OpenID provider listening", "issuer", s.issuer, "client_id", cfg.ClientID)
	return s, nil
}

func newServer(cfg Config, issuer string) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, issuer: issuer, log: log, served: make(chan struct{}), closing: make(chan struct{}),
		dpopJTI: newJTIMemory(cfg.DPoPJTIMemory)}
	if cfg.DPoPNonce {
		s.dpopNonces = &dpopNonces{}
	}
	store, err := newStorage(cfg, issuer, log, &s.stats)
	if err != nil {
		return nil, err
	}
	s.store = store
	if s.provider, err = newProvider(cfg, issuer, store); err != nil {
		return nil, err
	}
	s.srv = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

func newProvider(cfg Config, issuer string, store *storage) (*op.Provider, error) {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("devop: crypto key: %w", err)
	}
	config := &op.Config{
		CryptoKey:   key,
		CryptoKeyId: "devop",
		// end_session without a registered post_logout_redirect_uri lands here.
		DefaultLogoutRedirectURI: issuer + loggedOutPath,
		CodeMethodS256:           true,
		GrantTypeRefreshToken:    true,
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime:     cfg.DeviceCodeTTL,
			PollInterval: cfg.DevicePollInterval,
			UserFormPath: devicePath,
			UserCode:     op.UserCodeBase20,
		},
	}
	// WithAllowInsecure: the issuer is http on loopback, which the op
	// refuses otherwise; Start guarantees the address is loopback.
	p, err := op.NewProvider(config, store, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("devop: create provider: %w", err)
	}
	return p, nil
}

func listenLoopback(ctx context.Context, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("devop: listen address %q: %w", addr, err)
	}
	if host != "localhost" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("devop: listen address %q is not loopback: use 127.0.0.1:PORT", addr)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devop: listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Issuer is the issuer identifier, http://127.0.0.1:PORT.
func (s *Server) Issuer() string { return s.issuer }

// JWKSURI is where the provider publishes its public keys.
func (s *Server) JWKSURI() string { return s.issuer + jwksPath }

// ClientID is the client ID of the registered public client.
func (s *Server) ClientID() string { return s.cfg.ClientID }

// Audience is the audience added to access tokens besides the client ID.
func (s *Server) Audience() []string { return append([]string(nil), s.cfg.Audience...) }

// Users returns a copy of the accounts the provider knows.
func (s *Server) Users() []User { return s.store.userList() }

// Close stops the server, letting in-flight requests finish for up to
// closeGrace, then cutting the connections that remain (a stalled client
// must not hold up a test's cleanup). It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			s.closeErr = fmt.Errorf("devop: shutdown: %w", err)
		}
		if err := s.srv.Close(); err != nil && s.closeErr == nil {
			s.closeErr = fmt.Errorf("devop: close: %w", err)
		}
		<-s.served
	})
	return s.closeErr
}

const closeGrace = time.Second

// Stats returns a snapshot of the request counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		TokenRequests:        c.tokenRequests.Load(),
		AuthCodeExchanges:    c.authCodeExchanges.Load(),
		Refreshes:            c.refreshes.Load(),
		ReusedRefreshTokens:  c.reusedRefreshTokens.Load(),
		DeviceAuthorizations: c.deviceAuthorizations.Load(),
		Revocations:          c.revocations.Load(),
		JWKSFetches:          c.jwksFetches.Load(),
		DiscoveryFetches:     c.discoveryFetches.Load(),
	}
}

// SetDown makes every endpoint answer 503, as during an issuer outage.
func (s *Server) SetDown(down bool) {
	s.down.Store(down)
	s.log.Info("devop: outage switched", "down", down)
}

// SetLoginUser chooses who the auto-login and device pages sign in.
func (s *Server) SetLoginUser(subject string) { s.store.setLoginUser(subject) }

// RevokeUser ends every session of the user: all their refresh tokens stop
// working and their access tokens fail at userinfo.
func (s *Server) RevokeUser(subject string) {
	n := s.store.revokeUser(subject)
	s.log.Info("devop: user sessions revoked", "sub", subject, "families", n)
}

// ApproveDevice approves the pending device authorization with userCode for
// subject, as a user would on the verification page (RFC 8628 §3.3).
func (s *Server) ApproveDevice(userCode, subject string) error {
	return s.store.approveDevice(userCode, subject)
}

// DenyDevice denies the pending device authorization; the device's next
// poll answers access_denied (RFC 8628 §3.5).
func (s *Server) DenyDevice(userCode string) error { return s.store.denyDevice(userCode) }

// InjectDeviceTokenError makes the next `times` device_code token requests
// answer the RFC 8628 §3.5 error code (authorization_pending, slow_down,
// access_denied, expired_token) instead of consulting the grant.
func (s *Server) InjectDeviceTokenError(code string, times int) {
	s.injectMu.Lock()
	defer s.injectMu.Unlock()
	s.injectCode, s.injectTimes = code, times
}

// takeInjectedError consumes one injected device-flow error, if any.
func (s *Server) takeInjectedError() (string, bool) {
	s.injectMu.Lock()
	defer s.injectMu.Unlock()
	if s.injectTimes <= 0 || s.injectCode == "" {
		return "", false
	}
	s.injectTimes--
	return s.injectCode, true
}

// RotateKey makes a new signing key current. The JWKS keeps serving the
// previous key, so tokens already issued stay verifiable.
func (s *Server) RotateKey() (newKID string) {
	kid, err := s.store.keys.rotate()
	if err != nil {
		// Key generation only fails when the system's randomness does.
		panic(fmt.Sprintf("devop: rotate key: %v", err))
	}
	s.log.Info("devop: signing key rotated", "kid", kid)
	return kid
}
