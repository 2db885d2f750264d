package devop

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// opLogs receives what zitadel/oidc logs through slog.Default, so tests
// can check it for secrets too.
var opLogs = &syncBuffer{}

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(opLogs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	os.Exit(m.Run())
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	t      testing.TB
	srv    *Server
	logs   *syncBuffer
	cb     *callbackServer
	oauth  *oauth2.Config
	client *http.Client
}

// start runs a provider for one test, logging into a buffer that
// checkNoSecretsLogged inspects.
func start(t testing.TB, cfg Config) *fixture {
	t.Helper()
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	cb := newCallbackServer(t)
	f := &fixture{t: t, srv: srv, logs: logs, cb: cb, client: &http.Client{Timeout: 10 * time.Second}}
	f.oauth = &oauth2.Config{
		ClientID: srv.ClientID(),
		Endpoint: oauth2.Endpoint{
			AuthURL:       srv.Issuer() + "/authorize",
			TokenURL:      srv.Issuer() + tokenPath,
			DeviceAuthURL: srv.Issuer() + deviceAuthPath,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		RedirectURL: cb.srv.URL + "/callback",
		Scopes:      []string{"openid", "profile", "offline_access"},
	}
	return f
}

func (f *fixture) ctx() context.Context {
	return context.WithValue(f.t.Context(), oauth2.HTTPClient, f.client)
}

// callbackServer stands in for the CLI's loopback redirect listener
// (RFC 8252 §7.3): it records the query the browser brings back.
type callbackServer struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []url.Values
}

func newCallbackServer(t testing.TB) *callbackServer {
	cb := &callbackServer{}
	cb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb.mu.Lock()
		cb.got = append(cb.got, r.URL.Query())
		cb.mu.Unlock()
		_, _ = io.WriteString(w, "signed in")
	}))
	t.Cleanup(cb.srv.Close)
	return cb
}

// browser is a scripted user agent: a cookie jar and redirects followed.
func browser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// authorize runs authorize → login → callback → loopback redirect and
// returns the query the loopback listener received.
func (f *fixture) authorize(opts ...oauth2.AuthCodeOption) url.Values {
	f.t.Helper()
	return f.authorizeURL(f.oauth.AuthCodeURL("state-123", opts...))
}

func (f *fixture) authorizeURL(u string) url.Values {
	f.t.Helper()
	resp, err := browser(f.t).Get(u)
	if err != nil {
		f.t.Fatalf("browser: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Port() != f.cb.srv.URL[strings.LastIndex(f.cb.srv.URL, ":")+1:] {
		f.t.Fatalf("browser ended at %s (status %d): %s", resp.Request.URL.Redacted(), resp.StatusCode, body)
	}
	return resp.Request.URL.Query()
}

// login runs the whole authorization code + PKCE flow with oauth2.
func (f *fixture) login() *oauth2.Token {
	f.t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := f.authorize(oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce-xyz"))
	if q.Get("code") == "" {
		f.t.Fatalf("no code in callback: %v", q)
	}
	tok, err := f.oauth.Exchange(f.ctx(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		f.t.Fatalf("exchange: %v", err)
	}
	return tok
}

// tokenResponse is a raw token endpoint answer.
type tokenResponse struct {
	Status       int
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Error        string `json:"error"`
}

func (f *fixture) postForm(path string, form url.Values) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(f.t.Context(), http.MethodPost, f.srv.Issuer()+path, strings.NewReader(form.Encode()))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func (f *fixture) token(form url.Values) tokenResponse {
	f.t.Helper()
	form.Set("client_id", f.srv.ClientID())
	resp, body := f.postForm(tokenPath, form)
	tr := tokenResponse{Status: resp.StatusCode}
	if err := json.Unmarshal(body, &tr); err != nil {
		f.t.Fatalf("token response %d not JSON: %s", resp.StatusCode, body)
	}
	return tr
}

func (f *fixture) refresh(rt string) tokenResponse {
	return f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// jwks fetches the provider's key set.
func (f *fixture) jwks() (jose.JSONWebKeySet, http.Header) {
	f.t.Helper()
	resp, err := f.client.Get(f.srv.JWKSURI())
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		f.t.Fatalf("jwks: %v", err)
	}
	return set, resp.Header
}

var allAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256}

// verifyJWT checks a JWT's signature against the provider's JWKS with
// go-jose, independently of zitadel, and returns header and claims.
func (f *fixture) verifyJWT(raw string) (jose.Header, map[string]any) {
	f.t.Helper()
	h, claims, err := verifyAgainst(raw, func() jose.JSONWebKeySet { s, _ := f.jwks(); return s }())
	if err != nil {
		f.t.Fatalf("verify JWT: %v", err)
	}
	return h, claims
}

func verifyAgainst(raw string, set jose.JSONWebKeySet) (jose.Header, map[string]any, error) {
	jws, err := jose.ParseSigned(raw, allAlgs)
	if err != nil {
		return jose.Header{}, nil, err
	}
	h := jws.Signatures[0].Header
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		return h, nil, errors.New("kid not in JWKS")
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		return h, nil, err
	}
	var claims map[string]any
	return h, claims, json.Unmarshal(payload, &claims)
}

// unverifiedClaims decodes a JWT payload without checking it.
func unverifiedClaims(t testing.TB, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// checkNoSecretsLogged fails when any secret appears in the provider's log.
func (f *fixture) checkNoSecretsLogged(secrets ...string) {
	f.t.Helper()
	logs := f.logs.String() + opLogs.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			f.t.Errorf("a secret (%d bytes) appears in the provider log", len(s))
		}
	}
}
