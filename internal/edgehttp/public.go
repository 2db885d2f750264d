package edgehttp

import (
	"fmt"
	"net/url"
	"strings"
)

// ParsePublicURL checks the URL clients address the API at ("https://api.example.com") and
// returns its origin, scheme and host in lower case with no trailing slash, the form
// Gate.PublicOrigin wants. Only a scheme and an authority are accepted: a path, query,
// fragment or user info would make every htu either wrong or ambiguous, and the request's
// own path is what a proof names (RFC 9449 §4.3 point 9).
func ParsePublicURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("public URL %q: %w", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("public URL %q: the scheme must be https (or http), e.g. https://api.example.com", s)
	case u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("public URL %q has no host: give the scheme and host clients call, e.g. https://api.example.com", s)
	case u.User != nil:
		return "", fmt.Errorf("public URL %q carries user info: give only the scheme and host", s)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		return "", fmt.Errorf("public URL %q has a path, query or fragment: give only the scheme and host (proofs name the request's own path)", s)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}
