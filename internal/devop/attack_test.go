package devop

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestTokenEndpointAttacks is the attack table for the token endpoint:
// each row is something an attacker (or a buggy client) tries with a real
// code or refresh token, and must be refused.
func TestTokenEndpointAttacks(t *testing.T) {
	f := start(t, Config{})
	type grant struct{ code, verifier, refresh string }
	fresh := func() grant {
		v := oauth2.GenerateVerifier()
		q := f.authorize(oauth2.S256ChallengeOption(v))
		return grant{code: q.Get("code"), verifier: v, refresh: f.login().RefreshToken}
	}
	cases := []struct {
		name string
		form func(g grant) url.Values
		want []string
	}{
		{"code without verifier", func(g grant) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {g.code}, "redirect_uri": {f.oauth.RedirectURL}}
		}, []string{"invalid_request"}},
		{"code with another redirect_uri", func(g grant) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {g.code}, "code_verifier": {g.verifier},
				"redirect_uri": {"http://127.0.0.1:1/callback"}}
		}, []string{"invalid_grant"}},
		{"code for another client", func(g grant) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {g.code}, "code_verifier": {g.verifier},
				"redirect_uri": {f.oauth.RedirectURL}, "client_id": {"other-cli"}}
		}, []string{"invalid_client", "invalid_grant"}},
		{"forged code", func(g grant) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {g.code[:len(g.code)-4] + "AAAA"},
				"code_verifier": {g.verifier}, "redirect_uri": {f.oauth.RedirectURL}}
		}, []string{"invalid_grant", "invalid_client", "invalid_request"}},
		{"refresh for another client", func(g grant) url.Values {
			return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.refresh}, "client_id": {"other-cli"}}
		}, []string{"invalid_client", "invalid_grant", "unauthorized_client"}},
		{"refresh widening scope", func(g grant) url.Values {
			return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.refresh}, "scope": {"openid admin:all"}}
		}, []string{"invalid_scope"}},
		{"guessed refresh token", func(grant) url.Values {
			return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {newOpaqueToken()}}
		}, []string{"invalid_grant"}},
		{"client secret on a public client", func(g grant) url.Values {
			return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.refresh}, "client_secret": {"guess"}}
		}, []string{"invalid_client", "invalid_request", "unauthorized_client", "invalid_grant"}},
		{"client credentials grant", func(grant) url.Values {
			return url.Values{"grant_type": {"client_credentials"}}
		}, []string{"unsupported_grant_type", "unauthorized_client", "invalid_client"}},
		{"password grant", func(grant) url.Values {
			return url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"x"}}
		}, []string{"unsupported_grant_type"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := tc.form(fresh())
			if form.Get("client_id") == "" {
				form.Set("client_id", f.srv.ClientID())
			}
			resp, body := f.postForm(tokenPath, form)
			var r tokenResponse
			_ = json.Unmarshal(body, &r)
			if r.AccessToken != "" || resp.StatusCode < 400 || resp.StatusCode >= 500 || !contains(tc.want, r.Error) {
				t.Errorf("status %d error %q (want one of %v), access token issued: %v", resp.StatusCode, r.Error, tc.want, r.AccessToken != "")
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// FuzzTokenEndpoint throws arbitrary forms at the token endpoint of a
// provider that has live grants: nothing may yield a token or a 5xx.
func FuzzTokenEndpoint(f *testing.F) {
	for _, seed := range []string{
		"grant_type=refresh_token&refresh_token=abc&client_id=pingedge-cli",
		"grant_type=authorization_code&code=x&code_verifier=y&redirect_uri=http://127.0.0.1/callback&client_id=pingedge-cli",
		"grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=z&client_id=pingedge-cli",
		"grant_type=refresh_token&refresh_token=&client_id=",
		"grant_type=%00&client_id=pingedge-cli&client_id=other",
		"grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=a&subject_token_type=urn:ietf:params:oauth:token-type:access_token",
		"grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=a.b.c",
	} {
		f.Add(seed)
	}
	s, err := newServer(mustDefaults(f), "http://127.0.0.1:1")
	if err != nil {
		f.Fatal(err)
	}
	h := s.srv.Handler
	f.Fuzz(func(t *testing.T, form string) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:1"+tokenPath, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, form, rec.Body)
		}
		if strings.Contains(rec.Body.String(), `"access_token"`) {
			t.Fatalf("form %q obtained a token", form)
		}
	})
}

func mustDefaults(tb testing.TB) Config {
	cfg, err := withDefaults(Config{})
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// FuzzNormalizeUserCode: whatever is typed, a normalised code is upper
// case, free of spaces, and stable under a second normalisation.
func FuzzNormalizeUserCode(f *testing.F) {
	for _, seed := range []string{"bcdf-ghjk", "BCDFGHJK", " bc df gh jk ", "", "ß", "ǅ"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := normalizeUserCode(in)
		if strings.ContainsAny(out, " \t\n") || normalizeUserCode(out) != out {
			t.Fatalf("normalizeUserCode(%q) = %q, not stable", in, out)
		}
	})
}
