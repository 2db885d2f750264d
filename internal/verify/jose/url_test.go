package jose

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// FuzzCheckURL: whatever the input, an accepted URL is absolute and either https or http to a
// host that is this machine; an accepted issuer is also an accepted URL; refusals match ErrURL.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://idp.example.com", "http://127.0.0.1:9000", "http://localhost.", "http://a.localhost",
		"http://[::1]", "http://127.evil.example", "http://[::ffff:127.0.0.1]", "http://[fe80::1%25lo]",
		"HTTP://LOCALHOST", "http://localhost@evil.example", "http://evil.example#@localhost", "//x",
		"https://x?a=1", "https://x#f", "http://0x7f.1", "http://2130706433",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := CheckURL(raw)
		if err != nil {
			if !errors.Is(err, ErrURL) {
				t.Fatalf("refusal %v does not match ErrURL", err)
			}
			if CheckIssuerURL(raw) == nil {
				t.Fatalf("%q: issuer accepted, URL refused", raw)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || u.Host == "" {
			t.Fatalf("%q accepted but not absolute", raw)
		}
		if u.Scheme == "https" {
			return
		}
		h := strings.Trim(strings.TrimSuffix(strings.ToLower(u.Hostname()), "."), "[]")
		if ip, err := netip.ParseAddr(h); err == nil {
			if !ip.Unmap().IsLoopback() {
				t.Fatalf("%q accepted with http to non-loopback %s", raw, ip)
			}
		} else if h != "localhost" && !strings.HasSuffix(h, ".localhost") {
			t.Fatalf("%q accepted with http to %q", raw, h)
		}
	})
}
