package verify

import (
	"encoding/json"
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
	Latency   time.Duration `json:"-"`
	Cached    bool          `json:"cached,omitempty"`
}

// WriteJSON writes the record as one line of JSON, latency in microseconds.
func (a AuditRecord) WriteJSON(w io.Writer) error {
	type plain AuditRecord
	b, err := json.Marshal(struct {
		plain
		LatencyUS float64 `json:"latency_us"`
	}{plain(a), float64(a.Latency.Nanoseconds()) / 1e3})
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
