package tunnel

import (
	"bufio"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestForwardsWithTokenInsteadOfClientAuthorization(t *testing.T) {
	src := newTestSource(time.Minute)
	var seen http.Header
	var seenURL, seenHost string
	up := authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) {
		seen, seenURL, seenHost = r.Header.Clone(), r.URL.String(), r.Host
		w.Header().Set("X-Upstream", "yes")
		fmt.Fprint(w, "hello")
	})
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL+"/base")}})

	code, body, hdr := get(t, "GET", tun.url+"/v1/items?q=1", map[string]string{
		"Authorization": "Bearer client-supplied", "X-Custom": "kept",
	})
	if code != 200 || body != "hello" || hdr.Get("X-Upstream") != "yes" {
		t.Fatalf("got %d %q %v", code, body, hdr)
	}
	if got := seen.Get("Authorization"); got != "Bearer tok-1" {
		t.Errorf("upstream saw Authorization %q, want the tunnel's token", got)
	}
	if seen.Get("X-Custom") != "kept" || seenURL != "/base/v1/items?q=1" {
		t.Errorf("upstream saw %q custom=%q", seenURL, seen.Get("X-Custom"))
	}
	if seenHost != strings.TrimPrefix(up.URL, "http://") {
		t.Errorf("upstream Host %q, want its own", seenHost)
	}
}

func TestRoutesLongestPrefixWins(t *testing.T) {
	src := newTestSource(time.Minute)
	named := func(name string) string {
		return authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, name+" "+r.URL.Path) }).URL
	}
	root, api, v2 := named("root"), named("api"), named("v2")
	tun := startTunnel(t, Options{Source: src, Routes: []Route{
		mustRoute(t, "/", root), mustRoute(t, "/api/", api), mustRoute(t, "/api/v2", v2),
	}})
	for path, want := range map[string]string{
		"/":            "root /",
		"/apix":        "root /apix",
		"/api":         "api /api",
		"/api/users":   "api /api/users",
		"/api/v2":      "v2 /api/v2",
		"/api/v2/x/y":  "v2 /api/v2/x/y",
		"/api/v20/x/y": "api /api/v20/x/y",
	} {
		if code, body, _ := get(t, "GET", tun.url+path, nil); code != 200 || body != want {
			t.Errorf("%s: got %d %q, want %q", path, code, body, want)
		}
	}
	onlyAPI := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/api", api)}})
	if code, body, _ := get(t, "GET", onlyAPI.url+"/other", nil); code != 404 || !strings.Contains(body, "no route") {
		t.Errorf("unrouted path: %d %q", code, body)
	}
}

func TestUpstream401ForcesOneRefreshAndRetriesBodylessRequests(t *testing.T) {
	src := newTestSource(time.Minute)
	up := authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)}})
	if code, _, _ := get(t, "GET", tun.url+"/", nil); code != 200 {
		t.Fatalf("warm-up: %d", code)
	}
	src.revoke("tok-1") // the upstream now refuses the held token, which is not yet expired

	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Go(func() {
			code, _, _ := get(t, "GET", tun.url+"/x", nil)
			codes <- code
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("request after revocation: %d, want 200 after one retry", c)
		}
	}
	if n := src.refreshes.Load(); n != 2 {
		t.Errorf("tokens minted = %d, want 2 (one forced refresh shared by all 20 requests)", n)
	}

	src.revoke("tok-2")
	resp, err := http.Post(tun.url+"/upload", "text/plain", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("request with a body: %d, want the upstream's 401 (a body cannot be replayed)", resp.StatusCode)
	}
}

func TestUpstreamThatRejectsEveryTokenCausesNoRefreshStorm(t *testing.T) {
	src := newTestSource(time.Minute)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "wrong audience", http.StatusUnauthorized)
	}))
	defer up.Close()
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)}})
	for range 30 {
		if code, body, _ := get(t, "GET", tun.url+"/", nil); code != 401 || !strings.Contains(body, "wrong audience") {
			t.Fatalf("got %d %q, want the upstream's 401", code, body)
		}
	}
	if n := src.refreshes.Load(); n > 2 {
		t.Errorf("tokens minted = %d for 30 refused requests, want at most 2", n)
	}
}

// SSE and chunked NDJSON must both reach the client event by event: each next event is written
// only after the client has read the previous one, so a buffering proxy deadlocks the test.
func TestStreamingResponsesFlowThrough(t *testing.T) {
	for _, ct := range []string{"text/event-stream", "application/x-ndjson"} {
		t.Run(ct, func(t *testing.T) { testStreaming(t, ct) })
	}
}

