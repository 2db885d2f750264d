package devop

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestKeyRotation(t *testing.T) {
	f := start(t, Config{})
	set, hdr := f.jwks()
	if len(set.Keys) != 1 || hdr.Get("Cache-Control") != "public, max-age=10" {
		t.Fatalf("jwks: %d keys, Cache-Control %q", len(set.Keys), hdr.Get("Cache-Control"))
	}
	oldKID := set.Keys[0].KeyID
	before := f.login()

	newKID := f.srv.RotateKey()
	set, _ = f.jwks()
	if newKID == oldKID || len(set.Key(newKID)) != 1 || len(set.Key(oldKID)) != 1 || len(set.Keys) != 2 {
		t.Fatalf("after rotation: kids %v, want new %s and old %s", kids(set), newKID, oldKID)
	}
	after := f.login()
	if h, _ := f.verifyJWT(after.AccessToken); h.KeyID != newKID {
		t.Errorf("new token kid = %s, want %s", h.KeyID, newKID)
	}
	if h, _ := f.verifyJWT(before.AccessToken); h.KeyID != oldKID {
		t.Errorf("old token kid = %s, want %s", h.KeyID, oldKID)
	}
	minted, err := f.srv.MintAccessToken(map[string]any{"sub": "x"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := f.verifyJWT(minted); h.KeyID != newKID {
		t.Errorf("minted kid = %s, want %s", h.KeyID, newKID)
	}

	// Two rotations later the first key is gone.
	f.srv.RotateKey()
	set, _ = f.jwks()
	if len(set.Key(oldKID)) != 0 || len(set.Keys) != 2 {
		t.Errorf("after second rotation: kids %v, %s should be gone", kids(set), oldKID)
	}
	if got := f.srv.Stats().JWKSFetches; got < 3 {
		t.Errorf("JWKSFetches = %d", got)
	}
}

func kids(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func TestSetDown(t *testing.T) {
	f := start(t, Config{})
	tok := f.login()
	f.srv.SetDown(true)
	for _, path := range []string{discoveryPath, jwksPath, "/authorize", loginPath, devicePath} {
		resp, err := f.client.Get(f.srv.Issuer() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s while down: %d", path, resp.StatusCode)
		}
	}
	if r := f.refresh(tok.RefreshToken); r.Status != http.StatusServiceUnavailable || r.Error != "temporarily_unavailable" {
		t.Errorf("refresh while down: %+v", r)
	}
	st := f.srv.Stats()
	if st.DiscoveryFetches != 1 || st.JWKSFetches != 1 || st.Refreshes != 1 {
		t.Errorf("requests during the outage not counted: %+v", st)
	}
	f.srv.SetDown(false)
	// The refresh token was not consumed by the failed attempt.
	if r := f.refresh(tok.RefreshToken); r.AccessToken == "" {
		t.Errorf("refresh after outage: %+v", r)
	}
}

func TestMintAccessToken(t *testing.T) {
	for _, alg := range []string{"RS256", "PS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			f := start(t, Config{SigningAlg: alg})
			raw, err := f.srv.MintAccessToken(map[string]any{
				"sub": "svc", "aud": []string{"https://api.example.com"}, "roles": []string{"admin"}, "jti": "fixed",
			}, 90*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			h, c := f.verifyJWT(raw)
			if string(h.Algorithm) != alg || h.ExtraHeaders[jose.HeaderType] != "at+jwt" {
				t.Errorf("header alg=%s typ=%v", h.Algorithm, h.ExtraHeaders[jose.HeaderType])
			}
			if c["iss"] != f.srv.Issuer() || c["sub"] != "svc" || c["jti"] != "fixed" {
				t.Errorf("claims %v", c)
			}
			if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 90 {
				t.Errorf("exp - iat = %v, want 90", exp-iat)
			}
		})
	}
	f := start(t, Config{})
	raw, err := f.srv.MintAccessToken(map[string]any{"iss": "https://other", "exp": 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, c := f.verifyJWT(raw); c["iss"] != "https://other" || c["exp"] != float64(1) {
		t.Errorf("explicit claims overwritten: %v", c)
	}
	// Signed by someone else: the JWKS must not verify it.
	other := start(t, Config{})
	foreign, _ := other.srv.MintAccessToken(nil, 0)
	set, _ := f.jwks()
	if _, _, err := verifyAgainst(foreign, set); err == nil {
		t.Error("a token from another provider verified")
	}
}

func TestStartValidation(t *testing.T) {
	bad := map[string]Config{
		"non-loopback address": {Addr: "0.0.0.0:0"},
		"hostname":             {Addr: "example.com:0"},
		"no port":              {Addr: "127.0.0.1"},
		"algorithm":            {SigningAlg: "HS256"},
		"duplicate user":       {Users: []User{{Subject: "a"}, {Subject: "a"}}},
	}
	for name, cfg := range bad {
		t.Run(name, func(t *testing.T) {
			if s, err := Start(t.Context(), cfg); err == nil {
				s.Close()
				t.Errorf("Start(%+v) succeeded", cfg)
			}
		})
	}
}

func TestCloseAndContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s, err := Start(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Issuer(), "http://127.0.0.1:") {
		t.Errorf("issuer %s", s.Issuer())
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := http.Get(s.Issuer() + discoveryPath)
		if errors.Is(err, syscall.ECONNREFUSED) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still answering after ctx cancel: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after ctx cancel: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestReadHeaderTimeout(t *testing.T) {
	s, err := Start(t.Context(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.srv.ReadHeaderTimeout <= 0 {
		t.Fatal("no ReadHeaderTimeout")
	}
	u, _ := url.Parse(s.Issuer())
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A slowloris client sends a partial request and stalls; Close must
	// still return promptly.
	_, _ = conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n"))
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close with a stalled connection: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Close hung on a stalled connection")
	}
}

// TestConcurrentLoad hits every endpoint at once with hundreds of requests,
// under -race in CI: logins, refresh chains, JWKS and discovery fetches,
// minting and rotation.
func TestConcurrentLoad(t *testing.T) {
	f := start(t, Config{})
	f.client.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			rt := f.login().RefreshToken
			for range 5 {
				r := f.refresh(rt)
				if r.RefreshToken == "" {
					t.Errorf("refresh chain broke: %+v", r)
					return
				}
				rt = r.RefreshToken
			}
		})
	}
	for i := range 200 {
		wg.Go(func() {
			switch i % 4 {
			case 0:
				f.jwks()
			case 1:
				resp, err := f.client.Get(f.srv.Issuer() + discoveryPath)
				if err == nil {
					resp.Body.Close()
				}
			case 2:
				if _, err := f.srv.MintAccessToken(map[string]any{"sub": "x"}, 0); err != nil {
					t.Error(err)
				}
			case 3:
				if i%40 == 3 {
					f.srv.RotateKey()
				}
				_ = f.srv.Stats()
			}
		})
	}
	wg.Wait()
	st := f.srv.Stats()
	if st.AuthCodeExchanges != 20 || st.Refreshes != 100 || st.ReusedRefreshTokens != 0 {
		t.Errorf("stats = %+v", st)
	}
	if st.JWKSFetches != 50 || st.DiscoveryFetches != 50 {
		t.Errorf("fetch counters = %d/%d, want 50/50", st.JWKSFetches, st.DiscoveryFetches)
	}
}
