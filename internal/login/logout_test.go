package login_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/login"
)

func TestLogoutRevokesThenDeletes(t *testing.T) {
	h := newHarness(t, devop.Config{})
	h.login(login.FlowPKCE)
	rt := h.refreshToken()
	res, err := login.Logout(t.Context(), h.sourceConfig())
	if err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if len(res.Revoked) != 2 || len(res.Warnings) != 0 || !res.Deleted {
		t.Errorf("result = %+v, want both tokens revoked, no warnings", res)
	}
	if n := h.op.Stats().Revocations; n != 2 {
		t.Errorf("revocations = %d, want 2 (refresh and access token)", n)
	}
	if code := refreshWith(t, h, rt); code != "invalid_grant" {
		t.Errorf("revoked refresh token answered %q, want invalid_grant", code)
	}
	assertLoggedOut(t, h)
}

func assertLoggedOut(t *testing.T, h *harness) {
	t.Helper()
	if h.backend.Len() != 0 {
		t.Error("refresh token still in the store")
	}
	if _, err := os.Stat(filepath.Join(h.state, "sessions", "p.json")); !os.IsNotExist(err) {
		t.Errorf("session file still there: %v", err)
	}
}

func TestLogoutIssuerDownStillDeletes(t *testing.T) {
	h := newHarness(t, devop.Config{})
	h.login(login.FlowPKCE)
	h.op.SetDown(true)
	res, err := login.Logout(t.Context(), h.sourceConfig())
	if err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "stays valid at the issuer") {
		t.Errorf("warnings = %q, want one saying the token stays valid", res.Warnings)
	}
	assertLoggedOut(t, h)
}

func TestLogoutWhenNotLoggedIn(t *testing.T) {
	h := newHarness(t, devop.Config{})
	res, err := login.Logout(t.Context(), h.sourceConfig())
	if err != nil || res.Deleted {
		t.Fatalf("Logout = %+v, %v; want nothing deleted and no error", res, err)
	}
}
