package login

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/secret"
)

// LogoutResult says what a logout did; Warnings explain what could not be done at the issuer.
type LogoutResult struct {
	Profile  string   `json:"profile"`
	Revoked  []string `json:"revoked"` // token kinds the issuer accepted for revocation
	Deleted  bool     `json:"deleted"` // anything was removed locally
	Warnings []string `json:"warnings,omitempty"`
}

// Logout revokes the profile's refresh token and cached access token at the issuer (RFC 7009),
// then deletes both locally. An unreachable issuer or a refused revocation is a warning, never a
// reason to keep the credentials here: the user asked for them to be gone.
func Logout(ctx context.Context, cfg SourceConfig) (*LogoutResult, error) {
	paths, err := PathsFor(cfg.StateDir, cfg.Profile)
	if err != nil {
		return nil, err
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	src := &Source{cfg: cfg, paths: paths}
	unlock, err := src.lock(ctx) // no refresh may save a new refresh token while we delete
	if err != nil {
		return nil, err
	}
	defer unlock()
	res := &LogoutResult{Profile: cfg.Profile}
	sess, err := ReadSession(paths.Session)
	if err != nil && !errors.Is(err, errNoSession) {
		res.Warnings = append(res.Warnings, err.Error())
		sess = nil
	}
	rt, err := cfg.Store.Get(ctx, cfg.Profile)
	switch {
	case err == nil, errors.Is(err, credstore.ErrNotFound):
	case sess == nil && errors.Is(err, credstore.ErrUnavailable):
		// Never logged in here, and no keychain to look in: nothing to log out of.
		res.Warnings = append(res.Warnings, fmt.Sprintf("could not check the keychain: %v", err))
		return res, nil
	default:
		return nil, fmt.Errorf("read the refresh token of profile %s: %w", cfg.Profile, err)
	}
	switch {
	case sess != nil:
		revokeAll(ctx, cfg, sess, rt, res)
	case !rt.Empty():
		res.Warnings = append(res.Warnings, "no session file names the issuer, so the refresh token could not be revoked: it was deleted here only")
	}
	if err := cfg.Store.Delete(ctx, cfg.Profile); err != nil {
		return nil, fmt.Errorf("delete the refresh token of profile %s: %w", cfg.Profile, err)
	}
	if err := removeSession(paths.Session); err != nil {
		return nil, err
	}
	res.Deleted = sess != nil || !rt.Empty()
	return res, nil
}

func revokeAll(ctx context.Context, cfg SourceConfig, sess *Session, rt secret.String, res *LogoutResult) {
	if err := checkSessionEndpoints(ctx, cfg, sess); err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("nothing was revoked at the issuer: %v", err))
		return
	}
	if sess.RevocationEndpoint == "" {
		res.Warnings = append(res.Warnings, "the issuer has no revocation endpoint: the tokens were deleted here but stay valid at the issuer until they expire")
		return
	}
	for _, t := range []struct {
		kind string
		val  secret.String
	}{{"refresh_token", rt}, {"access_token", sess.Access.Value}} {
		if t.val.Empty() {
			continue
		}
		err := revoke(ctx, cfg, sess, t.kind, t.val)
		if err == nil {
			res.Revoked = append(res.Revoked, t.kind)
			cfg.Logf("revoked the %s at %s", t.kind, sess.RevocationEndpoint)
			continue
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf("could not revoke the %s at the issuer (%v): it was deleted here but stays valid at the issuer until it expires", kindName(t.kind), err))
		var te *TransientError
		if errors.As(err, &te) {
			return // unreachable: do not wait for a second timeout
		}
	}
}

// revoke posts one token to the revocation endpoint (RFC 7009 §2.1). The hint names the token's
// type; the issuer answers 200 even for tokens it does not know (§2.2).
func revoke(ctx context.Context, cfg SourceConfig, sess *Session, hint string, tok secret.String) error {
	form := url.Values{"token": {tok.Reveal()}, "token_type_hint": {hint}, "client_id": {sess.ClientID}}
	return postForm(ctx, cfg.HTTP, sess.RevocationEndpoint, "revocation", form, nil)
}

func kindName(k string) string {
	if k == "refresh_token" {
		return "refresh token"
	}
	return "access token"
}
