package policy

import (
	"errors"
	"testing"
)

// TestNormalizePath is the normalisation table: encoded slashes and backslashes are never
// plain characters, dot segments and repeated slashes are resolved.
func TestNormalizePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/api/users", "/api/users"},
		{"/api/users?x=1", "/api/users"},
		{"/api//users", "/api/users"},
		{"//api///users//", "/api/users/"},
		{"/api/./users", "/api/users"},
		{"/api/x/../users", "/api/users"},
		{"/../../admin", "/admin"},
		{"/public/../admin/", "/admin/"},
		{"/api/%2e%2e/admin", "/admin"},
		{"/api/%2E%2E%2Fadmin", "ERR"},
		{"/api/.%2e/admin", "/admin"},
		{"/%61dmin", "/admin"},
		{"/a%7eb", "/a~b"},
		{"/a%2fb", "ERR"},
		{"/a%2Fb", "ERR"},
		{"/a%5cb", "ERR"},
		{"/a%5Cb", "ERR"},
		{"/a\\b", "ERR"},
		{"/a%00b", "ERR"},
		{"/a%0ab", "ERR"},
		{"/a%zzb", "ERR"},
		{"/a%4", "ERR"},
		{"/caf%c3%a9", "/caf%C3%A9"},
		{"/a%20b", "/a%20b"},
		{"/a/.", "/a/"},
		{"/a/..", "/"},
		{"relative", "ERR"},
		{"", "ERR"},
		{"*", "ERR"},
		{"http://evil/admin", "ERR"},
		{"/admin;x/users", "ERR"},
		{"/api/..;/admin", "ERR"},
		{"/a%3bb", "ERR"},
	} {
		got, err := NormalizePath(tc.in)
		if err != nil {
			if !errors.Is(err, ErrPath) {
				t.Errorf("%q: error not ErrPath: %v", tc.in, err)
			}
			got = "ERR"
		}
		if got != tc.want {
			t.Errorf("NormalizePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMatchPath(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"/healthz", "/healthz", true},
		{"/healthz", "/healthz/", true},
		{"/healthz", "/healthz/x", false},
		{"/healthz", "/healthzz", false},
		{"/api/**", "/api", true},
		{"/api/**", "/api/", true},
		{"/api/**", "/api/a/b/c", true},
		{"/api/**", "/apix", false},
		{"/api/*/items", "/api/1/items", true},
		{"/api/*/items", "/api/items", false},
		{"/api/*/items", "/api/1/2/items", false},
		{"/api/*", "/api/1", true},
		{"/api/*", "/api", false},
		{"/**", "/anything/at/all", true},
		{"/", "/", true},
		{"/", "/a", false},
		{"/a~b", "/a~b", true},
		{"/%61dmin", "/admin", true},
	} {
		pat, err := compilePattern(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		path, err := NormalizePath(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := matchPath(pat, path); got != tc.want {
			t.Errorf("match(%q, %q) = %v", tc.pattern, tc.path, got)
		}
	}
}
