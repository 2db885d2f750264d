package devop

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type deviceAuth struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	Interval                int    `json:"interval"`
}

func (f *fixture) startDevice(scopes string) deviceAuth {
	f.t.Helper()
	resp, body := f.postForm(deviceAuthPath, url.Values{"client_id": {f.srv.ClientID()}, "scope": {scopes}})
	var da deviceAuth
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &da) != nil || da.DeviceCode == "" {
		f.t.Fatalf("device authorization: %d %s", resp.StatusCode, body)
	}
	return da
}

func (f *fixture) pollDevice(da deviceAuth) tokenResponse {
	return f.token(url.Values{"grant_type": {grantTypeDeviceCode}, "device_code": {da.DeviceCode}})
}

// TestDeviceFlowWithOAuth2 drives RFC 8628 with golang.org/x/oauth2 while a
// scripted browser opens verification_uri_complete.
func TestDeviceFlowWithOAuth2(t *testing.T) {
	f := start(t, Config{})
	da, err := f.oauth.DeviceAuth(f.ctx())
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if !strings.HasPrefix(da.VerificationURIComplete, f.srv.Issuer()+devicePath+"?user_code=") || da.Interval != 1 {
		t.Fatalf("device response: complete=%q interval=%d", da.VerificationURIComplete, da.Interval)
	}
	go func() {
		time.Sleep(1500 * time.Millisecond) // let the device poll into authorization_pending first
		resp, err := browser(t).Get(da.VerificationURIComplete)
		if err != nil {
			t.Errorf("browser: %v", err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "approved for alice") {
			t.Errorf("device page: %d %s", resp.StatusCode, body)
		}
	}()
	tok, err := f.oauth.DeviceAccessToken(f.ctx(), da)
	if err != nil {
		t.Fatalf("DeviceAccessToken: %v", err)
	}
	_, at := f.verifyJWT(tok.AccessToken)
	if at["sub"] != "alice" || tok.RefreshToken == "" {
		t.Errorf("sub = %v, refresh token present = %v", at["sub"], tok.RefreshToken != "")
	}
	if f.srv.Stats().DeviceAuthorizations != 1 {
		t.Errorf("DeviceAuthorizations = %d", f.srv.Stats().DeviceAuthorizations)
	}
	// A device code yields tokens once.
	if r := f.pollDevice(deviceAuth{DeviceCode: da.DeviceCode}); r.AccessToken != "" || r.Error == "" {
		t.Errorf("second redemption: %+v", r)
	}
	f.checkNoSecretsLogged(tok.AccessToken, tok.RefreshToken, da.DeviceCode)
}

func TestDeviceApproveAndDeny(t *testing.T) {
	f := start(t, Config{})
	da := f.startDevice("openid offline_access")
	if r := f.pollDevice(da); r.Error != "authorization_pending" || r.Status != http.StatusBadRequest {
		t.Fatalf("before approval: %+v", r)
	}
	if err := f.srv.ApproveDevice(strings.ToLower(strings.ReplaceAll(da.UserCode, "-", "")), "bob"); err != nil {
		t.Fatalf("ApproveDevice (typed sloppily): %v", err)
	}
	r := f.pollDevice(da)
	if r.AccessToken == "" || unverifiedClaims(t, r.AccessToken)["sub"] != "bob" {
		t.Fatalf("after approval: %+v", r)
	}
	if r.IDToken == "" {
		t.Error("no id_token for scope openid")
	}

	denied := f.startDevice("openid")
	if err := f.srv.DenyDevice(denied.UserCode); err != nil {
		t.Fatal(err)
	}
	if r := f.pollDevice(denied); r.Error != "access_denied" {
		t.Errorf("after deny: %+v", r)
	}
	if err := f.srv.ApproveDevice(denied.UserCode, "alice"); err == nil {
		t.Error("approving a denied code succeeded")
	}
	if err := f.srv.ApproveDevice("BCDF-GHJK", "alice"); err == nil {
		t.Error("approving an unknown code succeeded")
	}
	if err := f.srv.ApproveDevice(f.startDevice("openid").UserCode, "mallory"); err == nil {
		t.Error("approving for an unknown user succeeded")
	}
}

func TestDeviceCodeExpires(t *testing.T) {
	f := start(t, Config{DeviceCodeTTL: time.Second})
	da := f.startDevice("openid")
	time.Sleep(1100 * time.Millisecond)
	if r := f.pollDevice(da); r.Error != "expired_token" {
		t.Errorf("after expiry: %+v", r)
	}
	if err := f.srv.ApproveDevice(da.UserCode, "alice"); err == nil {
		t.Error("approving an expired code succeeded")
	}
}

func TestInjectDeviceTokenError(t *testing.T) {
	for _, code := range []string{"authorization_pending", "slow_down", "access_denied", "expired_token"} {
		t.Run(code, func(t *testing.T) {
			f := start(t, Config{})
			da := f.startDevice("openid")
			if err := f.srv.ApproveDevice(da.UserCode, "alice"); err != nil {
				t.Fatal(err)
			}
			f.srv.InjectDeviceTokenError(code, 2)
			for i := range 2 {
				if r := f.pollDevice(da); r.Error != code || r.Status != http.StatusBadRequest {
					t.Fatalf("poll %d: %+v, want %s", i, r, code)
				}
			}
			if r := f.pollDevice(da); r.AccessToken == "" {
				t.Fatalf("after the injected errors: %+v, want tokens", r)
			}
		})
	}
}

// TestInjectedErrorsThroughOAuth2 checks a real client's reaction: oauth2
// stops on access_denied and keeps polling through authorization_pending.
func TestInjectedErrorsThroughOAuth2(t *testing.T) {
	f := start(t, Config{})
	da, err := f.oauth.DeviceAuth(f.ctx())
	if err != nil {
		t.Fatal(err)
	}
	f.srv.InjectDeviceTokenError("access_denied", 1)
	_, err = f.oauth.DeviceAccessToken(f.ctx(), da)
	if !isOAuthError(err, "access_denied") {
		t.Fatalf("err = %v, want access_denied", err)
	}
	if err := f.srv.ApproveDevice(da.UserCode, "alice"); err != nil {
		t.Fatal(err)
	}
	f.srv.InjectDeviceTokenError("authorization_pending", 1)
	if _, err := f.oauth.DeviceAccessToken(f.ctx(), da); err != nil {
		t.Fatalf("after authorization_pending: %v", err)
	}
}
