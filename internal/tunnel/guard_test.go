package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestGuardAttackTable sends what a hostile page, a rebinding attacker or a confused client can
// make a browser send, and checks each is refused before the token is attached.
func TestGuardAttackTable(t *testing.T) {
	src := newTestSource(time.Minute)
	var reached int
	up := authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) { reached++; fmt.Fprint(w, "ok") })
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)},
		AllowOrigins: []string{"http://localhost:3000", "https://App.Example.com"}})
	p := tun.port
	self := fmt.Sprintf("http://127.0.0.1:%d", p)
	cases := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"plain curl", nil, 200},
		{"localhost name", h("Host", fmt.Sprintf("localhost:%d", p)), 200},
		{"LOCALHOST trailing dot", h("Host", fmt.Sprintf("LOCALHOST.:%d", p)), 200},
		{"other loopback address", h("Host", fmt.Sprintf("127.0.0.2:%d", p)), 200},
		{"IPv6 loopback", h("Host", fmt.Sprintf("[::1]:%d", p)), 200},
		{"rebinding: attacker name", h("Host", fmt.Sprintf("attacker.com:%d", p)), 421},
		{"rebinding: nip.io to loopback", h("Host", fmt.Sprintf("127.0.0.1.nip.io:%d", p)), 421},
		{"rebinding: 127 prefixed name", h("Host", fmt.Sprintf("127.0.0.evil:%d", p)), 421},
		{"rebinding: localhost subdomain of attacker", h("Host", fmt.Sprintf("localhost.attacker.com:%d", p)), 421},
		{"wrong port", h("Host", fmt.Sprintf("localhost:%d", p+1)), 421},
		{"no port means 80", h("Host", "localhost"), 421},
		{"private LAN address", h("Host", fmt.Sprintf("192.168.1.10:%d", p)), 421},
		{"IPv6 non-loopback", h("Host", fmt.Sprintf("[fe80::1]:%d", p)), 421},
		{"decimal IP", h("Host", fmt.Sprintf("2130706433:%d", p)), 421},
		{"cross-site fetch", h("Sec-Fetch-Site", "cross-site"), 403},
		{"same-site fetch (other localhost port)", h("Sec-Fetch-Site", "same-site"), 403},
		{"same-origin fetch", h("Sec-Fetch-Site", "same-origin"), 200},
		{"typed in the address bar", h("Sec-Fetch-Site", "none"), 200},
		{"foreign origin without fetch metadata", h("Origin", "https://evil.example"), 403},
		{"null origin (sandboxed iframe, file://)", h("Origin", "null"), 403},
		{"origin of the tunnel itself", h("Origin", self), 200},
		{"allowed origin, same-site", h("Origin", "http://localhost:3000", "Sec-Fetch-Site", "same-site"), 200},
		{"allowed origin, normalised", h("Origin", "https://app.example.com:443", "Sec-Fetch-Site", "cross-site"), 200},
		{"allowed host, other port", h("Origin", "http://localhost:3001", "Sec-Fetch-Site", "same-site"), 403},
		{"allowed origin, other scheme", h("Origin", "https://localhost:3000", "Sec-Fetch-Site", "cross-site"), 403},
		{"cross-site WebSocket hijacking", h("Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site",
			"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), 403},
		{"forward-proxy style absolute URL", h("Host", "api.example.com"), 421},
		{"allowed origin cannot rebind", h("Origin", "http://localhost:3000", "Host", fmt.Sprintf("evil.com:%d", p)), 421},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := reached
			code, body, _ := get(t, "GET", tun.url+"/data", c.hdr)
			if code != c.want {
				t.Fatalf("status %d (%q), want %d", code, body, c.want)
			}
			if c.want != 200 && reached != before {
				t.Error("a refused request reached the upstream")
			}
		})
	}
}

