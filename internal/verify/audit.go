package verify

import (
	"io"
	"time"
)

// AuditRecord is one decision, written as one JSON line. It never holds the token.
type AuditRecord struct {
	Time      time.Time     `json:"time"`
	RequestID string        `json:"request_id,omitempty"`
	Subject   string        `json:"sub,omitempty"`
	ClientID  string        `json:"client_id,omitempty"`
	Issuer    string        `json:"iss,omitempty"`
	Method    string        `json:"method"`
	Path      string        `json:"path"`
	Decision  string        `json:"decision"` // allow or deny
	Status    int           `json:"status"`
	Rule      string        `json:"rule,omitempty"`
	Reason    string        `json:"reason"`
	DPoP      string        `json:"dpop,omitempty"` // bound, bearer or dpop-scheme-unbound; "" when dpop is off
	Latency   time.Duration `json:"-"`
	Cached    bool          `json:"cached,omitempty"`
}

// WriteJSON writes the record as one line of JSON, latency in microseconds.
func (a AuditRecord) WriteJSON(w io.Writer) error {
	_, err := w.Write(append(a.AppendJSON(make([]byte, 0, 384)), '\n'))
	return err
}
