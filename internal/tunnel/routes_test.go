package tunnel

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCleartextUpstreamsAreRefused is issue 16 finding 2: an http:// upstream off the machine
// would carry the bearer token in clear text; it is refused unless explicitly allowed.
func TestCleartextUpstreamsAreRefused(t *testing.T) {
	src := newTestSource(time.Minute)
	for raw, cleartext := range map[string]bool{
		"http://api.example.com":    true,
		"http://10.0.0.8:8080":      true,
		"http://192.0.2.1":          true,
		"http://evil.localhost":     true, // resolved by DNS: not loopback for sure
		"http://localhost.evil.com": true,
		"http://127.0.0.1:9000":     false,
		"http://127.9.9.9":          false,
		"http://localhost:3000":     false,
		"http://LOCALHOST":          false,
		"http://[::1]:8080":         false,
		"http://[::ffff:127.0.0.1]": false,
		"https://api.example.com":   false,
		"https://10.0.0.8":          false,
	} {
		r := mustRoute(t, "/", raw)
		if r.Cleartext() != cleartext {
			t.Errorf("%s: Cleartext() = %v, want %v", raw, r.Cleartext(), cleartext)
		}
		_, err := New(Options{Source: src, Routes: []Route{mustRoute(t, "/ok", "https://h"), r}})
		if refused := errors.Is(err, ErrCleartextUpstream); refused != cleartext {
			t.Errorf("%s: New refused = %v (%v), want %v", raw, refused, err, cleartext)
		}
		if cleartext && !strings.Contains(err.Error(), "unencrypted") {
			t.Errorf("%s: error does not say why: %v", raw, err)
		}
		if _, err := New(Options{Source: src, AllowCleartextUpstream: true, Routes: []Route{r}}); err != nil {
			t.Errorf("%s with AllowCleartextUpstream: %v", raw, err)
		}
	}
}

// TestMergeRoutes: later layers replace a route with the same prefix in place (issue 13: this
// merge lived in the CLI).
func TestMergeRoutes(t *testing.T) {
	saved := []Route{mustRoute(t, "/api", "https://saved-api"), mustRoute(t, "/", "https://saved-root"), mustRoute(t, "/b", "https://saved-b")}
	to := []Route{mustRoute(t, "/", "https://flag-root")}
	flags := []Route{mustRoute(t, "/b/", "https://flag-b"), mustRoute(t, "/c", "https://flag-c")}
	var got []string
	for _, r := range MergeRoutes(saved, to, flags) {
		got = append(got, r.Prefix+"="+r.Target.Host)
	}
	want := "/api=saved-api /=flag-root /b=flag-b /c=flag-c"
	if strings.Join(got, " ") != want {
		t.Errorf("MergeRoutes = %q, want %q", strings.Join(got, " "), want)
	}
	if len(MergeRoutes()) != 0 || len(MergeRoutes(nil, nil)) != 0 {
		t.Error("no layers must give no routes")
	}
}
