package cli

import (
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/verify/policy"
)

// TestDPoPFlagErrorsKeepTheQueryOut: a request URL may carry a token in its query (RFC 6750
// §2.3's access_token), so the usage errors about --url name the URL without query or fragment.
func TestDPoPFlagErrorsKeepTheQueryOut(t *testing.T) {
	const secret = "eyJSECRETeyJ"
	pol := &policy.Policy{DPoP: policy.DPoPAllowed}
	for _, tc := range []struct{ path, url, want string }{
		{"/other", "https://api.example.com/items?access_token=" + secret, "https://api.example.com/items"},
		{"/other", "https://api.example.com/items#access_token=" + secret, "https://api.example.com/items"},
		{"", "ftp://api.example.com/items?access_token=" + secret, "ftp://api.example.com/items"},
		{"", "https://api.example.com/%zz?access_token=" + secret, "https://api.example.com/%zz"},
		{"/items?access_token=" + secret, "https://api.example.com/items", "/items"},
		{"/other", "https://user:" + secret + "@api.example.com/items", "https://api.example.com/items"},
		{"", "https://user:" + secret + "@api.example.com/%zz", "https://api.example.com/%zz"},
	} {
		dr := dpopRequest{URL: tc.url}
		_, err := dpopFlags(pol, tc.path, &dr)
		if err == nil {
			t.Fatalf("--path %q --url %q: accepted", tc.path, tc.url)
		}
		if msg := err.Error(); strings.Contains(msg, secret) || !strings.Contains(msg, tc.want) {
			t.Errorf("--path %q --url %q: error %q: want %q named, the query left out", tc.path, tc.url, msg, tc.want)
		}
	}
}
