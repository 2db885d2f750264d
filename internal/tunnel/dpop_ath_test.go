package tunnel

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
	"github.com/pingedge/pingedge/internal/verify/dpop"
)

// TestDPoPAthFollowsTheToken: the tunnel hashes each token once and keeps the hash beside it;
// every proof must still carry the hash of the token it goes out with, across background
// refreshes and the refresh after an upstream 401. The upstream checks with the edge's own
// proof checker (internal/verify/dpop), replay cache included.
func TestDPoPAthFollowsTheToken(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := dpopkey.NewSigner(key)
	src := newTestSource(400 * time.Millisecond)
	cfg := dpop.Config{Lifetime: time.Minute, Leeway: 5 * time.Second, Replay: dpop.NewReplayCache(1000, time.Minute, 5*time.Second)}
	var mu sync.Mutex
	seen := map[string]bool{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "DPoP ")
		if why := src.check("Bearer " + tok); !ok || why != "" {
			http.Error(w, why, http.StatusUnauthorized)
			return
		}
		e := dpop.Expect{Method: r.Method, URL: "http://" + r.Host + r.URL.Path, AccessToken: tok, JKT: signer.JKT()}
		if _, err := dpop.Check(r.Header.Get("DPoP"), e, cfg); err != nil {
			t.Errorf("token %s: %v", tok, err)
			http.Error(w, "bad proof", http.StatusBadRequest)
			return
		}
		mu.Lock()
		seen[tok] = true
		mu.Unlock()
	}))
	t.Cleanup(up.Close)
	run := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)}, DPoP: signer})
	for i := 0; i < 40; i++ {
		if i == 20 { // the upstream now refuses the held token: the retry carries a new one
			src.mu.Lock()
			src.revoked[src.cur.Value.Reveal()] = true
			src.mu.Unlock()
		}
		if code, body, _ := get(t, "GET", run.url+"/items", nil); code != 200 {
			t.Fatalf("request %d: %d %s", i, code, body)
		}
		time.Sleep(25 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 3 {
		t.Fatalf("the requests used %d tokens; the test needs refreshes to mean anything", len(seen))
	}
}
