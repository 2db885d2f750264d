package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStateDirFollowsXDGState(t *testing.T) {
	env := map[string]string{"HOME": "/home/u"}
	get := func(k string) string { return env[k] }
	check := func(what, want, wantLegacy string) {
		t.Helper()
		p, err := ResolvePaths("", get)
		if err != nil || p.StateDir != want || p.LegacyStateDir != wantLegacy {
			t.Fatalf("%s: %+v %v, want state %s legacy %s", what, p, err, want, wantLegacy)
		}
	}
	check("default", "/home/u/.local/state/pingedge", "/home/u/.config/pingedge/state")
	env["XDG_STATE_HOME"] = "/xs"
	check("XDG_STATE_HOME", "/xs/pingedge", "/home/u/.config/pingedge/state")
	env["XDG_STATE_HOME"] = "relative/ignored" // the spec: relative paths are invalid, ignore them
	check("relative XDG_STATE_HOME", "/home/u/.local/state/pingedge", "/home/u/.config/pingedge/state")
	env["PINGEDGE_STATE_DIR"] = "/explicit"
	check("PINGEDGE_STATE_DIR", "/explicit", "")
	delete(env, "PINGEDGE_STATE_DIR")
	env["PINGEDGE_CONFIG"] = "/etc/pe/config.yaml"
	check("explicit config file keeps its state beside it", "/etc/pe/state", "")
}

// TestStateDirMigratesOnce: a state directory at the old place under ~/.config moves to the XDG
// state directory with its modes, once; a later old directory is left alone.
func TestStateDirMigratesOnce(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	p, _ := ResolvePaths("", func(k string) string { return env[k] })
	old := filepath.Join(p.LegacyStateDir, "sessions", "default.json")
	if err := os.MkdirAll(filepath.Dir(old), 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p.LegacyStateDir, 0o700)
	if err := os.WriteFile(old, []byte(`{"issuer":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := PrepareStateDir(p); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(p.StateDir, "sessions", "default.json")
	fi, err := os.Stat(moved)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("moved session: %v %v", fi, err)
	}
	if _, err := os.Stat(p.LegacyStateDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the old directory is still there: %v", err)
	}
	// Once: an old directory appearing later (an older pingedge run) is not merged over the new.
	os.MkdirAll(filepath.Dir(old), 0o700)
	os.WriteFile(old, []byte(`{"issuer":"older"}`), 0o600)
	if err := PrepareStateDir(p); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(moved); string(b) != `{"issuer":"x"}` {
		t.Fatalf("the migrated session was overwritten: %s", b)
	}
}

// TestUnsafeStateDirIsRefused: group/world-writable or someone else's state directory is refused
// with the command that fixes it; a fresh one is created 0700.
func TestUnsafeStateDirIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	p := Paths{StateDir: dir}
	if err := PrepareStateDir(p); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("created with mode %v", fi.Mode().Perm())
	}
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702} {
		os.Chmod(dir, mode)
		err := PrepareStateDir(p)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "run chmod 700 "+dir) {
			t.Errorf("mode %v: %v", mode, err)
		}
	}
	os.Chmod(dir, 0o750) // readable by the group, writable by no one else: fine
	if err := PrepareStateDir(p); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 {
		return // only root can give a directory away; CI runs the owner case as root
	}
	os.Chmod(dir, 0o700)
	if err := os.Chown(dir, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if err := PrepareStateDir(p); err == nil || !strings.Contains(err.Error(), "belongs to user id 4242") || !strings.Contains(err.Error(), "chown -R 0 "+dir) {
		t.Fatalf("foreign owner: %v", err)
	}
}

func TestPrivateFileCheck(t *testing.T) {
	f := filepath.Join(t.TempDir(), "s.json")
	os.WriteFile(f, nil, 0o644)
	fi, _ := os.Stat(f)
	if err := CheckPrivateFile(f, fi); err == nil || !strings.Contains(err.Error(), "run chmod 600 "+f) {
		t.Fatalf("%v", err)
	}
	os.Chmod(f, 0o600)
	fi, _ = os.Stat(f)
	if err := CheckPrivateFile(f, fi); err != nil {
		t.Fatal(err)
	}
}
