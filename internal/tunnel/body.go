package tunnel

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// idleBody bounds how long a forwarded request body may stall. http.Server's ReadTimeout would
// bound the whole request instead, cutting a large upload that is merely slow; this deadline moves
// forward with every read, so only a client that stops sending is cut off. Once the body is
// complete the deadline is cleared: net/http then watches the connection in the background for
// the client going away, and a deadline left behind would cancel a long-running upstream call.
type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	st   *reqState
}

func (b *idleBody) Read(p []byte) (int, error) {
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.st.bodyStalled.Store(true)
	default:
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
