package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/secret"
)

// SourceConfig is what a Source needs: the profile, where its state and refresh token live, and
// the injected edges (HTTP client, clock, verbose log).
type SourceConfig struct {
	Profile  string
	StateDir string
	Store    credstore.Store
	HTTP     *http.Client
	Now      func() time.Time
	// Logf receives verbose progress lines; it is never given a token. Nil discards.
	Logf func(format string, args ...any)
}

// Source hands out access tokens for one profile. It is safe for concurrent use, and several
// processes may use the same profile at once: a refresh happens under an in-process semaphore
// (waiters re-check the cache when they get their turn, so N concurrent callers cause one
// refresh: singleflight) and under a file lock in the state directory, after which the session
// file is read again, so a token another process just obtained is reused instead of refreshed.
type Source struct {
	cfg   SourceConfig
	paths StatePaths
	sem   chan struct{} // capacity 1: the in-process refresh turn; a mutex that honours ctx

	mu          sync.Mutex
	sess        *Session // the last session seen, from disk or from our own refresh
	trusted     string   // the cross-origin endpoints discovery last confirmed (session_trust.go)
	trustedSess *Session // the session trust last accepted
}

// NewSource opens the profile's session. It fails with ErrLoginRequired when the profile has none.
func NewSource(cfg SourceConfig) (*Source, error) {
	paths, err := PathsFor(cfg.StateDir, cfg.Profile)
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	sess, err := ReadSession(paths.Session)
	if errors.Is(err, errNoSession) {
		return nil, notLoggedIn(cfg.Profile)
	}
	if err != nil {
		return nil, err
	}
	return &Source{cfg: cfg, paths: paths, sem: make(chan struct{}, 1), sess: sess}, nil
}

// Issuer is the issuer the session belongs to.
func (s *Source) Issuer() string { return s.session().Issuer }

// Subject is the signed-in user's sub claim, from the verified ID token saved at login.
func (s *Source) Subject() string { return s.session().Subject }

// Username is preferred_username, email or name from the ID token, for banners; may be empty.
func (s *Source) Username() string { return s.session().Username }

// Session returns a copy of the current session metadata (the access token included).
func (s *Source) Session() Session { return *s.session() }

func (s *Source) session() *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sess
}

func (s *Source) setSession(sess *Session) {
	s.mu.Lock()
	s.sess = sess
	s.mu.Unlock()
}

// Token returns an access token valid for at least minTTL: the cached one (from memory, or from
// the state directory where another invocation left it) when it is, else the result of one refresh.
func (s *Source) Token(ctx context.Context, minTTL time.Duration) (secret.AccessToken, error) {
	// A token obtained after this call began is as fresh as a refresh of ours would be, even when
	// it cannot satisfy a minTTL longer than the issuer's token lifetime: take it, do not refresh
	// again (that would make concurrent callers refresh one after another).
	start := s.cfg.Now()
	good := func(t secret.AccessToken) bool {
		return t.Valid(s.cfg.Now(), minTTL) || !t.IssuedAt.Before(start) && t.Valid(s.cfg.Now(), 0)
	}
	if sess := s.session(); good(sess.Access) {
		if err := s.trust(ctx, sess); err != nil {
			return secret.AccessToken{}, err
		}
		return sess.Access, nil
	}
	if sess, err := ReadSession(s.paths.Session); err == nil && good(sess.Access) {
		if err := s.trust(ctx, sess); err != nil {
			return secret.AccessToken{}, err
		}
		s.setSession(sess)
		return sess.Access, nil
	}
	return s.refreshOnce(ctx, good)
}

// Refresh forces a refresh because the upstream rejected `rejected` (a 401), unless the token held
// now is already a different one, which another caller obtained meanwhile.
func (s *Source) Refresh(ctx context.Context, rejected secret.String) (secret.AccessToken, error) {
	return s.refreshOnce(ctx, func(t secret.AccessToken) bool {
		return t.Value.Reveal() != rejected.Reveal() && t.Valid(s.cfg.Now(), 0)
	})
}

// refreshOnce takes the in-process turn, then the cross-process lock, re-reading the cache after
// each; only if no one else produced a good token does it refresh.
func (s *Source) refreshOnce(ctx context.Context, good func(secret.AccessToken) bool) (secret.AccessToken, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return secret.AccessToken{}, ctx.Err()
	}
	defer func() { <-s.sem }()
	if t := s.session().Access; good(t) {
		return t, nil
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return secret.AccessToken{}, err
	}
	defer unlock()
	sess, err := ReadSession(s.paths.Session)
	if errors.Is(err, errNoSession) {
		return secret.AccessToken{}, notLoggedIn(s.cfg.Profile)
	}
	if err != nil {
		return secret.AccessToken{}, err
	}
	if err := s.trust(ctx, sess); err != nil {
		return secret.AccessToken{}, err
	}
	s.setSession(sess)
	if good(sess.Access) {
		s.cfg.Logf("using the access token another pingedge process just refreshed")
		return sess.Access, nil
	}
	return s.refresh(ctx, sess)
}

