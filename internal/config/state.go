package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// defaultStateDir is where cached sessions, locks and the opt-in credential files live when no
// config file was named: $XDG_STATE_HOME/pingedge, else ~/.local/state/pingedge (XDG Base
// Directory spec), so dotfile sync of ~/.config never picks up an access token. macOS and
// Windows keep it under the user config directory, where it always was there. legacy is the old
// location (<config dir>/pingedge/state) to migrate from; empty when there is none to consider.
func defaultStateDir(env Env, configDir string) (state, legacy string) {
	legacy = filepath.Join(configDir, "pingedge", "state")
	if os.PathSeparator != '/' || isDarwin() {
		return legacy, ""
	}
	if x := env("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "pingedge"), legacy
	}
	if h := env("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "pingedge"), legacy
	}
	return legacy, ""
}

// PrepareStateDir makes the state directory ready for secrets: it moves a state directory left at
// the legacy location there (once, keeping its modes), creates it 0700, and refuses one that
// others could plant files in (issue 10 finding 6), naming the command that fixes it.
func PrepareStateDir(p Paths) error {
	if err := migrateState(p.LegacyStateDir, p.StateDir); err != nil {
		return err
	}
	if err := os.MkdirAll(p.StateDir, 0o700); err != nil {
		return fmt.Errorf("create the state directory: %w", err)
	}
	return CheckPrivateDir(p.StateDir)
}

// migrateState renames legacy to state when state does not exist yet and legacy does. A rename
// keeps the files' modes and owner and is atomic on one filesystem; across filesystems the user
// gets the command to run.
func migrateState(legacy, state string) error {
	if legacy == "" || legacy == state {
		return nil
	}
	if _, err := os.Lstat(state); !errors.Is(err, fs.ErrNotExist) {
		return nil // already there (or unreadable: PrepareStateDir reports that)
	}
	if fi, err := os.Lstat(legacy); err != nil || !fi.IsDir() {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(state), 0o700); err != nil {
		return fmt.Errorf("move the state directory to %s: %w", state, err)
	}
	if err := os.Rename(legacy, state); err != nil {
		return fmt.Errorf("move the state directory from %s to %s: %w: run mv %s %s", legacy, state, err, shellQuote(legacy), shellQuote(state))
	}
	return nil
}

// CheckPrivateDir refuses a directory that another user owns or that group or others can write:
// either could replace a session file and point pingedge's refresh at their own endpoint.
func CheckPrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	if runtime.GOOS == "windows" {
		return nil // protected by the profile directory's ACL, not mode bits
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if fi, err = os.Stat(dir); err != nil {
			return fmt.Errorf("state directory: %w", err)
		}
	}
	if uid, ok := ownerUID(fi); ok && uid != os.Getuid() {
		return &UnsafeError{
			Problem: fmt.Sprintf("the state directory %s belongs to user id %d, not to you (%d)", dir, uid, os.Getuid()),
			Fix:     fmt.Sprintf("sudo chown -R %d %s && chmod 700 %s", os.Getuid(), shellQuote(dir), shellQuote(dir)),
		}
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return &UnsafeError{
			Problem: fmt.Sprintf("the state directory %s is writable by group or others (mode %v)", dir, fi.Mode().Perm()),
			Fix:     "chmod 700 " + shellQuote(dir),
		}
	}
	return nil
}

// CheckPrivateFile refuses a file holding a token that others can read or write, or that another
// user owns (like ssh does for private keys).
func CheckPrivateFile(path string, fi fs.FileInfo) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if uid, ok := ownerUID(fi); ok && uid != os.Getuid() {
		return &UnsafeError{
			Problem: fmt.Sprintf("%s belongs to user id %d, not to you (%d)", path, uid, os.Getuid()),
			Fix:     "rm " + shellQuote(path) + ", then log in again",
		}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return &UnsafeError{
			Problem: fmt.Sprintf("%s is readable or writable by others (mode %v)", path, fi.Mode().Perm()),
			Fix:     "chmod 600 " + shellQuote(path),
		}
	}
	return nil
}

// ErrUnsafeState marks a state directory or file with unsafe ownership or modes (exit 2: the
// machine's configuration, not the network or the issuer, is at fault).
var ErrUnsafeState = fmt.Errorf("%w: unsafe permissions", ErrInvalid)

// UnsafeError is ErrUnsafeState with its parts apart, so `pingedge doctor` can show the problem
// and the command that fixes it on their own lines. Its text is what the other commands print.
type UnsafeError struct {
	Problem string // what is wrong, naming the path
	Fix     string // the shell command that repairs it
}

func (e *UnsafeError) Error() string {
	return ErrUnsafeState.Error() + ": " + e.Problem + ": run " + e.Fix
}

// Unwrap makes errors.Is(err, ErrUnsafeState) (and so ErrInvalid: exit 2) hold.
func (e *UnsafeError) Unwrap() error { return ErrUnsafeState }

// shellQuote makes path one word of the fix command the user pastes into a POSIX shell: as it is
// when it holds only characters no shell treats specially, else in single quotes. The macOS
// state directory is under "Application Support"; unquoted, chmod would get two wrong paths.
func shellQuote(path string) string {
	for _, c := range path {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/._-+:,@%=", c)) {
			return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
		}
	}
	return path
}
