package devop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// codeTTL bounds how long an authorization code can be redeemed
// (RFC 6749 §4.1.2 recommends at most ten minutes).
const codeTTL = 2 * time.Minute

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.DeviceAuthorizationStorage     = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
)

// storage is the op.Storage behind the provider: everything lives in memory
// behind one mutex. Values handed to the op are copies, so the op can read
// them without locks while login or device pages change the originals.
type storage struct {
	mu        sync.Mutex
	cfg       Config
	log       *slog.Logger
	stats     *counters
	client    *client
	keys      *keyRing
	users     map[string]User
	loginUser string

	authRequests map[string]*authRequest // by ID
	codes        map[string]string       // code → auth request ID
	accessTokens map[string]*accessToken // by jti
	families     map[string]*family      // refresh token families by ID
	refresh      map[string]*refreshToken
	refreshByID  map[string]*refreshToken
	devices      map[string]*deviceEntry // by device code
	userCodes    map[string]string       // user code → device code
}

type accessToken struct {
	id, subject, clientID, familyID string
	scopes                          []string
	exp                             time.Time
	revoked                         bool
}

func newStorage(cfg Config, issuer string, log *slog.Logger, stats *counters) (*storage, error) {
	keys, err := newKeyRing(cfg.SigningAlg)
	if err != nil {
		return nil, err
	}
	s := &storage{
		cfg: cfg, log: log, stats: stats, keys: keys,
		client:       newClient(cfg.ClientID, issuer),
		users:        map[string]User{},
		loginUser:    cfg.Users[0].Subject,
		authRequests: map[string]*authRequest{},
		codes:        map[string]string{},
		accessTokens: map[string]*accessToken{},
		families:     map[string]*family{},
		refresh:      map[string]*refreshToken{},
		refreshByID:  map[string]*refreshToken{},
		devices:      map[string]*deviceEntry{},
		userCodes:    map[string]string{},
	}
	for _, u := range cfg.Users {
		s.users[u.Subject] = u
	}
	return s, nil
}

func (s *storage) userList() []User {
	out := slices.Clone(s.cfg.Users)
	for i := range out {
		out[i].Roles = slices.Clone(out[i].Roles)
	}
	return out
}

func (s *storage) setLoginUser(subject string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loginUser = subject
}

func (s *storage) user(subject string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[subject]
	if !ok {
		return User{}, fmt.Errorf("devop: unknown user %q", subject)
	}
	return u, nil
}

// Health implements op.Storage.
func (s *storage) Health(context.Context) error { return nil }

// GetClientByClientID implements op.OPStorage: only the one public client
// exists. An unknown client is an invalid_client error rather than a plain
// one, which the op's refresh path would otherwise answer with a 500.
func (s *storage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	if clientID != s.client.id {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client_id")
	}
	return s.client, nil
}

// AuthorizeClientIDSecret implements op.OPStorage. The client is public
// (auth method none), so no secret is ever valid.
func (s *storage) AuthorizeClientIDSecret(context.Context, string, string) error {
	return errors.New("devop: the client is public and has no secret")
}

// CreateAccessToken implements op.AuthStorage for grants without a refresh
// token (no offline_access). The op signs the JWT; we keep its jti so
// userinfo and revocation can find it.
func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	clientID, _, _ := grantInfo(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.newAccessTokenLocked(req, clientID, "")
	return at.id, at.exp, nil
}

func (s *storage) newAccessTokenLocked(req op.TokenRequest, clientID, familyID string) *accessToken {
	at := &accessToken{
		id: randomHex(16), subject: req.GetSubject(), clientID: clientID, familyID: familyID,
		scopes: slices.Clone(req.GetScopes()), exp: time.Now().Add(s.cfg.AccessTokenTTL),
	}
	s.accessTokens[at.id] = at
	return at
}

// grantInfo extracts what a token needs from the request types the op passes.
func grantInfo(req op.TokenRequest) (clientID string, authTime time.Time, amr []string) {
	switch r := req.(type) {
	case *authRequest:
		return r.clientID, r.authTime, r.GetAMR()
	case *refreshRequest:
		return r.clientID, r.authTime, r.amr
	case *op.DeviceAuthorizationState:
		return r.ClientID, r.AuthTime, r.AMR
	}
	return "", time.Time{}, nil
}

// GetPrivateClaimsFromRequest implements op.CanGetPrivateClaimsFromRequest:
// the JWT access token carries scope, roles and email, which the edge
// policy matches on.
func (s *storage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	u, err := s.user(req.GetSubject())
	if err != nil {
		return nil, err
	}
	c := map[string]any{
		"scope": strings.Join(req.GetScopes(), " "),
		"roles": slices.Clone(u.Roles),
		"email": u.Email,
	}
	if jkt := jktFrom(ctx); jkt != "" { // a token request with a valid DPoP proof (dpop.go)
		c["cnf"] = map[string]any{"jkt": jkt} // RFC 9449 §6.1
	}
	return c, nil
}

// GetPrivateClaimsFromScopes implements op.OPStorage; unused because
// GetPrivateClaimsFromRequest is implemented.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// SetUserinfoFromScopes implements op.OPStorage; deprecated by the op in
// favour of SetUserinfoFromRequest.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest implements op.CanSetUserinfoFromRequest: the ID
// token always carries email, name and roles, so the CLI can show who
// signed in whatever scopes were asked for.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	return s.fillUserinfo(info, req.GetSubject())
}

func (s *storage) fillUserinfo(info *oidc.UserInfo, subject string) error {
	u, err := s.user(subject)
	if err != nil {
		return err
	}
	info.Subject = u.Subject
	info.Email = u.Email
	info.EmailVerified = oidc.Bool(u.Email != "")
	info.Name = u.Name
	info.PreferredUsername = u.Subject
	info.AppendClaims("roles", slices.Clone(u.Roles))
	return nil
}

// SetUserinfoFromToken implements op.OPStorage for the userinfo endpoint:
// the access token must be one we issued, unrevoked and unexpired.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	if err := s.checkAccessToken(tokenID, subject); err != nil {
		return err
	}
	return s.fillUserinfo(info, subject)
}

func (s *storage) checkAccessToken(tokenID, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.accessTokens[tokenID]
	switch {
	case !ok || at.subject != subject:
		return errors.New("devop: access token unknown")
	case at.revoked:
		return errors.New("devop: access token revoked")
	case time.Now().After(at.exp):
		return errors.New("devop: access token expired")
	}
	return nil
}

// SetIntrospectionFromToken implements op.OPStorage. Introspection needs an
// authenticated client, which a public client cannot be, so this is only
// reached by a misconfigured caller.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, _ string) error {
	if err := s.checkAccessToken(tokenID, subject); err != nil {
		return err
	}
	info := new(oidc.UserInfo)
	if err := s.fillUserinfo(info, subject); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	return nil
}

// GetKeyByIDAndClientID implements op.OPStorage; JWT client
// authentication (private_key_jwt) is not offered.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("devop: private_key_jwt is not supported")
}

// ValidateJWTProfileScopes implements op.OPStorage; the JWT profile grant
// is not offered.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("devop: the jwt-bearer grant is not supported")
}

// SigningKey implements op.AuthStorage; the op asks for it per token, so a
// rotation takes effect for the next token.
func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.keys.signing(), nil }

// SignatureAlgorithms implements op.AuthStorage.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{s.keys.alg}, nil
}

// KeySet implements op.AuthStorage: the current and previous public keys.
func (s *storage) KeySet(context.Context) ([]op.Key, error) { return s.keys.public(), nil }
