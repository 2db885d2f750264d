package demo

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDemoDPoP: `pingedge demo --dpop` signs in with proofs, the gateway requires DPoP, the
// tunnel's requests pass, and the token copied and sent alone was refused (Info.Stolen).
func TestDemoDPoP(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan Info, 1)
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, Options{DPoP: true, Ready: func(i Info) { ready <- i }}) }()
	var info Info
	select {
	case info = <-ready:
	case err := <-errc:
		cancel()
		t.Fatalf("demo --dpop did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("demo --dpop did not start within 30s")
	}
	defer func() { cancel(); <-errc }()
	if !info.DPoP || !strings.Contains(info.Policy, "dpop: required") {
		t.Fatalf("the demo policy does not require DPoP:\n%s", info.Policy)
	}
	if !strings.HasPrefix(info.Stolen, "401 DPoP ") {
		t.Fatalf("the token alone got %q, want a 401 DPoP challenge", info.Stolen)
	}
	for range 3 {
		if code, body := get(t, info.Tunnel+"/api/hello"); code != http.StatusOK || !strings.Contains(body, `"user": "alice"`) {
			t.Fatalf("/api/hello through the DPoP tunnel: %d %s", code, body)
		}
	}
}
