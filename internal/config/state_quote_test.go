package config

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestUnsafeFixRunsAsPrinted: the fix doctor prints (and every command's error ends with) is a
// shell command the user pastes. macOS keeps the state under "Application Support", so a path
// with a space (or a quote) must come out quoted, and running the printed command must make
// the directory and the file safe.
func TestUnsafeFixRunsAsPrinted(t *testing.T) {
	base := filepath.Join(t.TempDir(), "Application Support", "it's $HOME")
	dir := filepath.Join(base, "state")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "s p.json")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	var unsafe *UnsafeError
	if err := CheckPrivateDir(dir); !errors.As(err, &unsafe) {
		t.Fatalf("mode 0777: %v", err)
	}
	runFix(t, unsafe.Fix)
	if err := CheckPrivateDir(dir); err != nil {
		t.Fatalf("after running %q: %v", unsafe.Fix, err)
	}
	fi, _ := os.Stat(file)
	if err := CheckPrivateFile(file, fi); !errors.As(err, &unsafe) {
		t.Fatalf("file mode 0644: %v", err)
	}
	runFix(t, unsafe.Fix)
	if fi, _ = os.Stat(file); CheckPrivateFile(file, fi) != nil {
		t.Fatalf("after running %q the file is mode %v", unsafe.Fix, fi.Mode().Perm())
	}
}

func runFix(t *testing.T, fix string) {
	t.Helper()
	if out, err := exec.Command("sh", "-c", fix).CombinedOutput(); err != nil {
		t.Fatalf("fix %q: %v: %s", fix, err, out)
	}
}
