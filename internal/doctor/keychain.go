package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/secret"
)

// probeItem is the throwaway keychain item the check writes, reads back and deletes.
const probeItem = "pingedge-doctor-probe"

// checkStore checks the credential store the profile uses. The file store needs no keychain, so
// for a store: file profile it says so instead of reporting on a keychain the profile never
// touches.
func checkStore(ctx context.Context, env Env) Check {
	if env.StoreKind == credstore.KindFile {
		return Check{Name: "credential store", Status: Warn,
			Detail: fmt.Sprintf("profile %s keeps its refresh token in %s; the OS keychain is not used", env.Profile, env.StoreDetail),
			Fix:    "to use the OS keychain: pingedge logout --profile " + env.Profile + ", then pingedge login --profile " + env.Profile + " --store keychain"}
	}
	c := checkKeychain(ctx, env)
	c.Name = "credential store"
	return c
}

func checkKeychain(ctx context.Context, env Env) Check {
	c := Check{Name: "keychain"}
	if env.Keyring == nil {
		c.Status, c.Detail = Fail, "the profile uses the OS keychain, but this build has no keychain backend"
		c.Fix = "log in with --store file"
		return c
	}
	kc := &credstore.Keychain{Backend: env.Keyring}
	if err := roundTrip(ctx, kc); err != nil {
		c.Status, c.Detail = Fail, err.Error()
		c.Fix = keychainFix(env, err)
		return c
	}
	c.Status, c.Detail = Pass, kc.Describe()+" stores, returns and deletes a secret"
	return c
}

func roundTrip(ctx context.Context, kc *credstore.Keychain) error {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	want := secret.String(hex.EncodeToString(b))
	if err := kc.Set(ctx, probeItem, want); err != nil {
		return err
	}
	defer kc.Delete(context.WithoutCancel(ctx), probeItem)
	got, err := kc.Get(ctx, probeItem)
	if err != nil {
		return err
	}
	if got != want {
		return errors.New("the keychain returned a different secret than was stored")
	}
	return kc.Delete(ctx, probeItem)
}

// keychainFix names the likely cause on Linux: WSL, no session bus, no Secret Service provider,
// or a locked collection.
func keychainFix(env Env, err error) string {
	if env.GOOS != "linux" {
		return "unlock the OS keychain and run pingedge doctor again, or log in with --store file"
	}
	msg := strings.ToLower(err.Error())
	switch {
	case isWSL(env):
		return "WSL has no Secret Service by default: run gnome-keyring in the WSL session " +
			"(dbus-run-session + gnome-keyring-daemon --unlock), or log in with --store file"
	case !hasSessionBus(env):
		return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset): start one with dbus-run-session, " +
			"or log in with --store file"
	case strings.Contains(msg, "locked"):
		return "the keyring collection is locked: unlock it (log in to the desktop, or " +
			"gnome-keyring-daemon --unlock), then retry"
	case strings.Contains(msg, "secrets") || strings.Contains(msg, "service"):
		return "no Secret Service provider answers on D-Bus: install and start gnome-keyring or " +
			"KeePassXC's Secret Service integration, or log in with --store file"
	}
	return "see docs/troubleshooting.md (keychain), or log in with --store file"
}

func isWSL(env Env) bool {
	if env.Getenv("WSL_DISTRO_NAME") != "" {
		return true
	}
	b, err := env.ReadFile("/proc/version")
	return err == nil && strings.Contains(strings.ToLower(string(b)), "microsoft")
}

func hasSessionBus(env Env) bool {
	if env.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true
	}
	return env.Stat(fmt.Sprintf("/run/user/%d/bus", env.UID)) == nil
}
