package login

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/secret"
)

// Session is what a login leaves in the state directory besides the refresh token: who signed
// in where, the endpoints a refresh and a logout need (so neither repeats discovery), and the
// cached access token, reused across invocations while it is valid. The file is mode 0600; the
// access token in it is short-lived, the long-lived refresh token is never in it (it is in the
// credential store).
type Session struct {
	Issuer             string
	ClientID           string
	Scopes             []string // granted scopes
	Resource           string
	TokenEndpoint      string
	RevocationEndpoint string
	Subject            string
	Username           string
	Store              string // credstore kind
	Flow               string
	LoggedInAt         time.Time
	Access             secret.AccessToken
}

// sessionFile is the on-disk form; secret.String would redact itself, so the token is a string here
// and nowhere else.
type sessionFile struct {
	Version            int       `json:"version"`
	Issuer             string    `json:"issuer"`
	ClientID           string    `json:"client_id"`
	Scopes             []string  `json:"scopes,omitempty"`
	Resource           string    `json:"resource,omitempty"`
	TokenEndpoint      string    `json:"token_endpoint"`
	RevocationEndpoint string    `json:"revocation_endpoint,omitempty"`
	Subject            string    `json:"sub"`
	Username           string    `json:"username,omitempty"`
	Store              string    `json:"store"`
	Flow               string    `json:"flow,omitempty"`
	LoggedInAt         time.Time `json:"logged_in_at"`
	AccessToken        string    `json:"access_token,omitempty"`
	AccessExpiry       time.Time `json:"access_token_expiry,omitzero"`
	AccessIssuedAt     time.Time `json:"access_token_issued_at,omitzero"`
}

// StatePaths locates a profile's files in the state directory.
type StatePaths struct {
	Session string // sessions/<profile>.json
	Lock    string // locks/<profile>.lock: serialises refreshes across processes
}

// PathsFor returns the state files of profile under stateDir.
func PathsFor(stateDir, profile string) (StatePaths, error) {
	if err := credstore.CheckProfile(profile); err != nil {
		return StatePaths{}, err
	}
	return StatePaths{
		Session: filepath.Join(stateDir, "sessions", profile+".json"),
		Lock:    filepath.Join(stateDir, "locks", profile+".lock"),
	}, nil
}

// errNoSession means the profile has never logged in here (or logged out).
var errNoSession = errors.New("no session")

// ReadSession loads a profile's session; errNoSession when there is none.
//
// The file holds an access token and names the endpoint the refresh token is posted to, so it is
// checked like the credential file: owned by this user, mode 0600, in a directory no one else can
// write (issue 16 item 7, issue 10 finding 6); otherwise it is refused with the fixing command.
func ReadSession(path string) (*Session, error) {
	b, err := readPrivate(path)
	if err != nil {
		return nil, err
	}
	var f sessionFile
	if err := json.Unmarshal(b, &f); err != nil || f.Issuer == "" {
		return nil, fmt.Errorf("session file %s is damaged: run pingedge logout, then log in again", path)
	}
	return &Session{
		Issuer: f.Issuer, ClientID: f.ClientID, Scopes: f.Scopes, Resource: f.Resource,
		TokenEndpoint: f.TokenEndpoint, RevocationEndpoint: f.RevocationEndpoint,
		Subject: f.Subject, Username: f.Username, Store: f.Store, Flow: f.Flow, LoggedInAt: f.LoggedInAt,
		Access: secret.AccessToken{Value: secret.String(f.AccessToken), Expiry: f.AccessExpiry, IssuedAt: f.AccessIssuedAt},
	}, nil
}

func readPrivate(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	if err := config.CheckPrivateFile(path, fi); err != nil {
		return nil, err
	}
	if err := config.CheckPrivateDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(f, maxResponse))
}

// writeSession saves s atomically with mode 0600.
func writeSession(path string, s *Session) error {
	b, err := json.MarshalIndent(sessionFile{
		Version: 1, Issuer: s.Issuer, ClientID: s.ClientID, Scopes: s.Scopes, Resource: s.Resource,
		TokenEndpoint: s.TokenEndpoint, RevocationEndpoint: s.RevocationEndpoint,
		Subject: s.Subject, Username: s.Username, Store: s.Store, Flow: s.Flow, LoggedInAt: s.LoggedInAt,
		AccessToken: s.Access.Value.Reveal(), AccessExpiry: s.Access.Expiry, AccessIssuedAt: s.Access.IssuedAt,
	}, "", "  ")
	if err != nil {
		return err
	}
	return credstore.WritePrivate(path, b)
}

// removeSession deletes the session file; a missing one is fine.
func removeSession(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// LoadSession reads a profile's session from stateDir, for `status`; an error matching
// ErrLoginRequired when the profile is not logged in.
func LoadSession(stateDir, profile string) (*Session, error) {
	paths, err := PathsFor(stateDir, profile)
	if err != nil {
		return nil, err
	}
	sess, err := ReadSession(paths.Session)
	if errors.Is(err, errNoSession) {
		return nil, notLoggedIn(profile)
	}
	return sess, err
}
