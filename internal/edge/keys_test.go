package edge

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
)

// fakeClock is the one fake these tests use: it lets a test step past the key set's refetch
// cooldown without sleeping 30 s.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// gatewayWithClock is gateway with a fake clock and a quick key retry.
func gatewayWithClock(t *testing.T, op *devop.Server) (*running, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Now()}
	origin := echoOrigin(t)
	u, _ := url.Parse(origin.URL)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, policy, strings.Replace(testPolicy, "%s", op.Issuer(), 1))
	return startEdge(t, Options{PolicyFile: policy, Origin: u, Now: clock.Now, KeyRetry: 50 * time.Millisecond}), clock
}

func ready(t *testing.T, rn *running) bool {
	resp, _ := do(t, "GET", rn.url, "/readyz", nil)
	return resp.StatusCode == 200
}

// TestKeyRotation: tokens signed by the previous and the new key both pass after a rotation,
// with one JWKS fetch for the rotation.
func TestKeyRotation(t *testing.T) {
	op := startOP(t)
	gw, clock := gatewayWithClock(t, op)
	waitFor(t, "keys loaded", func() bool { return ready(t, gw) })
	old := mint(t, op, "alice", "engineer")
	if resp, _ := do(t, "GET", gw.url, "/api/a", bearer(old)); resp.StatusCode != 200 {
		t.Fatalf("before rotation: %d", resp.StatusCode)
	}
	before := op.Stats().JWKSFetches
	op.RotateKey()
	fresh := mint(t, op, "alice", "engineer")
	clock.Advance(31 * time.Second) // past the refetch cooldown
	for _, tok := range []string{fresh, old, fresh} {
		if resp, body := do(t, "GET", gw.url, "/api/a", bearer(tok)); resp.StatusCode != 200 {
			t.Fatalf("after rotation: %d %s", resp.StatusCode, body)
		}
	}
	if n := op.Stats().JWKSFetches - before; n != 1 {
		t.Errorf("%d JWKS fetches for one rotation, want 1", n)
	}
}

// TestIssuerOutage: with the issuer down, the keys already held keep verifying (stale-if-error),
// readiness holds, and the failures show in the metrics.
func TestIssuerOutage(t *testing.T) {
	op := startOP(t)
	gw, clock := gatewayWithClock(t, op)
	waitFor(t, "keys loaded", func() bool { return ready(t, gw) })
	op.SetDown(true)
	clock.Advance(61 * time.Second) // the key set's refresh time (max-age, at least 1m) has passed
	tok, err := op.MintAccessToken(map[string]any{"sub": "bob", "aud": op.Audience(), "roles": []string{"engineer"}}, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range []string{tok, tok} {
		if resp, body := do(t, "GET", gw.url, "/api/a", bearer(tk)); resp.StatusCode != 200 {
			t.Fatalf("during outage: %d %s", resp.StatusCode, body)
		}
	}
	if !ready(t, gw) {
		t.Error("/readyz failed during the outage although keys are held")
	}
	snap := gw.Metrics().Snapshot()
	if snap.JWKSFetchFailures == 0 || snap.StaleKeyRefreshes == 0 {
		t.Errorf("outage not visible in metrics: %+v", snap)
	}
}

// TestIssuerDownAtStart: no keys yet means 503 (the edge's failure, not the client's) and
// /readyz 503, until the issuer comes back.
func TestIssuerDownAtStart(t *testing.T) {
	op := startOP(t)
	op.SetDown(true)
	gw, _ := gatewayWithClock(t, op)
	tok := mint(t, op, "alice", "engineer")
	if ready(t, gw) {
		t.Fatal("/readyz ready without keys")
	}
	if resp, _ := do(t, "GET", gw.url, "/api/a", bearer(tok)); resp.StatusCode != 503 {
		t.Fatalf("status %d without keys, want 503", resp.StatusCode)
	}
	// The warm-up goroutine logs its first failed fetch in its own time: wait for that line
	// before the issuer comes back, or a busy machine lets the first fetch succeed instead.
	waitFor(t, "the outage at start logged", func() bool {
		return strings.Contains(gw.logs.String(), "cannot load signing keys yet")
	})
	op.SetDown(false)
	waitFor(t, "keys loaded after the outage", func() bool { return ready(t, gw) })
	if resp, _ := do(t, "GET", gw.url, "/api/a", bearer(tok)); resp.StatusCode != 200 {
		t.Fatalf("status %d after recovery, want 200", resp.StatusCode)
	}
}

// TestUnknownKidFlood: hundreds of tokens naming kids the issuer never had must not become
// hundreds of JWKS fetches.
func TestUnknownKidFlood(t *testing.T) {
	op := startOP(t)
	gw, _ := gatewayWithClock(t, op)
	waitFor(t, "keys loaded", func() bool { return ready(t, gw) })
	parts := strings.Split(mint(t, op, "alice", "engineer"), ".")
	before := op.Stats().JWKSFetches
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for w := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				h := fmt.Sprintf(`{"alg":"ES256","typ":"at+jwt","kid":"forged-%d-%d"}`, w, i)
				tok := base64.RawURLEncoding.EncodeToString([]byte(h)) + "." + parts[1] + "." + parts[2]
				resp, _ := do(t, "GET", gw.url, "/api/a", bearer(tok))
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if statuses[401] != 300 {
		t.Errorf("statuses %v, want 300×401", statuses)
	}
	if n := op.Stats().JWKSFetches - before; n > 1 {
		t.Errorf("300 unknown kids caused %d JWKS fetches, want at most 1", n)
	}
}
