package edgehttp

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzStripHeaders: after stripping, no header an origin could read as a stripped one is left,
// whatever mix of case, dashes and underscores the client used.
func FuzzStripHeaders(f *testing.F) {
	f.Add("X_Auth_User", "x-auth-roles")
	f.Add("Authorization", "AUTHORIZATION")
	f.Add("X-Auth_User", "x_auth-email")
	f.Fuzz(func(t *testing.T, a, b string) {
		h := http.Header{}
		h[a], h[b], h["Keep-Me"] = []string{"1"}, []string{"2"}, []string{"3"}
		names := []string{"Authorization", "X-Auth-User", "X-Auth-Email", "X-Auth-Roles"}
		StripHeaders(h, names)
		for k := range h {
			alias := http.CanonicalHeaderKey(strings.ReplaceAll(k, "_", "-"))
			for _, n := range names {
				if strings.EqualFold(alias, n) {
					t.Fatalf("%q survived as %q", k, n)
				}
			}
		}
		if h.Get("Keep-Me") != "3" && !strings.EqualFold(a, "Keep-Me") && !strings.EqualFold(b, "Keep-Me") {
			t.Fatal("an unrelated header was removed")
		}
	})
}
