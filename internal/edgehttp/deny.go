package edgehttp

import (
	"net/http"
	"time"

	"github.com/pingedge/pingedge/internal/verify"
)

// Deny answers a refused request. The body says only the status: the reason is in the audit
// record, not for the client. no-store because the answer depends on the credentials.
func Deny(w http.ResponseWriter, r *http.Request, d *verify.Decision) {
	h := w.Header()
	if d.WWWAuthenticate != "" {
		h.Set("WWW-Authenticate", d.WWWAuthenticate)
	}
	if d.DPoPNonce != "" { // the nonce a use_dpop_nonce refusal asks the client to retry with (RFC 9449 §8)
		h.Set("DPoP-Nonce", d.DPoPNonce)
	}
	h.Set("Cache-Control", "no-store")
	CloseUnread(w, r, func() { Plain(w, d.Status, http.StatusText(d.Status)) })
}

// CloseUnread writes an answer that does not need the request's body, and when the client
// declared one, closes the connection right after it instead of reading the body. net/http
// otherwise reads up to 256 KiB of an unread body before it writes the answer, and again when
// the handler returns, so a client that declares Content-Length: 1000 and sends nothing would
// hold the connection and get no answer (issue 10, finding 3). Connection: close skips the
// first read (RFC 9112 §9.6); a read deadline in the past ends the second at once.
func CloseUnread(w http.ResponseWriter, r *http.Request, answer func()) {
	if r.ContentLength == 0 && len(r.TransferEncoding) == 0 {
		answer()
		return
	}
	w.Header().Set("Connection", "close")
	answer()
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	_ = rc.SetReadDeadline(time.Now())
}

// Plain answers status with a one-line text body.
func Plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
