package tunnel_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
	"github.com/pingedge/pingedge/internal/edge"
	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/tunnel"
)

// dpopHop sits between the tunnel and the gateway and records what went over the wire, as an
// eavesdropper (a logging proxy, a crash dump) would: the Authorization and DPoP headers.
type dpopHop struct {
	mu            sync.Mutex
	authz, proofs []string
}

func (h *dpopHop) start(t *testing.T, gateway string) string {
	target, _ := url.Parse(gateway)
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.authz = append(h.authz, r.Header.Get("Authorization"))
		h.proofs = append(h.proofs, r.Header.Get("DPoP"))
		h.mu.Unlock()
		// The Host stays the one the tunnel sent: the hop is a tap on the wire, not a proxy the
		// tunnel knows about, so the proofs name this address and the gateway sees it.
		rp.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// startDPoPGateway runs `edge serve` in gateway mode with dpop: required in front of an origin
// that answers "ok" when neither the token nor the proof reached it.
func startDPoPGateway(t *testing.T, issuer string, extra ...string) (string, *syncBuilder) {
	origin := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("DPoP") != "" || r.Header.Get("Authorization") != "" {
			_, _ = io.WriteString(w, "the origin received the token or the proof")
			return
		}
		_, _ = io.WriteString(w, "ok")
	}), ReadHeaderTimeout: 5 * time.Second}
	oln, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() { _ = origin.Serve(oln) }()
	t.Cleanup(func() { _ = origin.Close() })
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("issuer: "+issuer+"\naudience: pingedge-cli\ndefault: authenticated\ndpop: required\n"+strings.Join(extra, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	ou, _ := url.Parse("http://" + oln.Addr().String())
	audit := &syncBuilder{}
	srv, err := edge.New(edge.Options{PolicyFile: policy, Origin: ou, Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String(), audit
}

type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// TestDPoPEndToEnd: a real PKCE login whose token requests carry proofs gets a DPoP-bound token
// from the provider; the tunnel signs a proof per request and the gateway (dpop: required)
// lets its requests through. What an eavesdropper between them captured is then worth nothing:
// the token without a proof, as Bearer, with another key's proof, with a captured proof again,
// or with a proof for another method or URL is refused.
func TestDPoPEndToEnd(t *testing.T) {
	e := newE2E(t, 5*time.Minute)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := dpopkey.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	tokenURL := e.op.Issuer() + "/oauth/token"
	httpc := &http.Client{Timeout: 10 * time.Second, Transport: &dpopkey.Transport{Signer: signer,
		IsToken: func(r *http.Request) bool { return r.URL.String() == tokenURL }}}
	e.loginWith(httpc)
	src, err := login.NewSource(login.SourceConfig{Profile: "p", StateDir: e.state, Store: e.store, HTTP: httpc, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	gw, audit := startDPoPGateway(t, e.op.Issuer())
	hop := &dpopHop{}
	up := hop.start(t, gw)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	tun, err := tunnel.New(tunnel.Options{Source: src, Routes: []tunnel.Route{mustRoute(t, "/", up)}, DPoP: signer,
		IsLoginRequired: func(err error) bool { return errors.Is(err, login.ErrLoginRequired) },
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := tunnel.Listen("127.0.0.1:0", false)
	go func() { _ = tun.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	for i := range 5 {
		resp, err := http.Get(base + "/api/items?i=" + string(rune('0'+i)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("request %d through the tunnel: %d %s %q\naudit:\n%s", i, resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"), audit.String())
		}
	}
	hop.mu.Lock()
	authz, proof := hop.authz[0], hop.proofs[0]
	hop.mu.Unlock()
	token, ok := strings.CutPrefix(authz, "DPoP ")
	if !ok || proof == "" {
		t.Fatalf("the tunnel sent %q with proof %v", authz, proof != "")
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherSigner, _ := dpopkey.NewSigner(other)
	otherProof, _ := otherSigner.Proof("GET", up+"/api/items", token, "", time.Now())
	postProof, _ := signer.Proof("POST", up+"/api/items", token, "", time.Now()) // a thief cannot make these, but the checks must hold
	pathProof, _ := signer.Proof("GET", up+"/admin", token, "", time.Now())
	attacks := []struct{ name, method, scheme, proof string }{
		{"token alone as Bearer", "GET", "Bearer", ""},
		{"token alone as DPoP", "GET", "DPoP", ""},
		{"captured proof replayed", "GET", "DPoP", proof},
		{"proof by another key", "GET", "DPoP", otherProof},
		{"proof for another method", "GET", "DPoP", postProof},
		{"proof for another URL", "GET", "DPoP", pathProof},
	}
	for _, a := range attacks {
		req, _ := http.NewRequest(a.method, up+"/api/items", nil) // where the captured proof was for
		req.Header.Set("Authorization", a.scheme+" "+token)
		if a.proof != "" {
			req.Header.Set("DPoP", a.proof)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "DPoP ") {
			t.Errorf("%s: %d %q", a.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	for end := time.Now().Add(3 * time.Second); !strings.Contains(audit.String(), "already used") && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond) // the gateway flushes its audit every 100 ms
	}
	if strings.Contains(audit.String(), token) || strings.Contains(audit.String(), proof) {
		t.Error("the gateway's audit holds the token or a proof")
	}
	if !strings.Contains(audit.String(), `"dpop":"bound"`) {
		t.Errorf("the audit does not say the requests were DPoP-bound:\n%s", audit.String())
	}
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDPoPNonceEndToEnd: with dpop_nonce on at the gateway, the tunnel's first proof has no
// nonce and gets use_dpop_nonce with a DPoP-Nonce; the tunnel retries once with it (RFC 9449
// §9) and every later request carries it, so the client sees only 200s.
func TestDPoPNonceEndToEnd(t *testing.T) {
	e := newE2E(t, 5*time.Minute)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := dpopkey.NewSigner(key)
	httpc := &http.Client{Timeout: 10 * time.Second, Transport: &dpopkey.Transport{Signer: signer, IsToken: dpopkey.IsTokenRequest}}
	e.loginWith(httpc)
	src, err := login.NewSource(login.SourceConfig{Profile: "p", StateDir: e.state, Store: e.store, HTTP: httpc, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	gw, audit := startDPoPGateway(t, e.op.Issuer(), "dpop_nonce: on\n")
	hop := &dpopHop{}
	up := hop.start(t, gw)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	tun, err := tunnel.New(tunnel.Options{Source: src, Routes: []tunnel.Route{mustRoute(t, "/", up)}, DPoP: signer,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := tunnel.Listen("127.0.0.1:0", false)
	go func() { _ = tun.Serve(ctx, ln) }()
	for i := range 3 {
		resp, err := http.Get("http://" + ln.Addr().String() + "/api/items")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d with nonces on: %d\naudit:\n%s", i, resp.StatusCode, audit.String())
		}
	}
	hop.mu.Lock()
	defer hop.mu.Unlock()
	if len(hop.proofs) != 4 { // the first request twice (without, then with the nonce), then one each
		t.Fatalf("%d proofs went upstream for 3 requests, want 4\naudit:\n%s", len(hop.proofs), audit.String())
	}
}
