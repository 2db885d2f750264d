package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/pingedge/pingedge/internal/ui"
)

// slowAfter is how long a request may take before pingedge says what it is waiting for.
const slowAfter = time.Second

// progressTransport makes slow network steps visible (issue 12 item 10): a request that takes
// longer than slowAfter shows what is awaited from which host on stderr (a spinner on a
// terminal, one plain line otherwise), and a timeout names the host that did not answer. It
// wraps the HTTP client every command gets, so login, doctor, token and the rest need no code
// of their own. It never logs a URL's query, a header or a body.
type progressTransport struct {
	base  http.RoundTripper
	out   io.Writer
	tty   bool
	after time.Duration
}

// SlowHostError: a request to Host failed after the progress line was shown (a timeout, or
// anything else that took that long), so the error names the host that kept pingedge waiting.
// It keeps the cause for errors.Is.
type SlowHostError struct {
	Host  string
	After time.Duration
	Err   error
}

func (e *SlowHostError) Error() string {
	return fmt.Sprintf("waited %s for %s: %v", e.After, e.Host, e.Err)
}

func (e *SlowHostError) Unwrap() error { return e.Err }

func (p *progressTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	done := ui.Progress(p.out, p.tty, "waiting for "+r.URL.Host+" ("+r.Method+" "+r.URL.Path+")", p.after)
	start := time.Now()
	resp, err := p.base.RoundTrip(r)
	done()
	// http.Client's own Timeout reaches the transport as a plain cancellation, so "slow" is
	// judged by the clock, not by the error's type.
	if elapsed := time.Since(start); err != nil && (elapsed >= p.after || isTimeout(err)) {
		err = &SlowHostError{Host: r.URL.Host, After: elapsed.Round(time.Second), Err: err}
	}
	return resp, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// withProgress wraps hc's transport with progressTransport, writing to errOut.
func withProgress(hc *http.Client, errOut io.Writer, after time.Duration) *http.Client {
	c := *hc
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &progressTransport{base: base, out: errOut, tty: ui.IsTerminal(errOut), after: after}
	return &c
}
