package devop

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestAuthCodePKCEFlow(t *testing.T) {
	f := start(t, Config{AccessTokenTTL: 3 * time.Second})
	verifier := oauth2.GenerateVerifier()
	q := f.authorize(oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce-xyz"))

	if q.Get("state") != "state-123" {
		t.Errorf("state = %q, want state-123", q.Get("state"))
	}
	if q.Get("iss") != f.srv.Issuer() {
		t.Errorf("iss = %q, want %q (RFC 9207)", q.Get("iss"), f.srv.Issuer())
	}
	tok, err := f.oauth.Exchange(f.ctx(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token although offline_access was asked for")
	}
	if ttl := time.Until(tok.Expiry); ttl <= 0 || ttl > 4*time.Second {
		t.Errorf("access token expiry in %v, want about 3s", ttl)
	}

	h, at := f.verifyJWT(tok.AccessToken)
	if h.Algorithm != "RS256" {
		t.Errorf("alg = %s, want RS256", h.Algorithm)
	}
	want := map[string]any{"iss": f.srv.Issuer(), "sub": "alice", "client_id": "pingedge-cli", "email": "alice@example.com"}
	for k, v := range want {
		if at[k] != v {
			t.Errorf("access token %s = %v, want %v", k, at[k], v)
		}
	}
	if aud := strs(at["aud"]); !slices.Contains(aud, "pingedge-cli") || !slices.Contains(aud, DefaultAudience) {
		t.Errorf("access token aud = %v, want client id and %s", aud, DefaultAudience)
	}
	if got := strs(at["roles"]); !slices.Equal(got, []string{"engineer"}) {
		t.Errorf("roles = %v, want [engineer]", got)
	}
	if scope, _ := at["scope"].(string); !strings.Contains(scope, "openid") || !strings.Contains(scope, "offline_access") {
		t.Errorf("scope = %q", scope)
	}
	if exp, iat := at["exp"].(float64), at["iat"].(float64); exp-iat < 2 || exp-iat > 4 {
		t.Errorf("exp - iat = %v, want about 3", exp-iat)
	}

	idToken, _ := tok.Extra("id_token").(string)
	_, id := f.verifyJWT(idToken)
	wantID := map[string]any{"nonce": "nonce-xyz", "email": "alice@example.com", "name": "Alice Example", "sub": "alice"}
	for k, v := range wantID {
		if id[k] != v {
			t.Errorf("id token %s = %v, want %v", k, id[k], v)
		}
	}
	if !slices.Contains(strs(id["aud"]), "pingedge-cli") || !slices.Equal(strs(id["roles"]), []string{"engineer"}) {
		t.Errorf("id token aud = %v roles = %v", id["aud"], id["roles"])
	}

	if st := f.srv.Stats(); st.AuthCodeExchanges != 1 || st.TokenRequests != 1 {
		t.Errorf("stats = %+v, want one code exchange", st)
	}
	// RFC 6749 §4.1.2: a code works once.
	if _, err := f.oauth.Exchange(f.ctx(), q.Get("code"), oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant", "invalid_client") {
		t.Errorf("replayed code: err = %v, want rejection", err)
	}
	f.checkNoSecretsLogged(tok.AccessToken, tok.RefreshToken, idToken, q.Get("code"), verifier)
}

func isOAuthError(err error, codes ...string) bool {
	re, ok := err.(*oauth2.RetrieveError)
	return ok && slices.Contains(codes, re.ErrorCode)
}

func TestAuthCodeWrongVerifierRejected(t *testing.T) {
	f := start(t, Config{})
	q := f.authorize(oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	_, err := f.oauth.Exchange(f.ctx(), q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if !isOAuthError(err, "invalid_grant") {
		t.Fatalf("err = %v, want invalid_grant", err)
	}
}

func TestAuthorizeRequiresPKCES256(t *testing.T) {
	f := start(t, Config{})
	cases := map[string][]oauth2.AuthCodeOption{
		"no challenge": nil,
		"plain": {oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)),
			oauth2.SetAuthURLParam("code_challenge_method", "plain")},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			q := f.authorize(opts...)
			if q.Get("error") != "invalid_request" || q.Get("code") != "" {
				t.Errorf("callback = %v, want error=invalid_request and no code", q)
			}
			if q.Get("iss") != f.srv.Issuer() {
				t.Errorf("error response iss = %q, want issuer (RFC 9207 §2)", q.Get("iss"))
			}
		})
	}
}

