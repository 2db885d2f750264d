package login

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// A session file names the endpoints a refresh and a logout post secrets to. A file planted in
// (or edited in) the state directory could point them anywhere (issue 10 finding 6), so before
// the session is used its endpoints must belong to its issuer: the same origin (scheme, host,
// port) as the issuer URL, or exactly what the issuer's discovery document says today.

// foreignEndpoints lists the session's endpoints whose origin is not the issuer's.
func (s *Session) foreignEndpoints() []string {
	iss := originOf(s.Issuer)
	var out []string
	for _, e := range []string{s.TokenEndpoint, s.RevocationEndpoint} {
		if e != "" && (iss == "" || originOf(e) != iss) {
			out = append(out, e)
		}
	}
	return out
}

// OffOriginEndpoints lists the session's endpoints that are not on its issuer's origin. Such a
// session is used only after the issuer's discovery document names them (Source.trust); `status`,
// which contacts no one, says so rather than present the session as an ordinary one.
func (s *Session) OffOriginEndpoints() []string { return s.foreignEndpoints() }

func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return u.Scheme + "://" + strings.ToLower(u.Host)
}

// errForeignSession is what a session with endpoints its issuer does not publish turns into: the
// session is ignored (never used, its tokens never sent) and a new login is asked for.
func errForeignSession(profile, path, endpoint string) error {
	return &LoginRequiredError{Profile: profile, Reason: fmt.Sprintf(
		"the session file %s names endpoint %s, which its issuer does not publish; the file was ignored (delete it if you did not write it)",
		path, clean(endpoint, 200))}
}

// trust checks sess's endpoints: free when they are on the issuer's origin, one discovery when
// not. A session already checked (the same *Session, replaced only when a refresh or another
// process writes a new one) costs one mutex: Token's in-memory path stays allocation-free.
func (s *Source) trust(ctx context.Context, sess *Session) error {
	s.mu.Lock()
	done := s.trustedSess == sess
	s.mu.Unlock()
	if done {
		return nil
	}
	if len(sess.foreignEndpoints()) > 0 {
		key := sess.Issuer + "\n" + sess.TokenEndpoint + "\n" + sess.RevocationEndpoint
		s.mu.Lock()
		known := s.trusted == key
		s.mu.Unlock()
		if !known {
			if err := matchDiscovery(ctx, s.cfg, sess); err != nil {
				return err
			}
		}
		s.mu.Lock()
		s.trusted = key
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.trustedSess = sess
	s.mu.Unlock()
	return nil
}

// matchDiscovery requires the session's endpoints to be exactly the issuer's published ones.
func matchDiscovery(ctx context.Context, cfg SourceConfig, sess *Session) error {
	paths, _ := PathsFor(cfg.StateDir, cfg.Profile)
	md, err := Discover(ctx, cfg.HTTP, sess.Issuer)
	if err != nil {
		if foreign := sess.foreignEndpoints(); len(foreign) > 0 && !isTransient(err) {
			return errForeignSession(cfg.Profile, paths.Session, foreign[0])
		}
		return fmt.Errorf("check the session's endpoints against the issuer: %w", err)
	}
	if sess.TokenEndpoint != md.TokenEndpoint {
		return errForeignSession(cfg.Profile, paths.Session, sess.TokenEndpoint)
	}
	if sess.RevocationEndpoint != "" && sess.RevocationEndpoint != md.RevocationEndpoint {
		return errForeignSession(cfg.Profile, paths.Session, sess.RevocationEndpoint)
	}
	return nil
}

func isTransient(err error) bool {
	var te *TransientError
	return errors.As(err, &te)
}

// checkSessionEndpoints is trust without a Source (logout).
func checkSessionEndpoints(ctx context.Context, cfg SourceConfig, sess *Session) error {
	if len(sess.foreignEndpoints()) == 0 {
		return nil
	}
	return matchDiscovery(ctx, cfg, sess)
}
