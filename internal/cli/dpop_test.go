package cli

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/dpopkey"
	"github.com/pingedge/pingedge/internal/verify/dpop"
)

// TestLoginDPoP: `login --dpop` makes a P-256 key in the keychain next to the refresh token,
// gets a token bound to it (cnf.jkt = the key's thumbprint) from a real provider, saves
// `dpop: true` in the profile, and `logout` deletes the key.
func TestLoginDPoP(t *testing.T) {
	e := newCLIEnv(t, devop.Config{AccessTokenTTL: 5 * time.Minute})
	e.mustRun(e.loginArgs("--dpop")...)
	stored, err := e.keyring.Get(credstore.Service, "default"+dpopkey.ItemSuffix)
	if err != nil || stored == "" {
		t.Fatalf("no DPoP key in the keychain: %v", err)
	}
	k, err := dpopkey.Parse(stored)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := dpopkey.NewSigner(k)
	cfg, _ := os.ReadFile(e.env["PINGEDGE_CONFIG"])
	if !strings.Contains(string(cfg), "dpop: true") || strings.Contains(string(cfg), stored) {
		t.Errorf("config file:\n%s", cfg)
	}
	out, _ := e.mustRun("token")
	parts := strings.Split(strings.TrimSpace(out), ".")
	if len(parts) != 3 {
		t.Fatalf("token output is not a JWT")
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	_ = json.Unmarshal(payload, &claims)
	if claims.Cnf.JKT != s.JKT() {
		t.Fatalf("token cnf.jkt %q, want the stored key's %q", claims.Cnf.JKT, s.JKT())
	}
	hdr, _ := e.mustRun("token", "--format", "header", "--method", "post", "--url", "https://api.example.com/items?q=1")
	lines := strings.Split(strings.TrimSpace(hdr), "\n")
	if len(lines) != 2 || lines[0] != "Authorization: DPoP "+strings.TrimSpace(out) || !strings.HasPrefix(lines[1], "DPoP: ") {
		t.Fatalf("token --format header printed %d lines", len(lines))
	}
	// The edge core's own check accepts the proof for exactly that request.
	if _, err := dpop.Check(strings.TrimPrefix(lines[1], "DPoP: "), dpop.Expect{Method: "POST", URL: "https://api.example.com/items",
		AccessToken: strings.TrimSpace(out), JKT: s.JKT()}, dpop.Config{Lifetime: time.Minute, Leeway: time.Minute}); err != nil {
		t.Fatalf("the printed proof does not pass the edge's check: %v", err)
	}
	if code, _, errOut := e.run("token", "--format", "header"); code != ExitUsage || !strings.Contains(errOut, "--url") {
		t.Fatalf("token --format header without --url on a DPoP profile: exit %d %s", code, errOut)
	}
	insp, _ := e.mustRun("inspect")
	if !strings.Contains(insp, "DPoP binding") || !strings.Contains(insp, "cnf.jkt "+s.JKT()) || !strings.Contains(insp, "matches the active profile's key") {
		t.Errorf("inspect does not show the binding:\n%s", insp)
	}
	execOut, _ := e.mustRun("exec", "--", "sh", "-c", `echo "$PINGEDGE_TOKEN_TYPE $PINGEDGE_PROFILE"`)
	if strings.TrimSpace(execOut) != "DPoP default" {
		t.Errorf("exec on a DPoP profile gave the child %q, want the token type and the profile for its helper", execOut)
	}
	foreign, err := e.op.MintAccessToken(map[string]any{"sub": "alice", "aud": e.op.Audience(),
		"cnf": map[string]any{"jkt": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if insp, _ := e.mustRun("inspect", foreign); !strings.Contains(insp, "does not match the active profile's key") {
		t.Errorf("inspect of a token bound to another key:\n%s", insp)
	}
	e.mustRun("logout")
	if _, err := e.keyring.Get(credstore.Service, "default"+dpopkey.ItemSuffix); err == nil {
		t.Fatal("logout left the DPoP key in the keychain")
	}
}
