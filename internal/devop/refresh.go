package devop

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// family is every refresh token descended from one grant. Rotation keeps
// the family; revocation and reuse detection end it whole (OAuth 2.0
// Security BCP, RFC 9700 §4.14.2).
type family struct {
	id, subject, clientID string
	jkt                   string // the DPoP key the family is bound to (RFC 9449 §5), "" when unbound
	revoked               bool
}

type refreshToken struct {
	id, value, familyID, subject, clientID string
	scopes, audience, amr                  []string
	authTime, exp                          time.Time
	used                                   bool
}

// refreshRequest is what a refresh token stands for; it implements
// op.RefreshTokenRequest.
type refreshRequest struct {
	subject, clientID string
	scopes, audience  []string
	amr               []string
	authTime          time.Time
}

func (r *refreshRequest) GetAMR() []string            { return r.amr }
func (r *refreshRequest) GetAudience() []string       { return r.audience }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.authTime }
func (r *refreshRequest) GetClientID() string         { return r.clientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.subject }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// newOpaqueToken returns 256 random bits, base64url: unguessable and
// meaningless to anyone but this server.
func newOpaqueToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokenRequestByRefreshToken implements op.AuthStorage. Presenting a token
// that was already rotated away is reuse: the token was stolen or the
// client raced itself, and either way the family dies (RFC 9700 §4.14.2).
// Every failure here becomes invalid_grant at the token endpoint.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, value string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, err := s.usableRefreshLocked(value)
	if err != nil {
		return nil, err
	}
	// A DPoP-bound refresh token is usable only with a proof by its key (RFC 9449 §5).
	if f := s.families[rt.familyID]; f.jkt != "" && f.jkt != jktFrom(ctx) {
		return nil, errors.New("devop: refresh token is DPoP-bound: send a proof made with its key")
	}
	return &refreshRequest{
		subject: rt.subject, clientID: rt.clientID, authTime: rt.authTime,
		scopes: slices.Clone(rt.scopes), audience: slices.Clone(rt.audience), amr: slices.Clone(rt.amr),
	}, nil
}

// usableRefreshLocked finds a refresh token that may be exchanged now,
// handling reuse as a side effect.
func (s *storage) usableRefreshLocked(value string) (*refreshToken, error) {
	rt, ok := s.refresh[value]
	if !ok {
		return nil, errors.New("devop: refresh token unknown")
	}
	if rt.used {
		s.stats.reusedRefreshTokens.Add(1)
		s.revokeFamilyLocked(rt.familyID)
		s.log.Warn("devop: rotated refresh token presented again; family revoked",
			"sub", rt.subject, "family", rt.familyID)
		return nil, errors.New("devop: refresh token already used")
	}
	if f := s.families[rt.familyID]; f == nil || f.revoked {
		return nil, errors.New("devop: refresh token revoked")
	}
	if time.Now().After(rt.exp) {
		return nil, errors.New("devop: refresh token expired")
	}
	return rt, nil
}

// CreateAccessAndRefreshTokens implements op.AuthStorage. With no current
// token it starts a family (code or device grant with offline_access);
// otherwise it rotates: the presented token is marked used and a new one
// in the same family is returned (RFC 9700 §4.14.2).
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	clientID, authTime, amr := grantInfo(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	familyID := ""
	if current == "" {
		f := &family{id: randomHex(8), subject: req.GetSubject(), clientID: clientID, jkt: jktFrom(ctx)}
		s.families[f.id] = f
		familyID = f.id
	} else {
		// Checked again under the lock that marks it used: two requests
		// racing with one token must not both rotate it.
		old, err := s.usableRefreshLocked(current)
		if err != nil {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token is invalid, expired, revoked or already used")
		}
		old.used = true
		familyID = old.familyID
	}
	at := s.newAccessTokenLocked(req, clientID, familyID)
	rt := &refreshToken{
		id: randomHex(16), value: newOpaqueToken(), familyID: familyID,
		subject: req.GetSubject(), clientID: clientID, authTime: authTime,
		scopes: slices.Clone(req.GetScopes()), audience: slices.Clone(req.GetAudience()),
		amr: slices.Clone(amr), exp: time.Now().Add(s.cfg.RefreshTokenTTL),
	}
	s.refresh[rt.value] = rt
	s.refreshByID[rt.id] = rt
	return at.id, rt.value, at.exp, nil
}

// GetRefreshTokenInfo implements op.AuthStorage for revocation.
func (s *storage) GetRefreshTokenInfo(_ context.Context, _ string, value string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refresh[value]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.subject, rt.id, nil
}

// RevokeToken implements op.AuthStorage (RFC 7009). Revoking a refresh
// token ends its family and the access tokens issued from it (§2.1);
// unknown tokens are not an error (§2.2).
func (s *storage) RevokeToken(_ context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.accessTokens[tokenOrID]; ok {
		if at.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		at.revoked = true
		return nil
	}
	rt, ok := s.refreshByID[tokenOrID]
	if !ok {
		rt, ok = s.refresh[tokenOrID]
	}
	if !ok {
		return nil
	}
	if rt.clientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	s.revokeFamilyLocked(rt.familyID)
	return nil
}

// TerminateSession implements op.AuthStorage for end_session: the user's
// grants to the client end.
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.families {
		if f.subject == userID && f.clientID == clientID {
			s.revokeFamilyLocked(f.id)
		}
	}
	for _, at := range s.accessTokens {
		if at.subject == userID && at.clientID == clientID {
			at.revoked = true
		}
	}
	return nil
}

// revokeUser ends every family of the user; it returns how many.
func (s *storage) revokeUser(subject string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.families {
		if f.subject == subject && !f.revoked {
			s.revokeFamilyLocked(f.id)
			n++
		}
	}
	for _, at := range s.accessTokens {
		if at.subject == subject {
			at.revoked = true
		}
	}
	return n
}

func (s *storage) revokeFamilyLocked(id string) {
	if f := s.families[id]; f != nil {
		f.revoked = true
	}
	for _, at := range s.accessTokens {
		if at.familyID == id {
			at.revoked = true
		}
	}
}

func (s *storage) pruneRefreshLocked(now time.Time) {
	live := map[string]bool{}
	for v, rt := range s.refresh {
		if now.After(rt.exp) {
			delete(s.refresh, v)
			delete(s.refreshByID, rt.id)
			continue
		}
		live[rt.familyID] = true
	}
	for id := range s.families {
		if !live[id] {
			delete(s.families, id)
		}
	}
}
