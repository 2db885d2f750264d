package demo

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// runDemo starts the demo as `pingedge demo` does and returns its addresses and a stop function
// that waits for Run to return.
func runDemo(t *testing.T, user string) (Info, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan Info, 1)
	var audit strings.Builder
	var mu sync.Mutex
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Options{User: user, Ready: func(i Info) { ready <- i },
			Audit: writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return audit.Write(b) })})
	}()
	select {
	case info := <-ready:
		return info, func() error { cancel(); return <-errc }
	case err := <-errc:
		cancel()
		t.Fatalf("demo did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("demo did not start within 30s")
	}
	return Info{}, nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDemoWholeLoop(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // the demo's state goes here, so leftovers are visible
	info, stop := runDemo(t, "")

	code, body := get(t, info.Tunnel+"/api/hello")
	if code != http.StatusOK {
		t.Fatalf("/api/hello through the tunnel: %d %s", code, body)
	}
	var got struct {
		Identity struct {
			User  string   `json:"user"`
			Email string   `json:"email"`
			Roles []string `json:"roles"`
		} `json:"identity"`
		AuthorizationForwarded bool   `json:"authorization_forwarded"`
		RequestID              string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Identity.User != "alice" || got.Identity.Email != "alice@example.com" || strings.Join(got.Identity.Roles, ",") != "engineer" {
		t.Fatalf("the API must see alice's identity from the gateway: %+v", got)
	}
	if got.AuthorizationForwarded || got.RequestID == "" {
		t.Fatalf("the gateway must strip Authorization and stamp X-Request-Id: %+v", got)
	}
	if code, _ := get(t, info.Tunnel+"/admin"); code != http.StatusForbidden {
		t.Fatalf("/admin as an engineer: %d, want 403", code)
	}
	if code, _ := get(t, info.Gateway+"/api/hello"); code != http.StatusUnauthorized {
		t.Fatalf("the gateway without a token: %d, want 401", code)
	}
	if code, body := get(t, info.API+"/api/hello"); code != http.StatusOK || strings.Contains(body, `"user": "alice"`) {
		t.Fatalf("the bare API has no identity: %d %s", code, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("demo stop: %v", err)
	}
	if _, err := http.Get(info.Tunnel + "/api/hello"); err == nil {
		t.Fatal("the tunnel must be gone after stop")
	}
	if left, _ := os.ReadDir(os.TempDir()); len(left) != 0 {
		t.Fatalf("demo left temporary state behind: %v", left)
	}
}

func TestDemoAdminUser(t *testing.T) {
	info, stop := runDemo(t, "bob")
	defer stop()
	if code, body := get(t, info.Tunnel+"/admin/users"); code != http.StatusOK || !strings.Contains(body, `"user": "bob"`) {
		t.Fatalf("/admin as bob: %d %s", code, body)
	}
}

func TestDemoUnknownUser(t *testing.T) {
	err := Run(context.Background(), Options{User: "mallory"})
	if !errors.Is(err, ErrNoSuchUser) || !strings.Contains(err.Error(), "alice (engineer) and bob (admin)") {
		t.Fatalf("err = %v", err)
	}
}
