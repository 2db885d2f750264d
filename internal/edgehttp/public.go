package edgehttp

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
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
	if err := checkPublicHost(u); err != nil {
		return "", fmt.Errorf("public URL %q: %w", s, err)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// checkPublicHost refuses an authority no client's proof could name: an IPv6 zone (it names a
// link on one machine, and url.Parse unescapes its %25, so the htu built from it would not even
// parse), or a port that is not the decimal a client writes (htu ports are compared as written,
// RFC 9449 §4.3 point 9 with RFC 3986 §6.2.3, so :0443 would refuse every honest proof).
func checkPublicHost(u *url.URL) error {
	if strings.Contains(u.Host, "%") {
		return errors.New("an IPv6 zone names a link on this machine, not the host clients call")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || p[0] == '0' {
			return fmt.Errorf("port %q is not a port clients call (1-65535, no leading zero)", p)
		}
	}
	return nil
}
