package keyset

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestCacheControlBounds: the JWKS response's max-age sets the refresh time, within bounds.
func TestCacheControlBounds(t *testing.T) {
	r := NewRemoteKeySet("", RemoteOptions{})
	for cc, want := range map[string]time.Duration{
		"":                     15 * time.Minute,
		"max-age=5":            time.Minute,
		"public, max-age=600":  10 * time.Minute,
		"max-age=99999999":     24 * time.Hour,
		"no-store":             time.Minute,
		"max-age=abc":          15 * time.Minute,
		"Max-Age=120, private": 2 * time.Minute,
	} {
		if got := r.ttl(http.Header{"Cache-Control": {cc}}); got != want {
			t.Errorf("%q: got %s want %s", cc, got, want)
		}
	}
}

// TestUnknownKidMemoryBounded: remembering forged kids cannot grow without bound.
func TestUnknownKidMemoryBounded(t *testing.T) {
	r := NewRemoteKeySet("http://127.0.0.1:1/jwks", RemoteOptions{})
	for i := range 3 * maxUnknownKids {
		r.rememberUnknown(fmt.Sprintf("forged-%d", i), time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(r.unknown); n > maxUnknownKids {
		t.Fatalf("%d unknown kids remembered, bound %d", n, maxUnknownKids)
	}
}