func TestRedirectURIs(t *testing.T) {
	f := start(t, Config{})
	verifier := oauth2.GenerateVerifier()
	// Any port on localhost is the same registered loopback URI (RFC 8252 §7.3).
	cfg := *f.oauth
	cfg.RedirectURL = strings.Replace(f.cb.srv.URL, "127.0.0.1", "localhost", 1) + "/callback"
	q := f.authorizeURL(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	if q.Get("code") == "" {
		t.Fatalf("localhost redirect: %v", q)
	}
	if _, err := cfg.Exchange(f.ctx(), q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange with localhost redirect: %v", err)
	}

	for _, bad := range []string{"http://evil.example/callback", f.cb.srv.URL + "/other", "https://127.0.0.1.evil.example/callback"} {
		cfg.RedirectURL = bad
		resp, err := browser(t).Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			t.Fatalf("%s: %v", bad, err)
		}
		resp.Body.Close()
		if resp.Request.URL.Host != strings.TrimPrefix(f.srv.Issuer(), "http://") || resp.StatusCode < 400 {
			t.Errorf("redirect %s: browser ended at %s with %d, want an error at the issuer", bad, resp.Request.URL.Host, resp.StatusCode)
		}
	}
}

func TestSetLoginUser(t *testing.T) {
	f := start(t, Config{})
	f.srv.SetLoginUser("bob")
	tok := f.login()
	_, at := f.verifyJWT(tok.AccessToken)
	if at["sub"] != "bob" || !slices.Equal(strs(at["roles"]), []string{"admin", "engineer"}) {
		t.Errorf("sub = %v roles = %v, want bob [admin engineer]", at["sub"], at["roles"])
	}
	f.srv.SetLoginUser("nobody")
	resp, err := browser(t).Get(f.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown login user: status %d, want 400", resp.StatusCode)
	}
}

func TestCustomConfig(t *testing.T) {
	users := []User{{Subject: "carol", Email: "carol@example.org", Name: "Carol", Roles: []string{"ops"}}}
	f := start(t, Config{ClientID: "my-cli", Audience: []string{"https://a", "https://b"}, Users: users, SigningAlg: "ES256"})
	tok := f.login()
	h, at := f.verifyJWT(tok.AccessToken)
	if h.Algorithm != "ES256" || at["sub"] != "carol" || at["client_id"] != "my-cli" {
		t.Errorf("alg %s sub %v client_id %v", h.Algorithm, at["sub"], at["client_id"])
	}
	if aud := strs(at["aud"]); !slices.Equal(aud, []string{"my-cli", "https://a", "https://b"}) {
		t.Errorf("aud = %v", aud)
	}
	if got := f.srv.Users(); len(got) != 1 || got[0].Subject != "carol" {
		t.Errorf("Users() = %v", got)
	}
}

