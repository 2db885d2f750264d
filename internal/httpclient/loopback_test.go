package httpclient

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// countingResolver fails every lookup and counts it: a name that reaches it went to DNS.
func countingResolver(n *atomic.Int32) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		n.Add(1)
		return nil, errors.New("no DNS in this test")
	}}
}

// TestLocalhostNamesNeverReachAResolver: evil.localhost goes to 127.0.0.1 without a DNS query
// (RFC 6761 §6.3), and is never handed to a proxy (which would resolve it itself).
func TestLocalhostNamesNeverReachAResolver(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "here") }))
	defer srv.Close()
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { proxied.Add(1); w.WriteHeader(502) }))
	defer proxy.Close()
	var lookups atomic.Int32
	env := map[string]string{"HTTP_PROXY": proxy.URL, "HTTPS_PROXY": proxy.URL}
	c := New(Config{Resolver: countingResolver(&lookups), Getenv: func(k string) string { return env[k] }})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	for _, host := range []string{"evil.localhost", "localhost", "A.B.LOCALHOST."} {
		resp, err := c.Get("http://" + host + ":" + port + "/")
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "here" {
			t.Fatalf("%s reached %q, not the loopback server", host, b)
		}
	}
	if lookups.Load() != 0 || proxied.Load() != 0 {
		t.Fatalf("localhost names went to DNS %d times and to the proxy %d times", lookups.Load(), proxied.Load())
	}
	// The same client does use the resolver for other names: the counter can move.
	if resp, err := c.Get("http://idp.invalid:" + port + "/"); err == nil {
		resp.Body.Close()
	}
	if lookups.Load() == 0 && proxied.Load() == 0 {
		t.Fatal("a normal name reached neither the resolver nor the proxy: the counters cannot fail")
	}
}

// TestClientRefusesRedirectedSecrets runs the policy through a real client and servers: the
// redirected POST's body never reaches the other host.
func TestClientRefusesRedirectedSecrets(t *testing.T) {
	var stolen atomic.Int32
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
	defer sink.Close()
	for _, code := range []int{301, 302, 303, 307, 308} {
		idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, sink.URL+"/steal", code)
		}))
		_, err := New(Config{}).Post(idp.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader("refresh_token=rt"))
		idp.Close()
		if !IsRedirect(err) {
			t.Errorf("%d: %v", code, err)
		}
	}
	if stolen.Load() != 0 {
		t.Fatalf("the other host received %d requests", stolen.Load())
	}
}
