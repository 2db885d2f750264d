package dpopkey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func testSigner(t *testing.T) *Signer { return testSignerB(t) }

func testSignerB(t testing.TB) *Signer {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tokenServer is a deliberately minimal token endpoint: it demands a nonce on the first request
// when nonce is set, and answers token_type typ.
func tokenServer(t *testing.T, typ string, nonce bool) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_ = r.ParseForm()
		proof := r.Header.Get("DPoP")
		parts := strings.Split(proof, ".")
		if len(parts) != 3 || r.PostForm.Get("grant_type") != "refresh_token" {
			http.Error(w, `{"error":"invalid_request"}`, 400)
			return
		}
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c map[string]any
		_ = json.Unmarshal(payload, &c)
		if nonce && c["nonce"] != "n-1" {
			w.Header().Set("DPoP-Nonce", "n-1")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error":"use_dpop_nonce"}`)
			return
		}
		_, _ = io.WriteString(w, `{"access_token":"at","token_type":"`+typ+`","expires_in":60}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func post(t *testing.T, tr *Transport, u string) (*http.Response, error) {
	req, _ := http.NewRequest("POST", u, strings.NewReader("grant_type=refresh_token&refresh_token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return (&http.Client{Transport: tr}).Do(req)
}

// TestTransportRefusesBearerAnswer: a proof was sent, a bearer token came back: an error that
// says so, not a silently unbound session.
func TestTransportRefusesBearerAnswer(t *testing.T) {
	srv, _ := tokenServer(t, "Bearer", false)
	_, err := post(t, &Transport{Signer: testSigner(t), IsToken: func(*http.Request) bool { return true }}, srv.URL+"/token")
	if !errors.Is(err, ErrNotBound) || !strings.Contains(err.Error(), "Bearer") {
		t.Fatalf("err %v, want ErrNotBound naming the type", err)
	}
}

// TestTransportNonceRetry: use_dpop_nonce with a DPoP-Nonce is retried once with the nonce in a
// new proof, with the same form body (RFC 9449 §8).
func TestTransportNonceRetry(t *testing.T) {
	srv, calls := tokenServer(t, "DPoP", true)
	resp, err := post(t, &Transport{Signer: testSigner(t), IsToken: func(*http.Request) bool { return true }}, srv.URL+"/token")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || calls.Load() != 2 || !strings.Contains(string(body), `"DPoP"`) {
		t.Fatalf("%d after %d calls: %s", resp.StatusCode, calls.Load(), body)
	}
}

// TestKeyRoundTrip: a stored key parses back to the same thumbprint; other keys are refused.
func TestKeyRoundTrip(t *testing.T) {
	k, _ := Generate()
	s, _ := Marshal(k)
	back, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := NewSigner(k)
	b, _ := NewSigner(back)
	if a.JKT() != b.JKT() {
		t.Fatal("the key changed in the store")
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	s384, _ := Marshal(p384)
	if _, err := Parse(s384); err == nil {
		t.Fatal("a P-384 key was accepted")
	}
}

// TestIsTokenRequest: proofs go to token requests only.
func TestIsTokenRequest(t *testing.T) {
	for body, want := range map[string]bool{"grant_type=refresh_token&refresh_token=x": true,
		"client_id=c&grant_type=authorization_code": true, "client_id=c&scope=openid": false, "token=x&token_type_hint=refresh_token": false} {
		req, _ := http.NewRequest("POST", "https://as/x", strings.NewReader(body))
		if got := IsTokenRequest(req); got != want {
			t.Errorf("%q: %v", body, got)
		}
	}
}

// closeRecorder is a request body that says whether it was closed.
type closeRecorder struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeRecorder) Close() error { c.closed.Store(true); return nil }

// TestEveryRequestBodyIsClosed: the RoundTripper contract (net/http) says RoundTrip closes the
// request body. A request sent with a remembered nonce, and one retried after use_dpop_nonce,
// must close the body the caller gave, not only the copy GetBody made.
func TestEveryRequestBodyIsClosed(t *testing.T) {
	srv, _ := tokenServer(t, "DPoP", true)
	tr := &Transport{Signer: testSigner(t), IsToken: func(*http.Request) bool { return true }}
	for i, what := range []string{"first request: use_dpop_nonce, then the retry", "second request: the remembered nonce"} {
		const form = "grant_type=refresh_token&refresh_token=x"
		body := &closeRecorder{Reader: strings.NewReader(form)}
		req, _ := http.NewRequest("POST", srv.URL, body)
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(form)), nil }
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := tr.RoundTrip(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %s: %v %v", i, what, resp, err)
		}
		resp.Body.Close()
		if !body.closed.Load() {
			t.Errorf("%s: the caller's request body was never closed", what)
		}
	}
}