// lock takes the profile's file lock, waiting (while ctx allows) for another process's refresh.
func (s *Source) lock(ctx context.Context) (func(), error) {
	return lockProfile(ctx, s.paths.Lock, s.cfg.Profile)
}

// lockProfile takes the lock every writer of a profile's credentials holds: refresh, login and
// logout, so none of them can save a refresh token over another's.
func lockProfile(ctx context.Context, path, profile string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock for profile %s: %w", profile, err)
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil || !ok {
		return nil, fmt.Errorf("wait for another pingedge using profile %s: %w", profile, err)
	}
	return func() { _ = fl.Unlock() }, nil
}

// refresh runs one refresh_token grant (RFC 6749 §6). A rotated refresh token is saved before the
// new access token is handed out (the old one is dead at the issuer once rotated); invalid_grant
// means the session is over; any other failure leaves the stored refresh token untouched.
func (s *Source) refresh(ctx context.Context, sess *Session) (secret.AccessToken, error) {
	p := s.cfg.Profile
	rt, err := s.cfg.Store.Get(ctx, p)
	if errors.Is(err, credstore.ErrNotFound) {
		return secret.AccessToken{}, notLoggedIn(p)
	}
	if err != nil {
		return secret.AccessToken{}, fmt.Errorf("refresh token for profile %s: %w", p, err)
	}
	s.cfg.Logf("refreshing the access token at %s", sess.TokenEndpoint)
	resp, err := tokenRequest(ctx, s.cfg.HTTP, sess.TokenEndpoint, refreshForm(sess, rt))
	if err != nil {
		err = refreshError(p, err)
		if errors.Is(err, ErrLoginRequired) {
			s.endSession(ctx, sess)
		}
		return secret.AccessToken{}, err
	}
	if !resp.RefreshToken.Empty() && resp.RefreshToken.Reveal() != rt.Reveal() {
		if err := s.cfg.Store.Set(ctx, p, resp.RefreshToken); err != nil {
			return secret.AccessToken{}, fmt.Errorf("save the rotated refresh token for profile %s: %w", p, err)
		}
		s.cfg.Logf("the issuer rotated the refresh token; saved the new one to the %s store", s.cfg.Store.Kind())
	}
	now := s.cfg.Now()
	next := *sess
	next.Access = secret.AccessToken{Value: resp.AccessToken, Expiry: accessExpiry(resp, now), IssuedAt: now}
	if resp.Scope != "" {
		next.Scopes = strings.Fields(resp.Scope)
	}
	if err := writeSession(s.paths.Session, &next); err != nil {
		s.cfg.Logf("could not cache the access token (%v); the next invocation will refresh again", err)
	}
	s.setSession(&next)
	s.cfg.Logf("access token refreshed, valid until %s", next.Access.Expiry.Format(time.RFC3339))
	return next.Access, nil
}

// endSession forgets what invalid_grant made useless (RFC 6749 §5.2): the dead refresh token
// and the cached access token, so `pingedge status` reports the session as over, as `pingedge
// token` just did, instead of a cached token that nothing can renew. Best effort: the error
// the caller returns already says to log in again.
func (s *Source) endSession(ctx context.Context, sess *Session) {
	if err := s.cfg.Store.Delete(ctx, s.cfg.Profile); err != nil && !errors.Is(err, credstore.ErrNotFound) {
		s.cfg.Logf("could not delete the dead refresh token: %v", err)
	}
	next := *sess
	next.Access = secret.AccessToken{}
	if err := writeSession(s.paths.Session, &next); err != nil {
		s.cfg.Logf("could not clear the cached access token: %v", err)
	}
	s.setSession(&next)
}

func refreshForm(sess *Session, rt secret.String) url.Values {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {rt.Reveal()},
		"client_id":     {sess.ClientID},
	}
	if sess.Resource != "" {
		form.Set("resource", sess.Resource) // RFC 8707 §2.2: keep the access token's audience
	}
	return form
}

func refreshError(profile string, err error) error {
	var oe *OAuthError
	if errors.As(err, &oe) && oe.Code == "invalid_grant" {
		return sessionExpired(profile, err)
	}
	var te *TransientError
	if errors.As(err, &te) {
		return fmt.Errorf("refresh for profile %s: %w (the session is kept: try again when the issuer is reachable)", profile, err)
	}
	return fmt.Errorf("refresh for profile %s: %w", profile, err)
}
