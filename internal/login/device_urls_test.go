package login

import (
	"net/url"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/config"
)

// FuzzCheckOpenable: whatever the issuer sends, what pingedge accepts to open is an absolute
// https URL (or loopback http) that no opener can read as an option or split into arguments.
func FuzzCheckOpenable(f *testing.F) {
	for _, s := range []string{"https://idp.example.com/device", "--help", "smb://x/y", "http://localhost:1/d",
		"http://127.0.0.1.evil.example/", " -x", "https://a b/", "https://user@idp/", "javascript:alert(1)", "HTTPS://IDP/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if CheckOpenable(raw) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || strings.HasPrefix(raw, "-") || strings.ContainsAny(raw, " \t\r\n\x00\x7f") || u.Host == "" || u.User != nil {
			t.Fatalf("accepted %q", raw)
		}
		if !(u.Scheme == "https" || u.Scheme == "http" && config.IsLoopbackHost(u.Hostname())) {
			t.Fatalf("accepted scheme %q host %q", u.Scheme, u.Hostname())
		}
	})
}
