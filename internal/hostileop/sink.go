package hostileop

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Sink is the "other host" a hostile redirect points at: it records every request it receives
// (method, path and body, where a stolen refresh token or code_verifier would show up) and
// answers like a token endpoint would, with a token of its own (session fixation).
type Sink struct {
	srv *httptest.Server

	mu   sync.Mutex
	seen []string
}

// StartSink runs a sink on loopback over plain http.
func StartSink() *Sink {
	k := &Sink{}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		k.mu.Lock()
		k.seen = append(k.seen, r.Method+" "+r.URL.RequestURI()+" "+string(body))
		k.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": "attacker-access", "token_type": "Bearer", "refresh_token": "attacker-refresh", "expires_in": 3600,
		})
	}))
	return k
}

// URL is the sink's base URL (http://127.0.0.1:port).
func (k *Sink) URL() string { return k.srv.URL }

// Close stops the sink.
func (k *Sink) Close() { k.srv.Close() }

// Requests returns what the sink received, one "METHOD /path body" line per request.
func (k *Sink) Requests() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.seen...)
}
