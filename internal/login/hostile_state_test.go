package login_test

import (
	"encoding/json"
	"errors"

	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/hostileop"
	"github.com/pingedge/pingedge/internal/httpclient"
	"github.com/pingedge/pingedge/internal/login"
)

func (h *hostile) sessionPath() string { return filepath.Join(h.state, "sessions", "p.json") }

// editSession rewrites fields of the session file the way a planted file would look.
func (h *hostile) editSession(fields map[string]string) {
	h.t.Helper()
	b, err := os.ReadFile(h.sessionPath())
	if err != nil {
		h.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		h.t.Fatal(err)
	}
	for k, v := range fields {
		m[k] = v
	}
	b, _ = json.Marshal(m)
	if err := os.WriteFile(h.sessionPath(), b, 0o600); err != nil {
		h.t.Fatal(err)
	}
}

// TestSessionFileModesAreChecked: the session file (it holds the access token) and its directory
// are checked like the credential file, and refused with the command that fixes them.
func TestSessionFileModesAreChecked(t *testing.T) {
	h := newHostile(t, hostileop.Config{})
	if _, err := h.login(login.FlowDevice, h.hc, nil); err != nil {
		t.Fatal(err)
	}
	sessions := filepath.Dir(h.sessionPath())
	for _, tc := range []struct {
		path string
		mode os.FileMode
		want string
	}{
		{h.sessionPath(), 0o644, "run chmod 600 " + h.sessionPath()},
		{h.sessionPath(), 0o660, "run chmod 600 " + h.sessionPath()},
		{sessions, 0o777, "run chmod 700 " + sessions},
	} {
		os.Chmod(tc.path, tc.mode)
		_, err := login.NewSource(h.sourceConfig(h.hc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s at %v: %v", filepath.Base(tc.path), tc.mode, err)
		}
		if _, err := login.LoadSession(h.state, "p"); err == nil {
			t.Errorf("status read a session at %v", tc.mode)
		}
		os.Chmod(tc.path, map[bool]os.FileMode{true: 0o700, false: 0o600}[tc.path == sessions])
	}
	if _, err := login.NewSource(h.sourceConfig(h.hc)); err != nil {
		t.Fatal(err)
	}
}

// TestPlantedSessionIsIgnored: a session file whose token or revocation endpoint is not the
// issuer's is never used: no cached token handed out, no refresh token posted, no revocation sent.
func TestPlantedSessionIsIgnored(t *testing.T) {
	for _, field := range []string{"token_endpoint", "revocation_endpoint"} {
		t.Run(field, func(t *testing.T) {
			h := newHostile(t, hostileop.Config{})
			if _, err := h.login(login.FlowDevice, h.hc, nil); err != nil {
				t.Fatal(err)
			}
			before, _ := h.store.Get(t.Context(), "p")
			h.editSession(map[string]string{field: h.sink.URL() + "/steal"})
			src, err := login.NewSource(h.sourceConfig(h.hc))
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Token(t.Context(), 0) // the cached token is still valid: it must not be used either
			if !errors.Is(err, login.ErrLoginRequired) || !strings.Contains(err.Error(), "was ignored") {
				t.Fatalf("cached token: %v", err)
			}
			h.clock.Add(2 * time.Hour)
			if _, err = src.Token(t.Context(), 0); !errors.Is(err, login.ErrLoginRequired) {
				t.Fatalf("refresh: %v", err)
			}
			res, err := login.Logout(t.Context(), h.sourceConfig(h.hc))
			if err != nil || len(res.Revoked) != 0 || len(res.Warnings) == 0 {
				t.Fatalf("logout: %+v %v", res, err)
			}
			if after, _ := h.store.Get(t.Context(), "p"); after == before && !after.Empty() {
				t.Fatal("logout left the refresh token")
			}
			h.assertSinkUntouched()
		})
	}
}

// TestCrossOriginEndpointsFromDiscoveryAreTrusted: an issuer whose token endpoint is on another
// origin is fine when its discovery document says so (one discovery, then refreshes work).
func TestCrossOriginEndpointsFromDiscoveryAreTrusted(t *testing.T) {
	op, err := hostileop.Start(hostileop.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	// Same server, another origin: localhost instead of 127.0.0.1.
	other := strings.Replace(op.Issuer(), "127.0.0.1", "localhost", 1)
	op.SetEndpoint("token_endpoint", other+"/token")
	h := newHostile(t, hostileop.Config{})
	h.op = op
	h.hc = httpclient.New(httpclient.Config{Timeout: 10 * time.Second})
	if _, err := h.login(login.FlowDevice, h.hc, nil); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(2 * time.Hour)
	src, err := login.NewSource(h.sourceConfig(h.hc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(t.Context(), 0); err != nil {
		t.Fatalf("refresh through a discovered cross-origin token endpoint: %v", err)
	}
	if op.Hits("discovery") != 2 {
		t.Fatalf("discovery hits = %d, want 2 (login, then the session check)", op.Hits("discovery"))
	}
}
