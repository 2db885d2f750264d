package login

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/pingedge/pingedge/internal/config"
)

// checkVerificationURIs refuses a verification_uri that is not a web page pingedge may show and
// open (RFC 8628 §3.2 says it is a URI the user visits; smb://, file:// or an argument such as
// --help handed to xdg-open is an attack), and drops an unusable verification_uri_complete.
func (l *loginRun) checkVerificationURIs(da *deviceAuth) error {
	if err := CheckOpenable(da.VerificationURI); err != nil {
		return fmt.Errorf("the issuer's verification_uri %w: pingedge neither shows nor opens it; ask the issuer's administrator", err)
	}
	if da.VerificationURIComplete == "" {
		return nil
	}
	if err := CheckOpenable(da.VerificationURIComplete); err != nil {
		fmt.Fprintf(l.env.Prompt, "warning: ignoring the issuer's verification_uri_complete: it %v\n", err)
		da.VerificationURIComplete = ""
	} else if !sameHost(da.VerificationURI, da.VerificationURIComplete) {
		fmt.Fprintln(l.env.Prompt, "warning: ignoring the issuer's verification_uri_complete: it is on another host than verification_uri")
		da.VerificationURIComplete = ""
	}
	return nil
}

// CheckOpenable accepts only what a browser opener may be given: an absolute https URL, or http
// on this machine, that cannot be read as a command-line option. The error reads after "it".
func CheckOpenable(raw string) error {
	shown := fmt.Sprintf("%q", clean(raw, 200))
	if strings.HasPrefix(strings.TrimSpace(raw), "-") {
		return fmt.Errorf("%s starts with '-' (it would be read as an option)", shown)
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("%s holds spaces or control characters", shown)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("%s is not an absolute web URL", shown)
	}
	if u.Scheme == "https" || u.Scheme == "http" && config.IsLoopbackHost(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%s is not an https URL", shown)
}

// foreignHost reports the page's host and whether it is the issuer's host (a phishing page on
// another host would collect the user code for the attacker's device, RFC 8628 §5.4).
func foreignHost(issuer, page string) (string, bool) {
	h := hostOf(page)
	return h, strings.EqualFold(h, hostOf(issuer))
}

func sameHost(a, b string) bool { return strings.EqualFold(hostOf(a), hostOf(b)) }

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
}
