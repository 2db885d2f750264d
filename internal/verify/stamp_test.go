package verify

import (
	"strings"
	"testing"
)

func TestRequestID(t *testing.T) {
	for _, keep := range []string{"req-42", "a", strings.Repeat("x", MaxRequestIDLen), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"} {
		if got := RequestID(keep); got != keep {
			t.Errorf("RequestID(%q) = %q, want it kept", keep, got)
		}
	}
	for _, bad := range []string{"", "a b", `a"b`, `a\b`, "é", strings.Repeat("a", MaxRequestIDLen+1), "a\nb", "\x7f"} {
		if got := RequestID(bad); got == bad || len(got) != 32 {
			t.Errorf("RequestID(%q) = %q, want a fresh 32-hex id", bad, got)
		}
	}
	if RequestID("") == RequestID("") {
		t.Error("stamped ids must differ")
	}
}

func TestSameHeaderName(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"X-Auth-User", "x-auth-user", true}, {"X_Auth_User", "X-Auth-User", true}, {"x_auth-USER", "X-Auth-User", true},
		{"X-Auth-User", "X-Auth-Users", false}, {"X-Auth-Usex", "X-Auth-User", false}, {"", "", true},
	} {
		if got := SameHeaderName(tc.a, tc.b); got != tc.want {
			t.Errorf("SameHeaderName(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
	if CanonicalHeaderKey("x-auth-user") != "X-Auth-User" || CanonicalHeaderKey("bad header") != "bad header" {
		t.Error("CanonicalHeaderKey")
	}
}
