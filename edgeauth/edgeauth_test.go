package edgeauth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/edgeauth"
	"github.com/pingedge/pingedge/internal/edgecases"
)

// echo answers with what it received, as edgecases.EchoOrigin does, plus the claims the
// middleware put in the context.
func echo(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := edgeauth.ClaimsFromContext(r.Context())
		if h := r.Header.Get("X-Auth-User"); h != "" && (!ok || c.Subject != h) {
			t.Errorf("context claims %v (%v) disagree with X-Auth-User %q", c, ok, h)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", "1")
		_ = json.NewEncoder(w).Encode(edgecases.Seen{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, Header: r.Header})
	})
}

// TestRequestTableThroughMiddleware: the shared request table, through the middleware in an
// httptest server, must get the gateway's answers (status, challenge, stripped and forwarded
// headers, normalised path), and every decision is one audit record on the caller's logger.
func TestRequestTableThroughMiddleware(t *testing.T) {
	op := edgecases.StartOP(t)
	tk := edgecases.Mint(t, op)
	var logs bytes.Buffer
	m, err := edgeauth.New(edgeauth.Config{Policy: fmt.Appendf(nil, edgecases.Policy, op.Issuer()),
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler(echo(t)))
	t.Cleanup(srv.Close)
	edgecases.Run(t, srv.URL, tk)
	n := strings.Count(logs.String(), `"msg":"decision"`)
	if n != len(edgecases.Cases()) {
		t.Errorf("%d audit records for %d requests", n, len(edgecases.Cases()))
	}
	if strings.Contains(logs.String(), tk.Alice) {
		t.Error("a token reached the log")
	}
	if f := op.Stats().JWKSFetches; f != 1 {
		t.Errorf("JWKS fetched %d times, want once", f)
	}
}

func TestNewRejectsBadPolicy(t *testing.T) {
	for _, p := range []string{"", "issuer: [", "audience: x\n"} {
		if _, err := edgeauth.New(edgeauth.Config{Policy: []byte(p)}); err == nil {
			t.Errorf("policy %q accepted", p)
		}
	}
}
