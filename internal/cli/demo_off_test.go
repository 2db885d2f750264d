//go:build !demo

package cli

import (
	"errors"
	"strings"
	"testing"
)

// TestDemoNotInRelease: the release pingedge answers `pingedge demo` with a usage error that
// names pingedge-demo, instead of cobra's "unknown command".
func TestDemoNotInRelease(t *testing.T) {
	cmd := demoCommand(nil)
	err := cmd.RunE(cmd, nil)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(ee.Hint, "pingedge-demo") || !cmd.Hidden {
		t.Fatalf("got %v", err)
	}
}
