package credstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/pingedge/pingedge/internal/secret"
)

// requireSecretService runs the test against the real Secret Service when the harness provides
// one (scripts/test.sh sets PINGEDGE_TEST_SECRET_SERVICE=1 inside dbus-run-session with an
// unlocked gnome-keyring); elsewhere it skips, naming the command that runs it.
func requireSecretService(t *testing.T) {
	t.Helper()
	if os.Getenv("PINGEDGE_TEST_SECRET_SERVICE") != "1" {
		t.Skip("needs the Secret Service: run `make test` (scripts/test.sh starts gnome-keyring in a private D-Bus session)")
	}
}

func TestSecretServiceRoundTrip(t *testing.T) {
	requireSecretService(t)
	ctx := t.Context()
	k := &Keychain{Backend: OSBackend{}}
	profile := fmt.Sprintf("test-%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = k.Delete(context.Background(), profile) })

	if _, err := k.Get(ctx, profile); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: %v, want ErrNotFound", err)
	}
	rt := secret.String(strings.Repeat("r", 2000)) // a long JWT-style refresh token
	if err := k.Set(ctx, profile, rt); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got, err := k.Get(ctx, profile); err != nil || got != rt {
		t.Fatalf("Get = %d bytes, %v", len(got.Reveal()), err)
	}
	// The item is where other tools look for it: service pingedge, user = profile.
	if out, err := exec.Command("secret-tool", "lookup", "service", Service, "username", profile).Output(); err != nil || string(out) != rt.Reveal() {
		t.Errorf("secret-tool lookup: %v (got %d bytes)", err, len(out))
	}
	if err := k.Set(ctx, profile, "rotated"); err != nil {
		t.Fatalf("Set (rotation): %v", err)
	}
	if got, _ := k.Get(ctx, profile); got.Reveal() != "rotated" {
		t.Fatal("rotation did not replace the item")
	}
	if err := k.Delete(ctx, profile); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(ctx, profile); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := k.Delete(ctx, profile); err != nil {
		t.Fatalf("Delete of an absent item: %v", err)
	}
}

// TestNoSecretServiceIsAClearError points go-keyring at a D-Bus that does not exist, in a child
// process (godbus caches the session bus per process).
func TestNoSecretServiceIsAClearError(t *testing.T) {
	if os.Getenv("PINGEDGE_CHILD_NO_DBUS") == "1" {
		_, err := (&Keychain{Backend: OSBackend{}}).Get(t.Context(), "default")
		fmt.Println(err)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoSecretServiceIsAClearError$")
	cmd.Env = append(os.Environ(), "PINGEDGE_CHILD_NO_DBUS=1", "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "none"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	// What to do (unlock, or --store file) is the CLI's hint, not part of this error.
	for _, want := range []string{"credential store unavailable", "keychain read failed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("error lacks %q:\n%s", want, out)
		}
	}
}

// hungBackend never answers, like a Secret Service waiting on an unlock prompt nobody sees.
type hungBackend struct{ release chan struct{} }

func (h hungBackend) Get(string, string) (string, error) { <-h.release; return "", nil }
func (h hungBackend) Set(string, string, string) error   { <-h.release; return nil }
func (h hungBackend) Delete(string, string) error        { <-h.release; return nil }

func TestHungKeychainTimesOut(t *testing.T) {
	h := hungBackend{release: make(chan struct{})}
	defer close(h.release)
	k := &Keychain{Backend: h, Timeout: 50 * time.Millisecond}
	start := time.Now()
	_, err := k.Get(t.Context(), "p")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("the timeout did not bound the call")
	}
}

type tooBigBackend struct{ *MemoryBackend }

func (tooBigBackend) Set(string, string, string) error { return keyring.ErrSetDataTooBig }

func TestTooBigIsExplained(t *testing.T) {
	big := secret.String(strings.Repeat("x", 3000))
	for name, k := range map[string]*Keychain{
		"checked before the call": {Backend: NewMemoryBackend(), Limit: PlatformLimit("windows")},
		"reported by go-keyring":  {Backend: tooBigBackend{NewMemoryBackend()}},
	} {
		err := k.Set(t.Context(), "p", big)
		if !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "3000 bytes") || strings.Contains(err.Error(), "--store") {
			t.Errorf("%s: err = %v", name, err)
		}
		if strings.Contains(err.Error(), "data passed to Set") {
			t.Errorf("%s: the raw go-keyring message leaked: %v", name, err)
		}
	}
	if err := (&Keychain{Backend: NewMemoryBackend(), Limit: 2560}).Set(t.Context(), "p", big[:2560]); err != nil {
		t.Errorf("a token of exactly the limit: %v", err)
	}
}

func TestFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "credentials")
	s := &File{Dir: dir}
	ctx := t.Context()
	if _, err := s.Get(ctx, "p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: %v", err)
	}
	if err := s.Set(ctx, "p", "refresh-value"); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(dir, "p.json"))
	dst, _ := os.Stat(dir)
	if st.Mode().Perm() != 0o600 || dst.Mode().Perm() != 0o700 {
		t.Errorf("modes file %v dir %v, want 0600 and 0700", st.Mode().Perm(), dst.Mode().Perm())
	}
	if got, err := s.Get(ctx, "p"); err != nil || got.Reveal() != "refresh-value" {
		t.Fatalf("Get = %v", err)
	}
	if err := os.Chmod(filepath.Join(dir, "p.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "p"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable file: err = %v", err)
	}
	if err := s.Delete(ctx, "p"); err != nil || s.Delete(ctx, "p") != nil {
		t.Errorf("Delete: %v", err)
	}
	if err := s.Set(ctx, "../escape", "x"); err == nil {
		t.Error("a profile name with a path was accepted")
	}
}

func TestCheckProfile(t *testing.T) {
	for name, ok := range map[string]bool{
		"default": true, "staging-eu": true, "a.b_c": true,
		"": false, "../x": false, "a/b": false, ".hidden": false, strings.Repeat("a", 65): false, "a b": false,
	} {
		if (CheckProfile(name) == nil) != ok {
			t.Errorf("CheckProfile(%q) ok = %v, want %v", name, !ok, ok)
		}
	}
}
