package devop

import (
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// DefaultClientID is the client ID of the registered public client.
const DefaultClientID = "pingedge-cli"

// DefaultAudience is the API audience added to access tokens by default.
const DefaultAudience = "https://api.example.com"

// DefaultUsers are signed in when Config.Users is empty.
func DefaultUsers() []User {
	return []User{
		{Subject: "alice", Email: "alice@example.com", Name: "Alice Example", Roles: []string{"engineer"}},
		{Subject: "bob", Email: "bob@example.com", Name: "Bob Example", Roles: []string{"admin", "engineer"}},
	}
}

func withDefaults(cfg Config) (Config, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.Audience == nil {
		cfg.Audience = []string{DefaultAudience}
	}
	cfg.Audience = slices.Clone(cfg.Audience)
	cfg.AccessTokenTTL = orDefault(cfg.AccessTokenTTL, 5*time.Minute)
	cfg.RefreshTokenTTL = orDefault(cfg.RefreshTokenTTL, 24*time.Hour)
	cfg.DevicePollInterval = orDefault(cfg.DevicePollInterval, time.Second)
	cfg.DeviceCodeTTL = orDefault(cfg.DeviceCodeTTL, 5*time.Minute)
	cfg.JWKSMaxAge = orDefault(cfg.JWKSMaxAge, 10*time.Second)
	if cfg.DPoPJTIMemory <= 0 {
		cfg.DPoPJTIMemory = DefaultDPoPJTIMemory
	}
	if cfg.SigningAlg == "" {
		cfg.SigningAlg = "RS256"
	}
	if len(cfg.Users) == 0 {
		cfg.Users = DefaultUsers()
	}
	cfg.Users = slices.Clone(cfg.Users)
	seen := map[string]bool{}
	for i, u := range cfg.Users {
		if u.Subject == "" || seen[u.Subject] {
			return cfg, fmt.Errorf("devop: user %d: subject must be set and unique", i)
		}
		seen[u.Subject] = true
		cfg.Users[i].Roles = slices.Clone(u.Roles)
	}
	return cfg, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// client is the one registered client: a public native app, as the
// pingedge CLI is (RFC 8252). It implements op.Client.
type client struct {
	id       string
	issuer   string
	idTTL    time.Duration
	redirect []string
}

func newClient(id, issuer string) *client {
	return &client{
		id:     id,
		issuer: issuer,
		idTTL:  time.Hour,
		// The op accepts these on any port for a native client
		// (RFC 8252 §7.3: the port is chosen by the app at run time).
		redirect: []string{
			"http://127.0.0.1/callback",
			"http://localhost/callback",
			"http://[::1]/callback",
		},
	}
}

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return c.redirect }
func (c *client) PostLogoutRedirectURIs() []string    { return c.redirect }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeNative }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodNone }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration       { return c.idTTL }
func (c *client) DevMode() bool                        { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// IsScopeAllowed accepts API scopes such as api:read besides the OIDC ones,
// so policies with `scopes:` can be tested end to end.
func (c *client) IsScopeAllowed(string) bool { return true }

func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode}
}

// LoginURL sends the browser to the auto-login page.
func (c *client) LoginURL(authRequestID string) string {
	return c.issuer + loginPath + "?authRequestID=" + url.QueryEscape(authRequestID)
}

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
