package devop

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestRefreshRotatesAndDetectsReuse(t *testing.T) {
	f := start(t, Config{AccessTokenTTL: 2 * time.Second})
	tok := f.login()
	rt0 := tok.RefreshToken

	r1 := f.refresh(rt0)
	if r1.AccessToken == "" || r1.RefreshToken == "" || r1.RefreshToken == rt0 {
		t.Fatalf("first refresh: %+v, want a new refresh token", r1)
	}
	if _, at := f.verifyJWT(r1.AccessToken); at["sub"] != "alice" || at["email"] != "alice@example.com" {
		t.Errorf("refreshed access token claims: %v", at)
	}
	r2 := f.refresh(r1.RefreshToken)
	if r2.RefreshToken == "" {
		t.Fatalf("second refresh: %+v", r2)
	}

	// rt0 was rotated away: presenting it again is reuse.
	if r := f.refresh(rt0); r.Error != "invalid_grant" || r.Status != http.StatusBadRequest {
		t.Fatalf("reused token: %+v, want invalid_grant", r)
	}
	st := f.srv.Stats()
	if st.ReusedRefreshTokens != 1 || st.Refreshes != 3 {
		t.Errorf("stats = %+v, want 1 reuse of 3 refreshes", st)
	}
	// RFC 9700 §4.14.2: the whole family is revoked, the newest token too.
	if r := f.refresh(r2.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("latest token after reuse: %+v, want invalid_grant", r)
	}
	if u := f.userinfo(r2.AccessToken); u.status == http.StatusOK {
		t.Errorf("userinfo with an access token of the revoked family: %d", u.status)
	}
	if f.srv.Stats().ReusedRefreshTokens != 1 {
		t.Errorf("a revoked (not reused) token counted as reuse")
	}
	f.checkNoSecretsLogged(rt0, r1.RefreshToken, r2.RefreshToken, r1.AccessToken)
}

func TestRefreshWithOAuth2TokenSource(t *testing.T) {
	f := start(t, Config{AccessTokenTTL: 2 * time.Second})
	tok := f.login()
	tok.Expiry = time.Now().Add(-time.Second) // force a refresh
	got, err := f.oauth.TokenSource(f.ctx(), tok).Token()
	if err != nil {
		t.Fatalf("token source: %v", err)
	}
	if got.AccessToken == tok.AccessToken || got.RefreshToken == tok.RefreshToken {
		t.Error("token source did not receive rotated tokens")
	}
}

func TestRefreshRaceOneWinner(t *testing.T) {
	f := start(t, Config{})
	rt := f.login().RefreshToken
	const n = 20
	var wg sync.WaitGroup
	results := make([]tokenResponse, n)
	for i := range n {
		wg.Go(func() { results[i] = f.refresh(rt) })
	}
	wg.Wait()
	wins := 0
	for _, r := range results {
		switch {
		case r.AccessToken != "":
			wins++
		case r.Error != "invalid_grant":
			t.Errorf("loser got %+v, want invalid_grant", r)
		}
	}
	if wins != 1 {
		t.Errorf("%d requests rotated the same refresh token, want exactly 1", wins)
	}
	if got := f.srv.Stats().ReusedRefreshTokens; got != n-1 {
		t.Errorf("ReusedRefreshTokens = %d, want %d", got, n-1)
	}
}

func TestRefreshTokenExpires(t *testing.T) {
	f := start(t, Config{RefreshTokenTTL: time.Second})
	rt := f.login().RefreshToken
	time.Sleep(1100 * time.Millisecond)
	if r := f.refresh(rt); r.Error != "invalid_grant" {
		t.Errorf("expired refresh token: %+v", r)
	}
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	f := start(t, Config{})
	f.oauth.Scopes = []string{"openid", "profile"}
	if tok := f.login(); tok.RefreshToken != "" {
		t.Error("refresh token issued without offline_access")
	}
}

func TestRevocation(t *testing.T) {
	f := start(t, Config{})
	tok := f.login()
	revoke := func(token, hint string) int {
		resp, _ := f.postForm(revokePath, url.Values{"token": {token}, "token_type_hint": {hint}, "client_id": {f.srv.ClientID()}})
		return resp.StatusCode
	}
	if s := revoke(tok.RefreshToken, "refresh_token"); s != http.StatusOK {
		t.Fatalf("revoke refresh token: %d", s)
	}
	if r := f.refresh(tok.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("refresh after revocation: %+v", r)
	}
	// RFC 7009 §2.1: access tokens of the same grant go too.
	if u := f.userinfo(tok.AccessToken); u.status == http.StatusOK {
		t.Errorf("userinfo after revocation: %d", u.status)
	}
	// RFC 7009 §2.2: an invalid token is not an error.
	if s := revoke("not-a-token", ""); s != http.StatusOK {
		t.Errorf("revoke unknown token: %d, want 200", s)
	}

	tok2 := f.login()
	if s := revoke(tok2.AccessToken, "access_token"); s != http.StatusOK {
		t.Fatalf("revoke access token: %d", s)
	}
	if u := f.userinfo(tok2.AccessToken); u.status == http.StatusOK {
		t.Errorf("userinfo with revoked access token: %d", u.status)
	}
	if r := f.refresh(tok2.RefreshToken); r.AccessToken == "" {
		t.Errorf("revoking an access token killed its refresh token: %+v", r)
	}
	if got := f.srv.Stats().Revocations; got != 3 {
		t.Errorf("Revocations = %d, want 3", got)
	}
}

func TestRevokeUser(t *testing.T) {
	f := start(t, Config{})
	a1, a2 := f.login(), f.login()
	f.srv.SetLoginUser("bob")
	b := f.login()
	f.srv.RevokeUser("alice")
	for i, tok := range []*oauth2.Token{a1, a2} {
		if r := f.refresh(tok.RefreshToken); r.Error != "invalid_grant" {
			t.Errorf("alice session %d after RevokeUser: %+v", i, r)
		}
	}
	if r := f.refresh(b.RefreshToken); r.AccessToken == "" {
		t.Errorf("bob's session died with alice's: %+v", r)
	}
	if u := f.userinfo(a1.AccessToken); u.status == http.StatusOK {
		t.Errorf("alice's access token still accepted at userinfo: %d", u.status)
	}
	if r := f.refresh(a1.RefreshToken); r.Error != "invalid_grant" || f.srv.Stats().ReusedRefreshTokens != 0 {
		t.Errorf("revoked token counted as reuse: %+v %+v", r, f.srv.Stats())
	}
	// A new login works again: the session was revoked, not the user.
	f.srv.SetLoginUser("alice")
	if r := f.refresh(f.login().RefreshToken); r.AccessToken == "" {
		t.Errorf("new alice session: %+v", r)
	}
}

// TestOAuth2DefaultAuthStyle: oauth2's default auto-detection sends the
// client ID in a Basic header with an empty secret; that must work on the
// first try, so counters see one request per exchange.
func TestOAuth2DefaultAuthStyle(t *testing.T) {
	f := start(t, Config{})
	f.oauth.Endpoint.AuthStyle = oauth2.AuthStyleAutoDetect
	tok := f.login()
	tok.Expiry = time.Now().Add(-time.Second)
	if _, err := f.oauth.TokenSource(f.ctx(), tok).Token(); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if st := f.srv.Stats(); st.TokenRequests != 2 || st.AuthCodeExchanges != 1 || st.Refreshes != 1 {
		t.Errorf("stats = %+v, want one exchange and one refresh", st)
	}
}
