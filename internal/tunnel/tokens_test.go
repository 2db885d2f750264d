package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestProactiveRefreshKeepsEveryRequestValid runs requests continuously across several lifetimes
// of a 300ms token: none may carry an expired token, and the refresher renews ahead of expiry
// (about one refresh per lifetime, not one per request).
func TestProactiveRefreshKeepsEveryRequestValid(t *testing.T) {
	src := newTestSource(300 * time.Millisecond)
	up := authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)}})
	deadline := time.Now().Add(1500 * time.Millisecond)
	var wg sync.WaitGroup
	var ok, total atomic.Int64
	for range 8 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				total.Add(1)
				if code, body, _ := get(t, "GET", tun.url+"/", nil); code == 200 {
					ok.Add(1)
				} else {
					t.Errorf("request failed: %d %q", code, body)
					return
				}
			}
		})
	}
	wg.Wait()
	n := src.refreshes.Load()
	t.Logf("%d requests, %d tokens minted", total.Load(), n)
	if n < 3 || n > 12 {
		t.Errorf("tokens minted = %d over 1.5s of 300ms tokens, want about one per lifetime (3-12)", n)
	}
}

func TestRefreshesInBackgroundWithoutTraffic(t *testing.T) {
	// A lifetime of 1 s leaves the background refresher 200 ms of slack: on a loaded machine
	// timers fire late, and shorter lifetimes made this test measure the scheduler.
	src := newTestSource(time.Second)
	up := authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) {})
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)}})
	get(t, "GET", tun.url+"/", nil)
	time.Sleep(3500 * time.Millisecond)
	if n := src.refreshes.Load(); n < 3 {
		t.Errorf("tokens minted = %d after 3.5 lifetimes without traffic, want >= 3 (refresh ahead of need)", n)
	}
	// The background refresher may run at any moment; what must not happen is a request asking
	// the source itself (net/http's request context marks those calls).
	before := src.onDemand.Load()
	if code, _, _ := get(t, "GET", tun.url+"/", nil); code != 200 {
		t.Errorf("request after idle time: %d", code)
	}
	if src.onDemand.Load() != before {
		t.Error("a request after idle time had to wait for the token source")
	}
}

func TestIssuerOutageKeepsCurrentTokenThenRecovers(t *testing.T) {
	src := newTestSource(time.Second)
	up := authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)}})
	get(t, "GET", tun.url+"/", nil)
	src.setErr(errors.New("dial tcp: connection refused"))
	src.mu.Lock()
	issued := src.cur.IssuedAt
	src.mu.Unlock()
	// While the held token is valid, requests keep working though every refresh fails: past the
	// background refresh (about 700ms) and into the last quarter, where requests try themselves.
	for time.Since(issued) < 800*time.Millisecond {
		if code, body, _ := get(t, "GET", tun.url+"/", nil); code != 200 {
			t.Fatalf("during the outage with a valid token (%s old): %d %q", time.Since(issued), code, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var code int
	var body string
	var hdr http.Header
	waitFor(t, 3*time.Second, func() bool { code, body, hdr = get(t, "GET", tun.url+"/", nil); return code != 200 })
	if code != 503 || hdr.Get("Retry-After") == "" || !strings.Contains(body, "issuer unavailable") {
		t.Errorf("expired token, issuer down: %d %q", code, body)
	}
	callsDuringOutage := src.calls.Load()
	for range 50 {
		get(t, "GET", tun.url+"/", nil)
	}
	if extra := src.calls.Load() - callsDuringOutage; extra > 6 {
		t.Errorf("50 requests during the outage caused %d refresh attempts, want backoff (<= 6)", extra)
	}
	if !strings.Contains(tun.logs.String(), "token refresh failed") {
		t.Error("the outage was not logged")
	}
	src.setErr(nil)
	waitFor(t, 3*time.Second, func() bool { c, _, _ := get(t, "GET", tun.url+"/", nil); return c == 200 })
}

func TestSessionGoneAnswers401WithLoginHintThenPicksUpNewLogin(t *testing.T) {
	src := newTestSource(300 * time.Millisecond)
	up := authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)}, Profile: "work",
		IsLoginRequired: func(err error) bool { return errors.Is(err, errTestLogin) }})
	get(t, "GET", tun.url+"/", nil)
	src.setErr(fmt.Errorf("refresh: %w", errTestLogin))
	time.Sleep(350 * time.Millisecond)
	for range 20 {
		code, body, _ := get(t, "GET", tun.url+"/", nil)
		if code != 401 || !strings.Contains(body, "run `pingedge login --profile work`") {
			t.Fatalf("session gone: %d %q", code, body)
		}
	}
	if n := strings.Count(tun.logs.String(), "login session ended"); n != 1 {
		t.Errorf("session loss logged %d times, want once", n)
	}
	src.setErr(nil) // the engineer logs in again in another terminal
	waitFor(t, 3*time.Second, func() bool { c, _, _ := get(t, "GET", tun.url+"/", nil); return c == 200 })
	if !strings.Contains(tun.logs.String(), "new login picked up") {
		t.Error("the new login was not announced")
	}
}

func TestAccessLogHasNoSecrets(t *testing.T) {
	src := newTestSource(time.Minute)
	up := authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201); fmt.Fprint(w, "made") })
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/api", up.URL)}})
	get(t, "POST", tun.url+"/api/things?api_key=querysecret", h("Authorization", "Bearer clientsecret"))
	get(t, "GET", tun.url+"/x", h("Host", "evil.com"))
	es := tun.entries.all()
	if len(es) != 2 {
		t.Fatalf("%d entries, want 2", len(es))
	}
	e := es[0]
	if e.Method != "POST" || e.Path != "/api/things" || e.Status != 201 || e.Route != "/api" || e.Bytes != 4 || e.Latency <= 0 {
		t.Errorf("entry %+v", e)
	}
	if es[1].Status != 421 || es[1].Refused != "host" || es[1].Route != "-" {
		t.Errorf("refused entry %+v", es[1])
	}
	b, _ := json.Marshal(es)
	for _, s := range []string{"tok-1", "clientsecret", "querysecret"} {
		if strings.Contains(string(b)+tun.logs.String(), s) {
			t.Errorf("%q leaked into the logs", s)
		}
	}
}

func TestCancelDrainsInFlightRequests(t *testing.T) {
	src := newTestSource(time.Minute)
	started := make(chan struct{})
	up := authUpstream(t, src, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		fmt.Fprint(w, "finished")
	})
	tun := startTunnel(t, Options{Source: src, Routes: []Route{mustRoute(t, "/", up.URL)}})
	res := make(chan string, 1)
	go func() { _, body, _ := get(t, "GET", tun.url+"/slow", nil); res <- body }()
	<-started
	tun.cancel() // Ctrl-C
	if body := <-res; body != "finished" {
		t.Errorf("in-flight request got %q, want it drained to completion", body)
	}
	select {
	case err := <-tun.done:
		tun.done <- err // for the cleanup check
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the drain")
	}
	if _, err := http.Get(tun.url + "/"); err == nil {
		t.Error("the tunnel still accepts requests after Ctrl-C")
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met in time")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
