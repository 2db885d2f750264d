package login

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/pkg/browser"
)

// Browser opens a URL for the user. Tests inject one that drives an http.Client with a cookie
// jar through the issuer's pages into pingedge's loopback callback.
type Browser interface {
	Open(ctx context.Context, url string) error
}

// BrowserFunc adapts a function to Browser.
type BrowserFunc func(ctx context.Context, url string) error

func (f BrowserFunc) Open(ctx context.Context, url string) error { return f(ctx, url) }

// SystemBrowser opens URLs the way the user's desktop does: $BROWSER when set (a list of commands
// separated like PATH, "%s" standing for the URL, as xdg-utils and Python's webbrowser read it),
// else pkg/browser (open, xdg-open, rundll32). Whatever those programs print goes to Stderr so
// stdout stays data only.
type SystemBrowser struct {
	Getenv func(string) string
	Stderr io.Writer
}

func (b SystemBrowser) Open(ctx context.Context, url string) error {
	// The last line of defence before a URL becomes a program's argument: never an option, never
	// a scheme other than https (or loopback http). Callers checked already; this holds for all.
	if err := CheckOpenable(url); err != nil {
		return fmt.Errorf("not opening a browser: the URL %w", err)
	}
	if env := b.Getenv("BROWSER"); env != "" {
		return b.openWith(env, url)
	}
	// pkg/browser only offers package variables for its child's output; this is the one
	// place pingedge sets them, right before the one call that reads them.
	browser.Stdout, browser.Stderr = b.Stderr, b.Stderr
	return browser.OpenURL(url)
}

func (b SystemBrowser) openWith(env, url string) error {
	var lastErr error
	for _, c := range strings.Split(env, string(os.PathListSeparator)) {
		args := strings.Fields(c)
		if len(args) == 0 {
			continue
		}
		replaced := false
		for i, a := range args {
			if strings.Contains(a, "%s") {
				args[i], replaced = strings.ReplaceAll(a, "%s", url), true
			}
		}
		if !replaced {
			args = append(args, url)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = b.Stderr, b.Stderr
		if lastErr = cmd.Start(); lastErr == nil {
			go func() { _ = cmd.Wait() }() // a browser may run for hours; only reap it
			return nil
		}
	}
	return fmt.Errorf("open a browser with $BROWSER: %w", lastErr)
}

// CanOpenBrowser reports whether this session can show a browser: $BROWSER is set, the OS is
// macOS or Windows, or (elsewhere) there is a graphical display. Over SSH without a display, or
// in a container, --flow auto then picks the device flow.
func CanOpenBrowser(goos string, getenv func(string) string) bool {
	if getenv("BROWSER") != "" {
		return true
	}
	switch goos {
	case "windows":
		return true
	case "darwin": // `open` over SSH shows the page on the remote Mac's screen, not the user's
		return getenv("SSH_CONNECTION") == ""
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}
