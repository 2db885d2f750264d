package httpclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// maxRedirects is Go's own limit, kept for the redirects that are allowed.
const maxRedirects = 10

// RedirectError is a redirect pingedge refused. It names where the request went and where it
// was sent, never the request's body or query.
type RedirectError struct {
	Status int    // the 3xx code
	From   string // scheme://host/path of the request that was redirected
	To     string // scheme://host of the Location
	Secret bool   // the request carried a secret
}

func (e *RedirectError) Error() string {
	if e.Secret {
		return fmt.Sprintf("%s redirected (HTTP %d) to %s: pingedge never follows a redirect with a request that carries a code or token; check the issuer's endpoints (its discovery document) or ask its administrator", e.From, e.Status, e.To)
	}
	return fmt.Sprintf("%s redirected (HTTP %d) to %s: pingedge follows redirects only to https (or plain http on this machine from this machine); use the final https URL", e.From, e.Status, e.To)
}

type secretKey struct{}

// WithSecret marks requests made with ctx as carrying a secret even when their method and
// headers do not show it (for example a GET with a token in the URL).
func WithSecret(ctx context.Context) context.Context {
	return context.WithValue(ctx, secretKey{}, true)
}

// CarriesSecret reports whether r must never be redirected: anything but GET and HEAD (token,
// revocation and device requests are form POSTs holding codes, verifiers, refresh tokens and
// client credentials), a request with an Authorization or DPoP header, or one marked WithSecret.
func CarriesSecret(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return true
	}
	if r.Header.Get("Authorization") != "" || r.Header.Get("DPoP") != "" {
		return true
	}
	v, _ := r.Context().Value(secretKey{}).(bool)
	return v
}

// CheckRedirect is the policy as an http.Client.CheckRedirect: via[0] is the request the caller
// made, req the one a redirect asks for.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	status := 0
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	e := &RedirectError{Status: status, From: origin(first.URL) + first.URL.EscapedPath(), To: origin(req.URL)}
	switch {
	case CarriesSecret(first):
		e.Secret = true
		return e
	case len(via) >= maxRedirects:
		return fmt.Errorf("%s: stopped after %d redirects", e.From, maxRedirects)
	case !allowedTarget(first.URL, req.URL):
		return e
	}
	return nil
}

// allowedTarget: https anywhere, or plain http to this machine when the request started on this
// machine over plain http (a test issuer on 127.0.0.1). An https request is never downgraded.
func allowedTarget(from, to *url.URL) bool {
	switch to.Scheme {
	case "https":
		return true
	case "http":
		return from.Scheme == "http" && IsLoopbackHost(from.Hostname()) && IsLoopbackHost(to.Hostname())
	}
	return false
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// IsRedirect reports whether err is a refused redirect.
func IsRedirect(err error) bool {
	var re *RedirectError
	return errors.As(err, &re)
}