func h(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestCORSForAllowedOrigins(t *testing.T) {
	src := newTestSource(time.Minute)
	up := authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*") // the upstream's own CORS must not leak through
		fmt.Fprint(w, "ok")
	})
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)},
		AllowOrigins: []string{"http://localhost:3000"}})
	pre := h("Origin", "http://localhost:3000", "Access-Control-Request-Method", "PUT",
		"Access-Control-Request-Headers", "content-type,x-trace", "Sec-Fetch-Site", "same-site",
		"Access-Control-Request-Private-Network", "true")
	code, _, hdr := get(t, "OPTIONS", tun.url+"/items", pre)
	if code != 204 || hdr.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
		hdr.Get("Access-Control-Allow-Methods") != "PUT" || hdr.Get("Access-Control-Allow-Headers") != "content-type,x-trace" ||
		hdr.Get("Access-Control-Allow-Private-Network") != "true" {
		t.Errorf("preflight: %d %v", code, hdr)
	}
	if src.refreshes.Load() != 0 {
		t.Error("a preflight must be answered by the tunnel, without a token")
	}
	pre["Origin"] = "https://evil.example"
	pre["Sec-Fetch-Site"] = "cross-site"
	if code, _, hdr := get(t, "OPTIONS", tun.url+"/items", pre); code != 403 || hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from a foreign origin: %d %v", code, hdr)
	}
	code, _, hdr = get(t, "GET", tun.url+"/items", h("Origin", "http://localhost:3000", "Sec-Fetch-Site", "same-site"))
	if code != 200 || hdr.Values("Access-Control-Allow-Origin")[0] != "http://localhost:3000" ||
		len(hdr.Values("Access-Control-Allow-Origin")) != 1 || hdr.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("actual request: %d %v", code, hdr)
	}
}

func TestAllowOriginRejectsWildcards(t *testing.T) {
	for _, o := range []string{"*", "null", "localhost:3000", "http://localhost:3000/app", "ftp://x"} {
		_, err := New(Options{Source: newTestSource(time.Minute), Routes: []Route{mustRoute(t, "/", "http://127.0.0.1:1")}, AllowOrigins: []string{o}})
		if err == nil {
			t.Errorf("--allow-origin %q accepted", o)
		}
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	for addr, loopback := range map[string]bool{
		"127.0.0.1:0": true, "localhost:0": true, "[::1]:0": true, "127.0.0.5:0": true,
		":0": false, "0.0.0.0:0": false, "[::]:0": false, "192.168.1.10:0": false, "example.com:0": false,
	} {
		if IsLoopbackAddr(addr) != loopback {
			t.Errorf("IsLoopbackAddr(%q) = %v", addr, !loopback)
		}
		if loopback {
			continue
		}
		// The CLI adds the --allow-remote hint (internal/cli classifyListen).
		if _, err := Listen(addr, false); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("Listen(%q) = %v, want ErrNotLoopback", addr, err)
		}
	}
	ln, err := Listen("0.0.0.0:0", true)
	if err != nil {
		t.Fatalf("with --allow-remote: %v", err)
	}
	ln.Close()
}

func TestRemoteListenerAcceptsIPLiteralsButNotNames(t *testing.T) {
	g, _ := newGuard(8080, true, []string{"devbox.lan"}, nil)
	for host, want := range map[string]bool{
		"10.0.0.5:8080": true, "[2001:db8::1]:8080": true, "devbox.lan:8080": true,
		"evil.com:8080": false, "10.0.0.5:9090": false, "[fe80::1%25eth0]:8080": false, "[::1%lo]:8080": false,
	} {
		if g.hostOK(host) != want {
			t.Errorf("hostOK(%q) = %v", host, !want)
		}
	}
}

func TestUnixSocketIsOwnerOnly(t *testing.T) {
	dir, err := os.MkdirTemp("", "pe") // short path: unix socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "t.sock")
	ln, err := Listen("unix:"+path, false)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket mode %v %v, want 0600 socket", fi.Mode(), err)
	}
	if _, err := Listen("unix:"+path, false); err == nil {
		t.Error("a second listener must not replace an existing socket")
	}
	src := newTestSource(time.Minute)
	up := authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "via unix") })
	serveOn(t, ln, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)}})
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	resp, err := client.Get("http://localhost/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("over the unix socket: %d", resp.StatusCode)
	}
}
