package cli

import (
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/ui"
)

// deviceCodeDisplay draws, on a terminal only, a QR code of verification_uri_complete (for
// signing in from a phone) when it fits the terminal, and a live countdown until the code
// expires. Piped stderr gets the plain lines the login already wrote, nothing more.
func (f *Factory) deviceCodeDisplay() func(login.DeviceCode) func() {
	if !ui.IsTerminal(f.IO.ErrOut) {
		return nil
	}
	return func(dc login.DeviceCode) func() {
		s := f.ErrStyles()
		if dc.VerificationURIComplete != "" {
			if art, ok := ui.QR(dc.VerificationURIComplete, terminalWidth(f.IO.ErrOut)); ok {
				fmt.Fprintf(f.IO.ErrOut, "\nOr scan with a phone:\n%s\n", art)
			}
		}
		if dc.ExpiresAt.IsZero() {
			return func() {}
		}
		// The user code comes from the issuer and is redrawn every second: escape it once here.
		return ui.Countdown(f.IO.ErrOut, "Waiting for approval of code "+s.Code.Render(ui.Sanitize(dc.UserCode)), dc.ExpiresAt, f.Now, s)
	}
}

func terminalWidth(w any) int {
	if file, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(file.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return 80
}
