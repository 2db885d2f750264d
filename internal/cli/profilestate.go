package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/login"
)

// Token states shown by status, status --all and profiles.
const (
	stateValid       = "valid"         // the cached access token serves `pingedge token` as is
	stateRefresh     = "refresh"       // the next `pingedge token` refreshes it
	stateOver        = "login_needed"  // no refresh token and no usable access token
	stateNotLoggedIn = "not_logged_in" // no session at all
)

// defaultMinTTL is `pingedge token`'s default --min-ttl; status calls a cached token valid by
// the same rule, so the two never disagree.
const defaultMinTTL = time.Minute

// StatusInfo is what `pingedge status -o json` prints (an array with --all). It holds no secret.
type StatusInfo struct {
	Profile      string    `json:"profile"`
	Current      bool      `json:"current"`
	State        string    `json:"state"`
	Issuer       string    `json:"issuer"`
	Subject      string    `json:"subject,omitempty"`
	Username     string    `json:"username,omitempty"`
	Scopes       []string  `json:"scopes,omitempty"`
	AccessExpiry time.Time `json:"access_token_expiry,omitzero"`
	LoggedInAt   time.Time `json:"logged_in_at,omitzero"`
	Store        string    `json:"store"`
	StoreDetail  string    `json:"store_detail,omitempty"`
	RefreshToken bool      `json:"refresh_token_stored"`
	// Unchecked lists endpoints of the session file that are not on the issuer's origin: they are
	// checked against the issuer's discovery before anything is sent there (a planted or edited
	// session file is ignored then), which status, contacting no one, has not done.
	Unchecked []string `json:"unchecked_endpoints,omitempty"`
}

// profileState reads one profile's session and credential store without contacting the issuer.
func (f *Factory) profileState(ctx context.Context, file *config.File, name string, paths config.Paths) (StatusInfo, error) {
	prof, _ := file.Effective(name, f.Getenv)
	info := StatusInfo{Profile: name, Issuer: prof.Issuer, Store: storeKind(prof.Store), State: stateNotLoggedIn}
	sess, err := login.LoadSession(paths.StateDir, name)
	if errors.Is(err, login.ErrLoginRequired) {
		return info, nil
	}
	if err != nil {
		return info, err
	}
	store, err := f.credStore(prof.Store, paths)
	if err != nil {
		return info, err
	}
	_, err = store.Get(ctx, name)
	if err != nil && !errors.Is(err, credstore.ErrNotFound) {
		return info, fmt.Errorf("status of profile %s: %w", name, err)
	}
	info = StatusInfo{
		Profile: name, Issuer: sess.Issuer, Subject: sess.Subject, Username: sess.Username,
		Scopes: sess.Scopes, AccessExpiry: sess.Access.Expiry, LoggedInAt: sess.LoggedInAt,
		Store: store.Kind(), StoreDetail: store.Describe(), RefreshToken: err == nil,
		Unchecked: sess.OffOriginEndpoints(),
	}
	info.State = tokenState(sess.Access.Value.Empty(), sess.Access.Expiry, info.RefreshToken, f.Now())
	return info, nil
}

// tokenState applies `pingedge token`'s rule: a cached token valid for defaultMinTTL is used;
// otherwise a stored refresh token renews it; without one the session is over.
func tokenState(noAccess bool, exp time.Time, refresh bool, now time.Time) string {
	switch {
	case !noAccess && (exp.IsZero() || exp.Sub(now) >= defaultMinTTL):
		return stateValid
	case refresh:
		return stateRefresh
	}
	return stateOver
}

func storeKind(s string) string {
	if s == "" {
		return credstore.KindKeychain
	}
	return s
}

func notLoggedInError(profile string) error {
	return &login.LoginRequiredError{Profile: profile, Reason: "not logged in"}
}