func testStreaming(t *testing.T, contentType string) {
	src := newTestSource(time.Minute)
	next := make(chan struct{})
	up := authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		for i := range 3 {
			fmt.Fprintf(w, "data: event %d\n\n", i)
			w.(http.Flusher).Flush()
			select { // the next event is only written once the client has read this one
			case <-next:
			case <-r.Context().Done():
				return
			}
		}
	})
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)}})
	resp, err := http.Get(tun.url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := range 3 {
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: event %d\n", i) {
			t.Fatalf("event %d: %q %v (a buffering proxy would block here)", i, line, err)
		}
		_, _ = br.ReadString('\n')
		next <- struct{}{}
	}
}

// TestWebSocketEchoThroughTunnel: ws:// to the tunnel reaches a ws:// upstream, and a wss://
// upstream that also offers HTTP/2 (the upgrade must fall back to HTTP/1.1).
func TestWebSocketEchoThroughTunnel(t *testing.T) {
	src := newTestSource(time.Minute)
	plain := httptest.NewServer(echoWS(src))
	defer plain.Close()
	tlsUp := httptest.NewUnstartedServer(echoWS(src))
	tlsUp.EnableHTTP2 = true
	tlsUp.StartTLS()
	defer tlsUp.Close()
	tr, _ := NewTransport(TransportOptions{})
	tr.TLSClientConfig.RootCAs = tlsUp.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	for name, up := range map[string]string{"ws": plain.URL, "wss+h2": tlsUp.URL} {
		t.Run(name, func(t *testing.T) {
			tun := startTunnel(t, Options{Source: src, Transport: tr, Routes: []Route{mustRoute(t, "/", up)}})
			wsEcho(t, "ws"+strings.TrimPrefix(tun.url, "http")+"/ws")
		})
	}
}

func echoWS(src *testSource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if why := src.check(r.Header.Get("Authorization")); why != "" {
			http.Error(w, why, http.StatusUnauthorized)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	}
}

func wsEcho(t *testing.T, u string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatalf("dial through tunnel: %v", err)
	}
	defer c.CloseNow()
	for _, m := range []string{"one", "two"} {
		if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if err != nil || string(got) != "echo: "+m {
			t.Fatalf("echo of %q: %q %v", m, got, err)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestHTTP2AndTLSUpstreamWithCAFile(t *testing.T) {
	src := newTestSource(time.Minute)
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if why := src.check(r.Header.Get("Authorization")); why != "" {
			http.Error(w, why, 401)
			return
		}
		fmt.Fprint(w, r.Proto)
	}))
	up.EnableHTTP2 = true
	up.StartTLS()
	defer up.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: up.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}

	tr, err := NewTransport(TransportOptions{CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	tun := startTunnel(t, Options{Source: src, Transport: tr, Routes: []Route{mustRoute(t, "/", up.URL)}})
	if code, body, _ := get(t, "GET", tun.url+"/", nil); code != 200 || body != "HTTP/2.0" {
		t.Errorf("with --ca-file: %d %q, want 200 over HTTP/2.0", code, body)
	}

	plain := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)}})
	if code, body, _ := get(t, "GET", plain.url+"/", nil); code != 502 || !strings.Contains(body, "certificate") {
		t.Errorf("without the CA: %d %q, want 502 naming the certificate problem", code, body)
	}
	if _, err := NewTransport(TransportOptions{CAFile: filepath.Join(t.TempDir(), "missing.pem")}); err == nil {
		t.Error("a missing --ca-file must fail")
	}
}

func TestUpstreamProxyFromOptions(t *testing.T) {
	src := newTestSource(time.Minute)
	var via string
	outbound := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		via = r.URL.String() // a forward proxy receives the absolute URL
		io.WriteString(w, "via proxy")
	}))
	defer outbound.Close()
	tr, err := NewTransport(TransportOptions{Proxy: func(*http.Request) (*url.URL, error) { return url.Parse(outbound.URL) }})
	if err != nil {
		t.Fatal(err)
	}
	tun := startTunnel(t, Options{Source: src, Transport: tr, AllowCleartextUpstream: true,
		Routes: []Route{mustRoute(t, "/", "http://api.internal.example")}})
	if code, body, _ := get(t, "GET", tun.url+"/x", nil); code != 200 || body != "via proxy" || via != "http://api.internal.example/x" {
		t.Errorf("got %d %q via %q", code, body, via)
	}
}
