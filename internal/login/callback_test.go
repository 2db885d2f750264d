package login

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testIssuer = "https://issuer.example"

func newHandler(issParam bool) *callbackHandler {
	return &callbackHandler{issuer: testIssuer, issParam: issParam, state: "good-state", result: make(chan callbackResult, 1)}
}

// TestCallbackAttacks is the attack table of the loopback redirect.
func TestCallbackAttacks(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		issParam bool
		status   int
		ends     bool   // the request ends the login
		wantErr  string // substring; "" means a code is delivered
	}{
		{"good", "state=good-state&code=c0de&iss=" + url.QueryEscape(testIssuer), true, 200, true, ""},
		{"good without iss when not promised", "state=good-state&code=c0de", false, 200, true, ""},
		{"forged state is ignored", "state=evil&code=attacker", false, 400, false, ""},
		{"missing state is ignored", "code=attacker", false, 400, false, ""},
		{"duplicate state parameter", "state=evil&state=good-state&code=c", false, 400, false, ""},
		{"mix-up: other issuer", "state=good-state&code=c&iss=https%3A%2F%2Fevil.example", false, 400, true, "mix-up"},
		{"iss promised but absent", "state=good-state&code=c", true, 400, true, "lacks the iss"},
		{"two iss values", "state=good-state&code=c&iss=" + url.QueryEscape(testIssuer) + "&iss=x", false, 400, true, "mix-up"},
		{"user denied", "state=good-state&error=access_denied&error_description=no", false, 400, true, "denied"},
		{"other error", "state=good-state&error=invalid_scope", false, 400, true, "invalid_scope"},
		{"no code", "state=good-state", false, 400, true, "no code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(tt.issParam)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/callback?"+tt.query, nil))
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if strings.Contains(rec.Body.String(), "attacker") || strings.Contains(rec.Body.String(), "c0de") {
				t.Error("the page echoes a request parameter")
			}
			select {
			case res := <-h.result:
				if !tt.ends {
					t.Fatalf("a bad request ended the login: %+v", res)
				}
				if tt.wantErr == "" && (res.err != nil || res.code != "c0de") {
					t.Errorf("result = %+v, want code c0de", res)
				}
				if tt.wantErr != "" && (res.err == nil || !strings.Contains(res.err.Error(), tt.wantErr)) {
					t.Errorf("err = %v, want %q", res.err, tt.wantErr)
				}
			default:
				if tt.ends {
					t.Fatal("the login did not end")
				}
			}
		})
	}
}

func TestCallbackOtherPathsAndMethods(t *testing.T) {
	h := newHandler(false)
	for _, r := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/", nil),
		httptest.NewRequest(http.MethodPost, "/callback?state=good-state&code=c", nil),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s %s = %d, want 404", r.Method, r.URL.Path, rec.Code)
		}
	}
}

func TestLoopbackListensOn127Only(t *testing.T) {
	ln, redirect, err := loopback(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr)
	if !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) || addr.Port == 0 {
		t.Errorf("listening on %v, want 127.0.0.1 and an ephemeral port", addr)
	}
	if !strings.HasPrefix(redirect, "http://127.0.0.1:") || !strings.HasSuffix(redirect, "/callback") {
		t.Errorf("redirect = %q", redirect)
	}
	// A pinned port that is taken fails with ErrRedirectPort, which the CLI turns into the
	// "pick another --port" hint (internal/cli/login_errors.go).
	if _, _, err := loopback(t.Context(), addr.Port); !errors.Is(err, ErrRedirectPort) {
		t.Errorf("taken port: err = %v", err)
	}
}

func TestServeCallbackEnds(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		ln, _, _ := loopback(t.Context(), 0)
		_, err := serveCallback(t.Context(), ln, newHandler(false), 50*time.Millisecond)
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ctrl-c", func(t *testing.T) {
		ln, _, _ := loopback(t.Context(), 0)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := serveCallback(ctx, ln, newHandler(false), time.Minute)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
			t.Error("the listener is still open after cancel")
		}
	})
	t.Run("page served", func(t *testing.T) {
		ln, redirect, _ := loopback(t.Context(), 0)
		h := newHandler(false)
		go func() {
			resp, err := http.Get(redirect + "?state=good-state&code=c0de")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.Contains(string(b), "You are signed in") {
					t.Errorf("page = %s", b)
				}
			}
		}()
		code, err := serveCallback(t.Context(), ln, h, 10*time.Second)
		if err != nil || code != "c0de" {
			t.Fatalf("code, err = %q, %v", code, err)
		}
	})
}

func TestPKCEParams(t *testing.T) {
	a, b := newPKCEParams(), newPKCEParams()
	if a.state == b.state || a.nonce == b.nonce || a.verifier == b.verifier || a.state == a.nonce {
		t.Fatal("random values repeat")
	}
	if len(a.verifier) < 43 || len(a.verifier) > 128 {
		t.Errorf("verifier length %d outside RFC 7636 §4.1", len(a.verifier))
	}
	// RFC 7636 Appendix B test vector.
	p := pkceParams{verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}
	if got := p.challenge(); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("S256 challenge = %s", got)
	}
}

// FuzzCallback: no input panics, and only a request with the right state, an acceptable iss and a
// code ever yields a code.
func FuzzCallback(f *testing.F) {
	f.Add("state=good-state&code=x")
	f.Add("state=good-state&code=x&iss=https%3A%2F%2Fissuer.example")
	f.Add("state=good-state&error=access_denied")
	f.Add("state=%ZZ&code=x")
	f.Add("state=good-state&state=good-state&code=x&code=y")
	f.Fuzz(func(t *testing.T, query string) {
		h := newHandler(false)
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/callback", nil)
		r.URL.RawQuery = query
		h.ServeHTTP(rec, r)
		select {
		case res := <-h.result:
			q := r.URL.Query()
			if res.err == nil && (q.Get("state") != "good-state" || res.code == "" || q.Get("error") != "") {
				t.Fatalf("accepted %q", query)
			}
			if iss, ok := q["iss"]; ok && res.err == nil && (len(iss) != 1 || iss[0] != testIssuer) {
				t.Fatalf("accepted a foreign iss: %q", query)
			}
		default:
		}
	})
}
