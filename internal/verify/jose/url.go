package jose

import (
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ErrURL marks an issuer, jwks_uri or discovered endpoint that breaks the URL rule below.
var ErrURL = errors.New("URL refused")

// CheckURL is the one rule for the URLs tokens and keys come from (an issuer, a jwks_uri and
// every endpoint an issuer's discovery document names), held alike by login, doctor, the policy
// and the edge: an absolute https URL, or http only on a loopback host, because a key set or a
// token fetched in clear text off the machine can be swapped by anyone on the path (RFC 8414
// §2 and OpenID Connect Discovery 1.0 §3 require https; RFC 8252 §8.3 allows loopback).
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Scheme == "" {
		return urlError(quoteURL(raw) + " is not an absolute URL: write https://host/…")
	}
	if u.Scheme == "https" || u.Scheme == "http" && IsLoopbackHost(u.Hostname()) {
		return nil
	}
	return urlError(quoteURL(raw) + " must use https (plain http is accepted only on a loopback host: localhost, *.localhost, 127.0.0.0/8, [::1])")
}

// CheckIssuerURL is CheckURL plus what an issuer identifier may not have: a query or a fragment
// (OpenID Connect Discovery 1.0 §3, RFC 8414 §2), since the issuer is compared byte for byte.
func CheckIssuerURL(raw string) error {
	if err := CheckURL(raw); err != nil {
		return err
	}
	if u, _ := url.Parse(raw); u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		return urlError(quoteURL(raw) + " must not have a query or fragment")
	}
	return nil
}

// urlError is a refusal by the URL rule: its text says what to write instead, and it matches
// ErrURL without printing the sentinel's words in front.
type urlError string

func (e urlError) Error() string        { return string(e) }
func (e urlError) Is(target error) bool { return target == ErrURL }

// IsLoopbackHost reports whether host names the local machine: "localhost" (and names under
// .localhost, RFC 6761 §6.3: internal/httpclient dials them at loopback without DNS) or a
// loopback IP literal (127.0.0.0/8, ::1). Names that merely start with "127." such as
// 127.evil.example are not loopback.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

// quoteURL quotes a URL for an error message: control characters escaped (it may come from an
// issuer's document) and bounded, but long enough that a real issuer URL is shown whole.
func quoteURL(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strconv.Quote(s)
}

// QuoteURL is quoteURL for the other packages that name a URL in an error (discovery).
func QuoteURL(s string) string { return quoteURL(s) }
