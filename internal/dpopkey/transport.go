package dpopkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Transport adds a DPoP proof to every token-endpoint request (the code and device exchanges
// and every refresh, RFC 9449 §5) made through it, retries once with the authorization server's
// nonce when it answers use_dpop_nonce (§8), remembers the nonce the server supplies with each
// answer for the next request (§8.2: one round trip per refresh, not two, once a nonce is
// known), and turns a token answer whose token_type is not
// DPoP into an error: a client that asked for a bound token must not carry on with a bearer
// one without saying so. Login and the refresh source use it as their HTTP client's transport,
// so the OAuth code itself does not change.
type Transport struct {
	Base    http.RoundTripper
	Signer  *Signer
	IsToken func(*http.Request) bool // which requests go to the token endpoint
	Now     func() time.Time

	mu    sync.Mutex
	nonce string // the last DPoP-Nonce the token endpoint supplied (§8.2)
}

// ErrNotBound is returned for a token answer that is not DPoP-bound.
var ErrNotBound = errors.New("the authorization server answered with a token that is not DPoP-bound")

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || t.IsToken == nil || !t.IsToken(req) {
		return t.base().RoundTrip(req)
	}
	resp, err := t.send(req, t.lastNonce(), false)
	if err != nil {
		return nil, err
	}
	t.keepNonce(resp)
	if nonce := resp.Header.Get("DPoP-Nonce"); nonce != "" && resp.StatusCode == http.StatusBadRequest && req.GetBody != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		if oauthError(body) != "use_dpop_nonce" {
			resp.Body = io.NopCloser(bytes.NewReader(body))
			return resp, nil
		}
		if resp, err = t.send(req, nonce, true); err != nil {
			return nil, err
		}
		t.keepNonce(resp)
	}
	return checkBound(resp)
}

// keepNonce remembers the nonce an answer supplies, for the next token request. A nonce is
// opaque and only ever echoed back to the server that sent it, so remembering any is safe.
func (t *Transport) keepNonce(resp *http.Response) {
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		t.mu.Lock()
		t.nonce = n
		t.mu.Unlock()
	}
}

func (t *Transport) lastNonce() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nonce
}

// send signs and sends req. The first attempt sends req's own body (the base transport closes
// it, as the RoundTripper contract asks); only a retry (rewind) takes a fresh copy from GetBody.
func (t *Transport) send(req *http.Request, nonce string, rewind bool) (*http.Response, error) {
	out := req.Clone(req.Context())
	if rewind {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		out.Body = body
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	u := *req.URL
	u.RawQuery, u.Fragment = "", ""
	proof, err := t.Signer.Proof(http.MethodPost, u.String(), "", nonce, now())
	if err != nil {
		return nil, fmt.Errorf("dpop proof: %w", err)
	}
	out.Header.Set("DPoP", proof)
	return t.base().RoundTrip(out)
}

// checkBound reads a successful token answer and refuses it unless token_type is DPoP
// (RFC 9449 §5; compared case-insensitively, as token types are, RFC 6749 §5.1).
func checkBound(resp *http.Response) (*http.Response, error) {
	if resp.StatusCode != http.StatusOK {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var tr struct {
		TokenType string `json:"token_type"`
	}
	if json.Unmarshal(body, &tr) == nil && !strings.EqualFold(tr.TokenType, "DPoP") {
		return nil, fmt.Errorf("%w (token_type %q): enable DPoP for this client at the issuer, or sign in without DPoP", ErrNotBound, tr.TokenType)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

func oauthError(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error
}

func (t *Transport) base() http.RoundTripper {
	if t.Base == nil {
		return http.DefaultTransport
	}
	return t.Base
}
