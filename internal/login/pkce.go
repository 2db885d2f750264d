package login

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// pkceParams are the per-attempt random values of an authorization code flow.
type pkceParams struct {
	state, nonce, verifier string
}

func newPKCEParams() pkceParams {
	return pkceParams{state: randomString(), nonce: randomString(), verifier: randomString()}
}

// randomString returns 32 random bytes, base64url: 256 bits, and 43 characters from the
// unreserved set, which is also the shortest code_verifier RFC 7636 §4.1 allows.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// challenge is the S256 code_challenge (RFC 7636 §4.2); plain is never used.
func (p pkceParams) challenge() string {
	sum := sha256.Sum256([]byte(p.verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// callbackResult is what the loopback redirect delivered.
type callbackResult struct {
	code string
	err  error
}

// loopback listens on 127.0.0.1 only (RFC 8252 §7.3, §8.3: not on every interface, and an IP
// literal rather than "localhost", which could resolve elsewhere) on an ephemeral or pinned port.
func loopback(ctx context.Context, port int) (net.Listener, string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, "", fmt.Errorf("%w on 127.0.0.1:%d: %w", ErrRedirectPort, port, err)
	}
	return ln, fmt.Sprintf("http://127.0.0.1:%d/callback", ln.Addr().(*net.TCPAddr).Port), nil
}

// authURL builds the authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1,
// RFC 8707 §2 for resource).
func authURL(md *Metadata, clientID, redirect string, scopes []string, resource string, p pkceParams) (string, error) {
	u, err := url.Parse(md.AuthorizationEndpoint)
	if err != nil {
		return "", fmt.Errorf("authorization_endpoint: %w", err)
	}
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", clientID)
	q.Set("redirect_uri", redirect)
	q.Set("scope", joinScopes(scopes))
	q.Set("state", p.state)
	q.Set("nonce", p.nonce)
	q.Set("code_challenge", p.challenge())
	q.Set("code_challenge_method", "S256")
	if resource != "" {
		q.Set("resource", resource)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// callbackHandler receives the redirect. A request with a wrong state is answered and ignored
// (a stray or forged request must not end the login, RFC 6749 §10.12); the first request with the
// right state ends it, with a code or an error.
type callbackHandler struct {
	issuer    string
	issParam  bool // the issuer promised iss in every response (RFC 9207 §3)
	state     string
	once      sync.Once
	result    chan callbackResult
	pageTitle string
}

func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/callback" || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(h.state)) != 1 {
		writePage(w, http.StatusBadRequest, false, "This sign-in response does not belong to the running pingedge login. Close this tab and try again.")
		return
	}
	res := h.check(q)
	if res.err != nil {
		writePage(w, http.StatusBadRequest, false, "Sign-in failed. Return to the terminal for details.")
	} else {
		writePage(w, http.StatusOK, true, "You are signed in to pingedge. You can close this tab.")
	}
	h.once.Do(func() { h.result <- res })
}

// check validates a response whose state matched.
func (h *callbackHandler) check(q url.Values) callbackResult {
	// RFC 9207 §2.4: compare iss when present; reject its absence when the issuer promised it.
	if iss, ok := q["iss"]; ok {
		if len(iss) != 1 || iss[0] != h.issuer {
			return callbackResult{err: errors.New("the authorization response came from another issuer (RFC 9207 iss mismatch): a mix-up attack or a misconfigured profile")}
		}
	} else if h.issParam {
		return callbackResult{err: errors.New("the authorization response lacks the iss parameter the issuer promised (RFC 9207)")}
	}
	if e := q.Get("error"); e != "" {
		oe := &OAuthError{Endpoint: "authorization", Code: clean(e, 64), Description: clean(q.Get("error_description"), 200)}
		if e == "access_denied" {
			return callbackResult{err: fmt.Errorf("%w: %w", ErrAccessDenied, oe)}
		}
		return callbackResult{err: oe}
	}
	if q.Get("code") == "" {
		return callbackResult{err: errors.New("the authorization response carries no code")}
	}
	return callbackResult{code: q.Get("code")}
}

// serveCallback serves h on ln until a result arrives, ctx ends (Ctrl-C) or timeout passes.
func serveCallback(ctx context.Context, ln net.Listener, h *callbackHandler, timeout time.Duration) (string, error) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: discardLog()}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx) // lets the browser receive its page before the listener closes
		// Shutdown closes only listeners Serve has started tracking; when the login ends before
		// the Serve goroutine got that far (Ctrl-C at once), the port would stay open.
		_ = ln.Close()
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case res := <-h.result:
		return res.code, res.err
	case <-ctx.Done():
		return "", fmt.Errorf("login cancelled: %w", ctx.Err())
	case <-timer.C:
		return "", fmt.Errorf("%w after %s", ErrTimeout, timeout)
	}
}
