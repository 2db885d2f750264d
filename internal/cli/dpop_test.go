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
	e.mustRun("logout")
	if _, err := e.keyring.Get(credstore.Service, "default"+dpopkey.ItemSuffix); err == nil {
		t.Fatal("logout left the DPoP key in the keychain")
	}
}