func TestDiscovery(t *testing.T) {
	f := start(t, Config{})
	resp, err := f.client.Get(f.srv.Issuer() + discoveryPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"issuer":                        f.srv.Issuer(),
		"jwks_uri":                      f.srv.JWKSURI(),
		"token_endpoint":                f.srv.Issuer() + tokenPath,
		"device_authorization_endpoint": f.srv.Issuer() + deviceAuthPath,
		"revocation_endpoint":           f.srv.Issuer() + revokePath,
		"userinfo_endpoint":             f.srv.Issuer() + "/userinfo",
		"end_session_endpoint":          f.srv.Issuer() + "/end_session",
		"authorization_response_iss_parameter_supported": true,
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	if !slices.Contains(strs(doc["code_challenge_methods_supported"]), "S256") {
		t.Errorf("code_challenge_methods_supported = %v", doc["code_challenge_methods_supported"])
	}
	if g := strs(doc["grant_types_supported"]); !slices.Contains(g, grantTypeDeviceCode) || !slices.Contains(g, "refresh_token") {
		t.Errorf("grant_types_supported = %v", g)
	}
	if f.srv.Stats().DiscoveryFetches != 1 {
		t.Errorf("DiscoveryFetches = %d", f.srv.Stats().DiscoveryFetches)
	}
}

func TestUserinfoAndEndSession(t *testing.T) {
	f := start(t, Config{})
	tok := f.login()
	info := f.userinfo(tok.AccessToken)
	if info.status != http.StatusOK || info.body["sub"] != "alice" || info.body["email"] != "alice@example.com" {
		t.Fatalf("userinfo = %d %v", info.status, info.body)
	}
	idToken, _ := tok.Extra("id_token").(string)
	resp, err := browser(t).Get(f.srv.Issuer() + "/end_session?id_token_hint=" + url.QueryEscape(idToken))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != loggedOutPath {
		t.Errorf("end_session ended at %s", resp.Request.URL.Path)
	}
	if r := f.refresh(tok.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("refresh after end_session: %+v, want invalid_grant", r)
	}
	if info := f.userinfo(tok.AccessToken); info.status == http.StatusOK {
		t.Errorf("userinfo after end_session: %d", info.status)
	}
}

type userinfoResult struct {
	status int
	body   map[string]any
}

func (f *fixture) userinfo(at string) userinfoResult {
	f.t.Helper()
	req, _ := http.NewRequestWithContext(f.t.Context(), http.MethodGet, f.srv.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return userinfoResult{resp.StatusCode, body}
}

// TestResourceIndicators: RFC 8707 resource narrows the access token's
// audience on both the authorization code and device flows.
func TestResourceIndicators(t *testing.T) {
	f := start(t, Config{})
	verifier := oauth2.GenerateVerifier()
	q := f.authorize(oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", "https://orders.example.com"))
	tok, err := f.oauth.Exchange(f.ctx(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	_, at := f.verifyJWT(tok.AccessToken)
	if aud := strs(at["aud"]); !slices.Equal(aud, []string{"pingedge-cli", "https://orders.example.com"}) {
		t.Errorf("aud = %v", aud)
	}
	if r := f.refresh(tok.RefreshToken); !slices.Contains(strs(unverifiedClaims(t, r.AccessToken)["aud"]), "https://orders.example.com") {
		t.Errorf("refreshed token lost the resource audience")
	}

	q = f.authorize(oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", "relative/path"))
	if q.Get("error") != "invalid_target" {
		t.Errorf("relative resource: %v, want invalid_target", q)
	}

	resp, body := f.postForm(deviceAuthPath, url.Values{"client_id": {"pingedge-cli"}, "scope": {"openid"}, "resource": {"https://orders.example.com"}})
	var da deviceAuth
	if err := json.Unmarshal(body, &da); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("device authorization: %d %s", resp.StatusCode, body)
	}
	if err := f.srv.ApproveDevice(da.UserCode, "alice"); err != nil {
		t.Fatal(err)
	}
	if aud := strs(unverifiedClaims(t, f.pollDevice(da).AccessToken)["aud"]); !slices.Contains(aud, "https://orders.example.com") || slices.Contains(aud, DefaultAudience) {
		t.Errorf("device token aud = %v", aud)
	}
	if resp, _ := f.postForm(deviceAuthPath, url.Values{"client_id": {"pingedge-cli"}, "resource": {"x#y"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad device resource: %d, want 400", resp.StatusCode)
	}
}
