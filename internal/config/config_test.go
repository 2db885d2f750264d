package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST.": true, "app.localhost": true, "127.0.0.1": true, "127.1.2.3": true,
		"::1": true, "[::1]": true, "::ffff:127.0.0.1": true,
		"127.evil.example": false, "127.0.0.1.nip.io": false, "localhost.evil.example": false,
		"10.0.0.1": false, "0.0.0.0": false, "::": false, "example.com": false, "": false, "fe80::1%lo": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestValidateIssuer(t *testing.T) {
	ok := []string{"https://auth.pingone.eu/abc/as", "http://127.0.0.1:9000", "http://localhost:1/x"}
	bad := []string{"http://127.evil.example.com", "http://auth.example.com", "https://x/?q=1", "https://x/#f", "auth.example.com", "ftp://x"}
	for _, u := range ok {
		if err := ValidateIssuer(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range bad {
		if err := ValidateIssuer(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

func TestPingOneIssuer(t *testing.T) {
	for region, want := range map[string]string{
		"na": "https://auth.pingone.com/e1/as", "eu": "https://auth.pingone.eu/e1/as", "ca": "https://auth.pingone.ca/e1/as",
		"au": "https://auth.pingone.com.au/e1/as", "sg": "https://auth.pingone.sg/e1/as", "ap": "https://auth.pingone.asia/e1/as",
		"EU": "https://auth.pingone.eu/e1/as",
	} {
		if got, err := PingOneIssuer("e1", region); err != nil || got != want {
			t.Errorf("%s: %q %v", region, got, err)
		}
	}
	if _, err := PingOneIssuer("e1", "mars"); err == nil || !strings.Contains(err.Error(), "na, eu, ca, au, sg, ap") {
		t.Errorf("unknown region: %v", err)
	}
	if _, err := PingOneIssuer("../x", "eu"); err == nil {
		t.Error("path characters in the environment ID accepted")
	}
}

func TestPathsAndOverrides(t *testing.T) {
	env := map[string]string{"HOME": "/home/u"}
	get := func(k string) string { return env[k] }
	p, err := ResolvePaths("", get)
	if err != nil || p.ConfigFile != "/home/u/.config/pingedge/config.yaml" {
		t.Fatalf("%+v %v", p, err)
	}
	env["XDG_CONFIG_HOME"] = "/xdg"
	if p, _ := ResolvePaths("", get); p.ConfigFile != "/xdg/pingedge/config.yaml" {
		t.Fatalf("XDG: %+v", p)
	}
	env["PINGEDGE_CONFIG"] = "/etc/pe.yaml"
	if p, _ := ResolvePaths("", get); p.ConfigFile != "/etc/pe.yaml" {
		t.Fatalf("env: %+v", p)
	}
	if p, _ := ResolvePaths("/flag.yaml", get); p.ConfigFile != "/flag.yaml" || p.StateDir != "/state" {
		t.Fatalf("flag: %+v", p)
	}

	f := &File{Profiles: map[string]*Profile{"work": {Issuer: "https://a", ClientID: "c1"}}, CurrentProfile: "work"}
	if n := f.ProfileName("", get); n != "work" {
		t.Fatalf("current profile: %s", n)
	}
	env["PINGEDGE_PROFILE"] = "other"
	if n := f.ProfileName("", get); n != "other" {
		t.Fatalf("env profile: %s", n)
	}
	if n := f.ProfileName("flag", get); n != "flag" {
		t.Fatalf("flag profile: %s", n)
	}
	env["PINGEDGE_CLIENT_ID"] = "c2"
	env["PINGEDGE_ISSUER"] = "https://exported-by-exec"
	eff, ok := f.Effective("work", get)
	if !ok || eff.ClientID != "c2" || eff.Issuer != "https://a" {
		t.Fatalf("overrides: %+v", eff)
	}
}

func TestSaveLoadNoSecretsAndPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.yaml")
	f := &File{Profiles: map[string]*Profile{"p": {Issuer: "https://a", ClientID: "c", Routes: []Route{{Prefix: "/x", URL: "https://b"}}}}}
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", st.Mode(), err)
	}
	g, err := Load(path)
	if err != nil || g.Profiles["p"].Routes[0].URL != "https://b" {
		t.Fatalf("%+v %v", g, err)
	}
	os.WriteFile(path, []byte("profiles: [oops"), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "invalid configuration") {
		t.Fatalf("bad yaml: %v", err)
	}
	if g, err := Load(filepath.Join(t.TempDir(), "none.yaml")); err != nil || len(g.Profiles) != 0 {
		t.Fatalf("missing file: %v", err)
	}
}

// TestLoadRefusesUnknownKeys: a misspelt key is an error naming its line, not silently ignored
// (issue 12 item 6); an empty file is still an empty config.
func TestLoadRefusesUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		body, want string
	}{
		"top level":    {"current_profile: work\ncolour: blue\n", "line 2: field colour not found"},
		"in a profile": {"profiles:\n  work:\n    issuer: https://i.example.com\n    isuer: x\n", "line 4: field isuer not found"},
		"in a route":   {"profiles:\n  w:\n    routes:\n      - prefix: /a\n        url: http://x\n        uri: y\n", "line 6: field uri not found"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yaml")
		if err := os.WriteFile(path, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrInvalid with %q", name, err, c.want)
		}
	}
	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := Load(empty); err != nil || len(f.Profiles) != 0 {
		t.Errorf("empty file: %v %v", f, err)
	}
}
