package devop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authRequest is a pending authorization request; it implements
// op.AuthRequest. The op only ever sees copies (see snapshot).
type authRequest struct {
	id, clientID, redirectURI, state, nonce string
	scopes, audience                        []string
	responseType                            oidc.ResponseType
	responseMode                            oidc.ResponseMode
	challenge                               *oidc.CodeChallenge
	created                                 time.Time

	subject    string
	done       bool
	authTime   time.Time
	codeIssued time.Time
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAudience() []string                 { return a.audience }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// GetAMR says how the user authenticated: the auto-login stands in for a
// password (RFC 8176 "pwd").
func (a *authRequest) GetAMR() []string {
	if a.done {
		return []string{"pwd"}
	}
	return nil
}

// LogValue keeps state, nonce and the PKCE challenge out of the op's logs.
func (a *authRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", a.id), slog.String("client_id", a.clientID),
		slog.String("redirect_uri", a.redirectURI), slog.Any("scopes", a.scopes))
}

func (a *authRequest) snapshot() *authRequest {
	c := *a
	c.scopes = slices.Clone(a.scopes)
	c.audience = slices.Clone(a.audience)
	return &c
}

// CreateAuthRequest implements op.AuthStorage. The op has validated client,
// redirect URI and scopes; we add what the pingedge client must do: PKCE
// with S256 (RFC 7636 §4.2; OAuth 2.0 Security BCP §2.1.1 for public
// clients), and no prompt=none since a login page is always involved.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired()
	}
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method=S256 is required (RFC 7636)")
	}
	audience, err := s.audienceFor(ctx, req.ClientID)
	if err != nil {
		return nil, err
	}
	a := &authRequest{
		id: randomHex(16), clientID: req.ClientID, redirectURI: req.RedirectURI,
		state: req.State, nonce: req.Nonce, scopes: slices.Clone(req.Scopes),
		audience:     audience,
		responseType: req.ResponseType, responseMode: req.ResponseMode,
		challenge: &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
		created:   time.Now(), subject: userID,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	s.authRequests[a.id] = a
	return a.snapshot(), nil
}

// AuthRequestByID implements op.AuthStorage.
func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequests[id]
	if !ok {
		return nil, errors.New("devop: auth request not found")
	}
	return a.snapshot(), nil
}

// AuthRequestByCode implements op.AuthStorage. A code is redeemable once
// (RFC 6749 §4.1.2): it is forgotten on first presentation, so a replayed
// or concurrently raced code finds nothing.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	delete(s.codes, code)
	a, found := s.authRequests[id]
	if !ok || !found {
		return nil, errors.New("devop: authorization code invalid or already used")
	}
	if time.Since(a.codeIssued) > codeTTL {
		delete(s.authRequests, id)
		return nil, errors.New("devop: authorization code expired")
	}
	return a.snapshot(), nil
}

// SaveAuthCode implements op.AuthStorage.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequests[id]
	if !ok {
		return errors.New("devop: auth request not found")
	}
	a.codeIssued = time.Now()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest implements op.AuthStorage.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// completeLogin marks the auth request as authenticated by the current
// login user; the login page calls it.
func (s *storage) completeLogin(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequests[id]
	if !ok {
		return errors.New("unknown or expired authorization request")
	}
	if _, ok := s.users[s.loginUser]; !ok {
		return fmt.Errorf("login user %q is not a known user", s.loginUser)
	}
	if a.subject != "" && a.subject != s.loginUser {
		return errors.New("id_token_hint names another user than the one signing in")
	}
	a.subject, a.done, a.authTime = s.loginUser, true, time.Now()
	return nil
}

// pruneLocked drops expired state so a long-running demo does not grow.
func (s *storage) pruneLocked() {
	now := time.Now()
	for id, a := range s.authRequests {
		if now.Sub(a.created) > 30*time.Minute {
			delete(s.authRequests, id)
		}
	}
	for id, at := range s.accessTokens {
		if now.After(at.exp.Add(time.Minute)) {
			delete(s.accessTokens, id)
		}
	}
	s.pruneRefreshLocked(now)
	s.pruneDevicesLocked(now)
}
