package devop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// Paths served. The op's defaults are kept so discovery and these agree.
const (
	discoveryPath  = "/.well-known/openid-configuration"
	jwksPath       = "/keys"
	tokenPath      = "/oauth/token"
	revokePath     = "/revoke"
	deviceAuthPath = "/device_authorization"
	authorizePath  = "/authorize"
	callbackPath   = "/authorize/callback"
	loginPath      = "/login"
	devicePath     = "/device"
	loggedOutPath  = "/logged-out"
)

const grantTypeDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// maxFormBytes bounds token request bodies; real ones are well under 4 KiB.
const maxFormBytes = 64 << 10

// handler wraps the op's router: counting first (so outages are counted
// too), then the outage switch, injected device errors, and the small
// protocol additions the op does not make itself.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+loginPath, op.NewIssuerInterceptor(s.provider.IssuerFromRequest).HandlerFunc(s.login))
	mux.HandleFunc("GET "+devicePath, s.devicePage)
	mux.HandleFunc("GET "+loggedOutPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("signed out\n"))
	})
	mux.Handle("/", s.provider)
	return s.count(s.outage(publicClientOnly(s.injectDeviceErrors(withResources(s.withDPoP(s.decorate(mux)))))))
}

// publicClientOnly refuses a client secret at the endpoints a client
// authenticates to. The client is registered with auth method none; the op
// would silently ignore a secret, which hides client bugs a real issuer
// reports (RFC 6749 §2.3 one method per request, §5.2 invalid_client).
// An empty Basic password, as golang.org/x/oauth2 sends, is accepted.
func publicClientOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case tokenPath, revokePath, deviceAuthPath:
			_ = r.ParseForm()
			_, pass, basic := r.BasicAuth()
			if pass != "" || r.PostForm.Get("client_secret") != "" {
				if basic {
					w.Header().Set("WWW-Authenticate", `Basic realm="devop"`)
				}
				writeOAuthError(w, http.StatusUnauthorized, "invalid_client",
					"the client is public (token_endpoint_auth_method none): send no client secret")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) count(next http.Handler) http.Handler {
	c := &s.stats
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case discoveryPath:
			c.discoveryFetches.Add(1)
		case jwksPath:
			c.jwksFetches.Add(1)
		case deviceAuthPath:
			c.deviceAuthorizations.Add(1)
		case revokePath:
			c.revocations.Add(1)
		case tokenPath:
			c.tokenRequests.Add(1)
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			_ = r.ParseForm() // the op parses again; a bad form fails there
			switch r.PostForm.Get("grant_type") {
			case "authorization_code":
				c.authCodeExchanges.Add(1)
			case "refresh_token":
				c.refreshes.Add(1)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) outage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			w.Header().Set("Retry-After", "1")
			writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "devop: issuer is down (SetDown)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) injectDeviceErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == tokenPath && r.PostForm.Get("grant_type") == grantTypeDeviceCode {
			if code, ok := s.takeInjectedError(); ok {
				// RFC 8628 §3.5: these errors use the RFC 6749 §5.2 shape, status 400.
				writeOAuthError(w, http.StatusBadRequest, code, "injected by devop")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// decorate adds what the op leaves out: a short JWKS cache lifetime, and
// the RFC 9207 `iss` authorization response parameter with its discovery
// flag, which lets the CLI detect mix-up attacks.
func (s *Server) decorate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case jwksPath:
			w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(s.cfg.JWKSMaxAge.Seconds())))
		case discoveryPath:
			s.serveDiscovery(w, r, next)
			return
		case authorizePath, callbackPath:
			next.ServeHTTP(&issRedirectWriter{ResponseWriter: w, issuer: s.issuer}, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request, next http.Handler) {
	buf := &bufferWriter{header: http.Header{}, status: http.StatusOK}
	next.ServeHTTP(buf, r)
	buf.replay(w, buf.amendJSON(func(doc map[string]any) bool {
		doc["authorization_response_iss_parameter_supported"] = true
		doc["dpop_signing_alg_values_supported"] = []string{"ES256", "ES384", "RS256", "PS256", "EdDSA"} // RFC 9449 §5.1
		return true
	}))
}

// bufferWriter collects a response so it can be amended.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header         { return b.header }
func (b *bufferWriter) WriteHeader(code int)        { b.status = code }
func (b *bufferWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

// amendJSON returns the collected body with amend applied to its JSON object, re-encoded, when
// the answer is a 200 whose body is an object and amend reports a change; otherwise the body
// as the op wrote it.
func (b *bufferWriter) amendJSON(amend func(doc map[string]any) bool) []byte {
	body := b.body.Bytes()
	var doc map[string]any
	if b.status != http.StatusOK || json.Unmarshal(body, &doc) != nil || !amend(doc) {
		return body
	}
	if out, err := json.Marshal(doc); err == nil {
		return out
	}
	return body
}

// replay sends the collected answer on with body in place of the op's (its length may differ).
func (b *bufferWriter) replay(w http.ResponseWriter, body []byte) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(b.status)
	_, _ = w.Write(body)
}

// issRedirectWriter appends iss to the redirect back to the client
// (RFC 9207 §2), on success and error responses alike.
type issRedirectWriter struct {
	http.ResponseWriter
	issuer string
}

func (w *issRedirectWriter) WriteHeader(code int) {
	if code >= 300 && code < 400 {
		if u, err := url.Parse(w.Header().Get("Location")); err == nil && u.Fragment == "" {
			q := u.Query()
			if q.Get("iss") == "" && (q.Has("code") || q.Has("error")) {
				q.Set("iss", w.issuer)
				u.RawQuery = q.Encode()
				w.Header().Set("Location", u.String())
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// login is the auto-login page: it signs in the current login user at once
// and returns the browser to the op's callback, so a scripted browser can
// run the whole authorization code flow.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if err := s.store.completeLogin(id); err != nil {
		http.Error(w, "devop login: "+err.Error()+": start again from the authorize endpoint", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(s.provider)(r.Context(), id), http.StatusFound)
}

var devicePageTmpl = template.Must(template.New("device").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>devop device sign-in</title></head><body>
{{if .Message}}<p id="result">{{.Message}}</p>{{else}}
<form method="get" action="device"><label>Code <input name="user_code" autofocus></label>
<button type="submit">Approve</button></form>{{end}}
</body></html>`))

// devicePage is the RFC 8628 verification page. Opening
// verification_uri_complete approves the grant for the login user.
func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	code := r.URL.Query().Get("user_code")
	data := struct{ Message string }{}
	status := http.StatusOK
	if code != "" {
		subject, err := s.store.approveDeviceForLoginUser(code)
		if err != nil {
			status, data.Message = http.StatusBadRequest, "Not approved: "+err.Error()
		} else {
			data.Message = fmt.Sprintf("Device approved for %s. You can close this window.", subject)
		}
	}
	w.WriteHeader(status)
	_ = devicePageTmpl.Execute(w, data)
}
