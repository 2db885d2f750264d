package dpop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func testSigner(t testing.TB) *dpopkey.Signer {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := dpopkey.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSameURL: htu is compared without query and fragment, after scheme/host case and
// default-port normalisation, and nothing else is forgiven (RFC 9449 §4.3 point 9).
func TestSameURL(t *testing.T) {
	same := [][2]string{
		{"https://api.example.com/a", "https://api.example.com/a?x=1"},
		{"https://API.example.com/a#frag", "https://api.example.com/a"},
		{"HTTPS://api.example.com:443/a", "https://api.example.com/a"},
		{"http://[::1]:80/a", "http://[::1]/a"},
		{"https://api.example.com", "https://api.example.com/"},
	}
	differ := [][2]string{
		{"https://api.example.com/a", "https://api.example.com/A"},
		{"https://api.example.com/a", "http://api.example.com/a"},
		{"https://api.example.com:8443/a", "https://api.example.com/a"},
		{"https://api.example.com/a/", "https://api.example.com/a"},
		{"https://user@api.example.com/a", "https://api.example.com/a"},
		{"/a", "/a"},
		{"ftp://api.example.com/a", "ftp://api.example.com/a"},
		{"https://api.example.com/%61", "https://api.example.com/a"},
	}
	for _, c := range same {
		if !SameURL(c[0], c[1]) {
			t.Errorf("%q and %q differ", c[0], c[1])
		}
	}
	for _, c := range differ {
		if SameURL(c[0], c[1]) {
			t.Errorf("%q and %q are the same", c[0], c[1])
		}
	}
}

// TestReplayCacheBounded: a proof is refused again within its window, forgotten after it, and
// a full cache of live proofs refuses new ones instead of forgetting one.
func TestReplayCacheBounded(t *testing.T) {
	c := NewReplayCache(2, time.Minute, 10*time.Second)
	if err := c.Add("k", "a", now); err != nil {
		t.Fatal(err)
	}
	if err := c.Add("k", "a", now.Add(79*time.Second)); !errors.Is(err, ErrProof) {
		t.Fatalf("replay within lifetime+2·leeway: %v", err)
	}
	if err := c.Add("other-key", "a", now); err != nil {
		t.Fatalf("the same jti under another key is another proof: %v", err)
	}
	if err := c.Add("k", "b", now.Add(time.Second)); !errors.Is(err, ErrReplayFull) {
		t.Fatalf("full cache took a new proof: %v", err)
	}
	if err := c.Add("k", "a", now.Add(81*time.Second)); err != nil {
		t.Fatalf("an expired entry still counts: %v", err)
	}
	if c.Len() != 1 {
		t.Fatalf("len %d after expiry, want 1", c.Len())
	}
}

// FuzzCheck: any proof text, method and URL either fails with an error wrapping one of the
// package's sentinels or is a proof the signer could have made; nothing panics, and the error
// never repeats the proof.
func FuzzCheck(f *testing.F) {
	s := testSigner(f)
	tok := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	good, _ := s.Proof("GET", "https://api.example.com/items", tok, "", now)
	f.Add(good, "GET", "https://api.example.com/items")
	f.Add(good[:len(good)/2], "POST", "https://api.example.com/")
	f.Add("e30.e30.", "GET", "http://x/")
	f.Add(strings.Repeat("A", 5000), "GET", "https://a/")
	f.Fuzz(func(t *testing.T, proof, method, url string) {
		cfg := Config{Lifetime: time.Minute, Leeway: 5 * time.Second, Now: func() time.Time { return now },
			Replay: NewReplayCache(16, time.Minute, 5*time.Second)}
		p, err := Check(proof, Expect{Method: method, URL: url, AccessToken: tok, JKT: s.JKT()}, cfg)
		if err != nil {
			if !errors.Is(err, ErrProof) && !errors.Is(err, ErrUseNonce) && !errors.Is(err, ErrReplayFull) {
				t.Fatalf("unclassified error: %v", err)
			}
			if len(proof) > 40 && strings.Contains(err.Error(), proof) {
				t.Fatalf("the error repeats the proof")
			}
			return
		}
		if p.JKT != s.JKT() || method != "GET" || !SameURL(url, "https://api.example.com/items") {
			t.Fatalf("accepted a proof for %s %s", method, url)
		}
	})
}
