// Package hostileop is a deliberately hostile OpenID provider for attack tests, and nothing else:
// no production code imports it. It speaks just enough OpenID Connect (discovery, JWKS, device
// flow, authorization code, refresh, revocation) for pingedge to sign in, and can be told to
// misbehave in the ways issue 16 lists: redirect any endpoint anywhere, hand out device-flow URLs
// that are not web pages, put terminal escape sequences in user codes and names, and ask for
// absurd polling intervals. The well-behaved flows are tested against internal/devop (zitadel op).
package hostileop

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ClientID is the only client the provider knows.
const ClientID = "pingedge-cli"

// Redirect makes an endpoint answer with Code and Location instead of doing its job.
type Redirect struct {
	Code     int
	Location string
}

// Config says how the provider misbehaves. The zero value is a plain, working provider.
type Config struct {
	TLS bool // serve https with httptest's certificate (Server.TLSConfig trusts it)

	UserCode                string // default WDJB-MJHT
	VerificationURI         string // default <issuer>/device
	VerificationURIComplete string // default none
	// Interval and ExpiresIn are sent verbatim as JSON numbers (so 1e12 and -5 are possible);
	// empty means 5 and 600.
	Interval, ExpiresIn string
	// PendingPolls is how many device-code polls answer authorization_pending before approval;
	// -1 never approves.
	PendingPolls int

	Subject, Username string              // ID token sub and preferred_username; default "alice"
	AccessClaims      map[string]any      // extra claims in the access token (a JWT)
	AccessToken       string              // replaces the access token JWT verbatim when set
	Redirects         map[string]Redirect // by endpoint: discovery, jwks, token, device, revocation, authorize
	// Endpoints overrides URLs in the discovery document, by its field name (token_endpoint, …).
	Endpoints map[string]string
}

// Server is a running hostile provider.
type Server struct {
	srv *httptest.Server
	cfg Config
	key *rsa.PrivateKey

	mu    sync.Mutex
	polls int
	hits  map[string]int
	codes map[string]string // authorization code -> nonce
}

// Start runs a provider on loopback until Close.
func Start(cfg Config) (*Server, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, key: key, hits: map[string]int{}, codes: map[string]string{}}
	mux := http.NewServeMux()
	for path, h := range map[string]http.HandlerFunc{
		"/.well-known/openid-configuration": s.discovery, "/jwks": s.jwks, "/token": s.token,
		"/device_authorization": s.device, "/revoke": s.revoke, "/authorize": s.authorize,
	} {
		mux.HandleFunc(path, h)
	}
	if cfg.TLS {
		s.srv = httptest.NewTLSServer(mux)
	} else {
		s.srv = httptest.NewServer(mux)
	}
	return s, nil
}

// Close stops the provider.
func (s *Server) Close() { s.srv.Close() }

// Issuer is the provider's issuer URL.
func (s *Server) Issuer() string { return s.srv.URL }

// Client is an http.Client that trusts the provider's certificate (for Config.TLS); callers copy
// its Transport's TLS settings into the client under test.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Hits says how often an endpoint was called.
func (s *Server) Hits(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[endpoint]
}

// SetRedirect makes endpoint redirect from now on (after a clean login, say).
func (s *Server) SetRedirect(endpoint string, rd Redirect) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Redirects == nil {
		s.cfg.Redirects = map[string]Redirect{}
	}
	s.cfg.Redirects[endpoint] = rd
}

// SetDeviceURIs replaces verification_uri and verification_uri_complete (which may need the
// provider's own URL, known only once it listens).
func (s *Server) SetDeviceURIs(uri, complete string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.VerificationURI, s.cfg.VerificationURIComplete = uri, complete
}

// SetEndpoint overrides one URL of the discovery document (token_endpoint, …).
func (s *Server) SetEndpoint(field, url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Endpoints == nil {
		s.cfg.Endpoints = map[string]string{}
	}
	s.cfg.Endpoints[field] = url
}

