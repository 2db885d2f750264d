package edge

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// publicHost is the name clients address in the load-balancer tests; a custom dialer sends it
// to the real nginx that terminates TLS on loopback, as DNS would send it to the balancer.
const publicHost = "api.example.com"

// lbConf is a plain TLS-terminating load balancer: it forwards to the gateway over http with
// the client's Host and writes X-Forwarded-Proto/Host itself, as cloud balancers do. A
// client's X-Forwarded-Host copy is not removed: the gateway must not read either.
const lbConf = `server {
    listen 127.0.0.1:PORT ssl;
    ssl_certificate DIR/lb.crt;
    ssl_certificate_key DIR/lb.key;
    location / {
        proxy_pass http://GATEWAY;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Proto https;
    }
}
`

// startTLSBalancer runs a real nginx terminating TLS for publicHost in front of gateway and
// returns a client whose requests to https://api.example.com reach it.
func startTLSBalancer(t *testing.T, gateway string) *http.Client {
	t.Helper()
	dir := t.TempDir()
	pool := writeSelfSigned(t, dir, publicHost)
	port := freePort(t)
	conf := strings.NewReplacer("PORT", port, "DIR", dir, "GATEWAY", strings.TrimPrefix(gateway, "http://")).Replace(lbConf)
	writeFile(t, filepath.Join(dir, "lb.conf"), conf)
	runNginx(t, "nginx (TLS balancer)", dir, port, "lb.conf")
	dial := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dial.DialContext(ctx, network, "127.0.0.1:"+port) // every name resolves to the balancer
		},
	}}
}

// writeSelfSigned writes lb.crt and lb.key for host into dir and returns a pool trusting it.
func writeSelfSigned(t *testing.T, dir, host string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host, "other.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "lb.crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, filepath.Join(dir, "lb.key"), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// lbGet sends GET url through the balancer with h and returns the status, the challenge and
// what the origin saw (Method "" when the request did not reach it).
func lbGet(t *testing.T, c *http.Client, u string, h map[string]string) (int, string, seen) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET through the balancer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var s seen
	_ = json.Unmarshal(body, &s)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), s
}

// TestGatewayDPoPBehindTLSBalancer: the gateway (dpop: required) behind a real nginx that
// terminates TLS and forwards over http. With --public-url https://api.example.com a proof for
// the URL the client called passes and the origin gets the identity without the credentials;
// a proof for http:// (what the gateway itself sees), for another host (sent as Host and as
// X-Forwarded-Host), for the gateway's internal address, or replayed, is refused. Without
// --public-url the client's proof cannot pass: the gateway sees http.
func TestGatewayDPoPBehindTLSBalancer(t *testing.T) {
	s := dpopSigner(t)
	tok, path := dpopPolicy(t, s, "")
	origin, _ := url.Parse(echoOrigin(t).URL)
	gw := startEdge(t, Options{PolicyFile: path, Origin: origin, PublicURL: "https://API.example.com/"})
	lb := startTLSBalancer(t, gw.url)
	public := "https://" + publicHost + "/api/items"
	proof := func(method, u string) string {
		p, err := s.Proof(method, u, tok, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := proof("GET", public)
	status, chal, saw := lbGet(t, lb, public+"?x=1", map[string]string{"Authorization": "DPoP " + tok, "DPoP": good})
	if status != 200 || saw.Header.Get("X-Auth-User") != "alice" || saw.Header.Get("Authorization") != "" || saw.Header.Get("DPoP") != "" {
		t.Fatalf("a proof for %s through the balancer: %d %q; origin saw user %q, credentials %v\naudit: %s", public, status, chal,
			saw.Header.Get("X-Auth-User"), saw.Header.Get("Authorization")+saw.Header.Get("DPoP") != "", gw.audit.String())
	}
	for _, row := range []struct {
		name, url, proofURL string
		h                   map[string]string
	}{
		{"proof for http when public is https", public, "http://" + publicHost + "/api/items", nil},
		{"proof for the gateway's own address", public, gw.url + "/api/items", nil},
		{"proof for another host, sent as Host", "https://other.example/api/items", "https://other.example/api/items", nil},
		{"proof for another host, sent as X-Forwarded-Host", public, "https://other.example/api/items", map[string]string{"X-Forwarded-Host": "other.example"}},
		{"replayed proof", public, "", nil},
	} {
		p := good
		if row.proofURL != "" {
			p = proof("GET", row.proofURL)
		}
		h := map[string]string{"Authorization": "DPoP " + tok, "DPoP": p}
		for k, v := range row.h {
			h[k] = v
		}
		status, chal, saw := lbGet(t, lb, row.url, h)
		if status != 401 || !strings.HasPrefix(chal, "DPoP ") || saw.Method != "" {
			t.Errorf("%s: %d %q, origin reached %v", row.name, status, chal, saw.Method != "")
		}
	}
}

// TestGatewayDPoPBehindTLSBalancerNeedsPublicURL: the same deployment without --public-url
// refuses the client's honest proof, since the gateway sees http and the internal Host: the
// reason the setting exists, and proof that X-Forwarded-Proto is not trusted implicitly.
func TestGatewayDPoPBehindTLSBalancerNeedsPublicURL(t *testing.T) {
	s := dpopSigner(t)
	tok, path := dpopPolicy(t, s, "")
	origin, _ := url.Parse(echoOrigin(t).URL)
	gw := startEdge(t, Options{PolicyFile: path, Origin: origin})
	lb := startTLSBalancer(t, gw.url)
	public := "https://" + publicHost + "/api/items"
	p, err := s.Proof("GET", public, tok, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status, chal, _ := lbGet(t, lb, public, map[string]string{"Authorization": "DPoP " + tok, "DPoP": p}); status != 401 || !strings.Contains(chal, "invalid_dpop_proof") {
		t.Errorf("without --public-url: %d %q, want 401 invalid_dpop_proof", status, chal)
	}
}

// TestForwardAuthDPoPPublicURL: forward-auth behind real nginx (documented config) whose own
// X-Forwarded-Proto says http, as when a TLS-terminating balancer sits in front of nginx. With
// PublicURL the proof for the https URL clients address passes, and one for the URL nginx
// describes (http, its own Host) is refused.
func TestForwardAuthDPoPPublicURL(t *testing.T) {
	s := dpopSigner(t)
	tok, path := dpopPolicy(t, s, "")
	fa := startEdge(t, Options{PolicyFile: path, ForwardAuth: ProxyNginx, PublicURL: "https://" + publicHost})
	ngx := startNginx(t, strings.TrimPrefix(fa.url, "http://"), echoOrigin(t).URL)
	for _, row := range []struct {
		htu  string
		want int
	}{{"https://" + publicHost + "/api/items", 200}, {ngx + "/api/items", 401}, {"http://" + publicHost + "/api/items", 401}} {
		p, err := s.Proof("GET", row.htu, tok, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		resp, body := do(t, "GET", ngx, "/api/items", map[string]string{"Authorization": "DPoP " + tok, "DPoP": p})
		if resp.StatusCode != row.want {
			t.Errorf("proof for %s: %d, want %d (%s)", row.htu, resp.StatusCode, row.want, body)
		}
	}
}
