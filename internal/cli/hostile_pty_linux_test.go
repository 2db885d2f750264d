package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pingedge/pingedge/internal/hostileop"
)

// openPTY opens a pseudo-terminal pair: stderr of the command goes to the terminal side, so
// pingedge draws its QR code and live countdown exactly as for a person.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals on this machine: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// TestCountdownOnATerminalEscapesTheUserCode: the countdown redraws the issuer's user code every
// second on a real terminal; only pingedge's own "\r ESC[K" may reach it, never the issuer's.
func TestCountdownOnATerminalEscapesTheUserCode(t *testing.T) {
	h := newHostileCLI(t, hostileop.Config{UserCode: "AB" + hostileNames, PendingPolls: 2})
	master, tty := openPTY(t)
	got := make(chan string)
	go func() { b, _ := io.ReadAll(master); got <- string(b) }()
	var out strings.Builder
	if code := h.run(&out, tty, h.loginArgs()...); code != 0 {
		t.Fatalf("login exit %d", code)
	}
	tty.Close()
	master.SetReadDeadline(timeNowPlus(2))
	text := <-got
	if !strings.Contains(text, "Waiting for approval of code AB") {
		t.Fatalf("no countdown drawn on the terminal:\n%q", text)
	}
	text = strings.ReplaceAll(text, "\r\x1b[K", "") // pingedge's own line redraw
	text = strings.ReplaceAll(text, "\r\n", "\n")   // the terminal's newline translation
	if bad := controlLines(text); len(bad) > 0 {
		t.Fatalf("the terminal received raw control bytes:\n%q", bad)
	}
}

func timeNowPlus(sec int) time.Time { return time.Now().Add(time.Duration(sec) * time.Second) }
