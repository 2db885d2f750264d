package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
)

// TestEdgeServeCommand runs `pingedge edge serve --origin` in-process against devop and an
// origin on loopback: flags reach the server, the audit line goes to stdout and the logs to
// stderr, and cancelling the context (SIGINT/SIGTERM in real use) ends it with exit 0.
func TestEdgeServeCommand(t *testing.T) {
	op, err := devop.Start(context.Background(), devop.Config{SigningAlg: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello "+r.Header.Get("X-Auth-User"))
	}))
	defer origin.Close()
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("issuer: "+op.Issuer()+"\naudience: https://api.example.com\n"+
		"default: authenticated\nforward:\n  X-Auth-User: sub\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut lockedBuffer
	f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Getenv: func(string) string { return "" }, Now: time.Now,
		HTTP: &http.Client{Timeout: 10 * time.Second}, Global: &GlobalOptions{}}
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, f, []string{"edge", "serve", "--policy", policy, "--origin", origin.URL, "--listen", "127.0.0.1:0"})
	}()
	addr := regexp.MustCompile(`addr=(http://127\.0\.0\.1:\d+)`)
	var base string
	deadline := time.Now().Add(10 * time.Second)
	for base == "" && time.Now().Before(deadline) {
		if m := addr.FindStringSubmatch(errOut.String()); m != nil {
			base = m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if base == "" {
		cancel()
		t.Fatalf("no listen address on stderr:\n%s", errOut.String())
	}
	tok, _ := op.MintAccessToken(map[string]any{"sub": "alice", "aud": op.Audience()}, time.Minute)
	req, _ := http.NewRequest("GET", base+"/anything", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello alice" {
		t.Errorf("through the gateway: %d %q", resp.StatusCode, body)
	}
	cancel()
	select {
	case c := <-code:
		if c != ExitOK {
			t.Errorf("exit code %d after shutdown, want 0\n%s", c, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("edge serve did not stop when its context ended")
	}
	if !strings.Contains(out.String(), `"decision":"allow"`) || strings.Contains(out.String(), "level=") {
		t.Errorf("stdout should hold only audit lines:\n%s", out.String())
	}
	if strings.Contains(out.String()+errOut.String(), tok) {
		t.Error("the token was printed")
	}
}
