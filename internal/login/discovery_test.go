package login

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/verify/keyset"
)

// discoveryServer serves a discovery document built from the server's own URL.
func discoveryServer(t *testing.T, edit func(issuer string, doc map[string]any)) string {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		iss := srv.URL
		doc := map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"device_authorization_endpoint": iss + "/device", "jwks_uri": iss + "/keys",
			"code_challenge_methods_supported": []string{"S256"},
		}
		if edit != nil {
			edit(iss, doc)
		}
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestDiscoveryErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string, map[string]any)
		flow    string
		wantErr string
	}{
		{"ok", nil, FlowPKCE, ""},
		{"issuer differs (mix-up)", func(_ string, d map[string]any) { d["issuer"] = "https://evil.example" }, "", "names issuer"},
		{"plain http endpoint off loopback", func(_ string, d map[string]any) { d["token_endpoint"] = "http://evil.example/token" }, "", "use https"},
		{"no token endpoint", func(_ string, d map[string]any) { delete(d, "token_endpoint") }, "", "no token_endpoint"},
		{"no device endpoint", func(_ string, d map[string]any) { delete(d, "device_authorization_endpoint") }, FlowDevice, "DEVICE_CODE"},
		{"no S256", func(_ string, d map[string]any) { d["code_challenge_methods_supported"] = []string{"plain"} }, FlowPKCE, "S256"},
		{"no authorize endpoint", func(_ string, d map[string]any) { delete(d, "authorization_endpoint") }, FlowPKCE, "no authorization_endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := discoveryServer(t, tt.edit)
			md, err := Discover(t.Context(), http.DefaultClient, iss)
			if err == nil && tt.flow != "" {
				err = md.Supports(tt.flow)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestDiscoveryNotFoundSaysWhatToCheck(t *testing.T) {
	iss := discoveryServer(t, nil)
	_, err := Discover(t.Context(), http.DefaultClient, iss+"/wrong")
	// The CLI turns ErrDiscovery into "check --issuer …"; this package names no flag.
	if !errors.Is(err, ErrDiscovery) || !strings.Contains(err.Error(), "HTTP 404") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Discover(t.Context(), http.DefaultClient, "http://example.com"); err == nil {
		t.Fatal("a plain-http issuer off loopback was accepted")
	}
}

func TestChooseFlow(t *testing.T) {
	md := &Metadata{Provider: keyset.Provider{AuthorizationEndpoint: "a", DeviceAuthorizationEndpoint: "d"}}
	noDevice := &Metadata{Provider: keyset.Provider{AuthorizationEndpoint: "a"}}
	tests := []struct {
		md      *Metadata
		flow    string
		browser bool
		want    string
	}{
		{md, FlowAuto, true, FlowPKCE},
		{md, FlowAuto, false, FlowDevice},
		{md, "", false, FlowDevice},
		{noDevice, FlowAuto, false, FlowPKCE}, // the only flow the issuer offers
		{md, FlowPKCE, false, FlowPKCE},
		{md, FlowDevice, true, FlowDevice},
	}
	for _, tt := range tests {
		l := &loginRun{p: Params{Flow: tt.flow}, env: Env{CanOpenBrowser: tt.browser}, md: tt.md}
		if got, err := l.chooseFlow(); err != nil || got != tt.want {
			t.Errorf("flow %q browser %v: %q, %v; want %q", tt.flow, tt.browser, got, err, tt.want)
		}
	}
	l := &loginRun{p: Params{Flow: FlowDevice}, md: noDevice}
	if _, err := l.chooseFlow(); err == nil {
		t.Error("--flow device accepted by an issuer without a device endpoint")
	}
}
