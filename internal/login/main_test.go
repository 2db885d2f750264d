package login_test

import (
	"log/slog"
	"os"
	"testing"
)

// defaultLog receives what zitadel/oidc (inside devop) logs through slog.Default, so the secret
// checks can grep it too and test output stays quiet.
var defaultLog = &syncBuffer{}

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(defaultLog, &slog.HandlerOptions{Level: slog.LevelDebug})))
	os.Exit(m.Run())
}