// redirected answers with the configured redirect for endpoint, if any.
func (s *Server) redirected(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	s.mu.Lock()
	s.hits[endpoint]++
	rd, ok := s.cfg.Redirects[endpoint]
	s.mu.Unlock()
	if !ok {
		return false
	}
	w.Header().Set("Location", rd.Location)
	w.WriteHeader(rd.Code)
	return true
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	if s.redirected(w, r, "discovery") {
		return
	}
	iss := s.Issuer()
	md := map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
		"device_authorization_endpoint": iss + "/device_authorization", "revocation_endpoint": iss + "/revoke",
		"jwks_uri": iss + "/jwks", "code_challenge_methods_supported": []string{"S256"},
		"id_token_signing_alg_values_supported":          []string{"RS256"},
		"authorization_response_iss_parameter_supported": true,
	}
	s.mu.Lock()
	for k, v := range s.cfg.Endpoints {
		md[k] = v
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, md)
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	if s.redirected(w, r, "jwks") {
		return
	}
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &s.key.PublicKey, KeyID: "hostile", Algorithm: "RS256", Use: "sig",
	}}})
}

func (s *Server) device(w http.ResponseWriter, r *http.Request) {
	if s.redirected(w, r, "device") {
		return
	}
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	uri := or(cfg.VerificationURI, s.Issuer()+"/device")
	body := fmt.Sprintf(`{"device_code":"dc-1","user_code":%s,"verification_uri":%s,"interval":%s,"expires_in":%s`,
		quote(or(cfg.UserCode, "WDJB-MJHT")), quote(uri), or(cfg.Interval, "5"), or(cfg.ExpiresIn, "600"))
	if cfg.VerificationURIComplete != "" {
		body += `,"verification_uri_complete":` + quote(cfg.VerificationURIComplete)
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, body+"}")
}

// authorize approves at once: back to the redirect URI with a code, the state and iss (RFC 9207).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if s.redirected(w, r, "authorize") {
		return
	}
	q := r.URL.Query()
	code := "code-" + rand.Text()
	s.mu.Lock()
	s.codes[code] = q.Get("nonce")
	s.mu.Unlock()
	back := q.Get("redirect_uri") + "?" + url.Values{"code": {code}, "state": {q.Get("state")}, "iss": {s.Issuer()}}.Encode()
	http.Redirect(w, r, back, http.StatusFound)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if s.redirected(w, r, "token") {
		return
	}
	_ = r.ParseForm()
	nonce := ""
	switch r.PostForm.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:device_code":
		s.mu.Lock()
		s.polls++
		pending := s.cfg.PendingPolls < 0 || s.polls <= s.cfg.PendingPolls
		s.mu.Unlock()
		if pending {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "authorization_pending"})
			return
		}
	case "authorization_code":
		s.mu.Lock()
		nonce = s.codes[r.PostForm.Get("code")]
		s.mu.Unlock()
	case "refresh_token":
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	s.issue(w, nonce)
}

func (s *Server) issue(w http.ResponseWriter, nonce string) {
	now := time.Now()
	sub, name := or(s.cfg.Subject, "alice"), or(s.cfg.Username, "alice")
	base := map[string]any{"iss": s.Issuer(), "sub": sub, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	id := map[string]any{"aud": ClientID, "preferred_username": name}
	if nonce != "" {
		id["nonce"] = nonce
	}
	access := map[string]any{"aud": "https://api.example.com", "scope": "openid profile", "name": name}
	for k, v := range s.cfg.AccessClaims {
		access[k] = v
	}
	at := s.sign(base, access)
	if s.cfg.AccessToken != "" {
		at = s.cfg.AccessToken
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": at, "token_type": "Bearer", "expires_in": 3600,
		"refresh_token": "rt-" + rand.Text(), "id_token": s.sign(base, id), "scope": "openid profile offline_access",
	})
}

func (s *Server) sign(claimSets ...map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "hostile"))
	if err != nil {
		panic(err) // RS256 with a fresh RSA key cannot fail
	}
	b := jwt.Signed(signer)
	for _, c := range claimSets {
		b = b.Claims(c)
	}
	tok, err := b.Serialize()
	if err != nil {
		panic(err)
	}
	return tok
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if s.redirected(w, r, "revocation") {
		return
	}
	w.WriteHeader(http.StatusOK)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
