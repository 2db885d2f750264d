//go:build demo

package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/demo"
	"github.com/pingedge/pingedge/internal/devop"
)

// `pingedge demo -o json` prints its addresses on stdout, serves until cancelled, exits 0, and
// leaves no profile and no keychain item behind.
func TestDemoCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	keyring := credstore.NewMemoryBackend()
	outR, outW := io.Pipe()
	var errOut lockedBuffer
	f := &Factory{
		IO:     IOStreams{In: strings.NewReader(""), Out: outW, ErrOut: &errOut},
		Getenv: func(k string) string { return map[string]string{"PINGEDGE_CONFIG": cfg, "NO_COLOR": "1"}[k] },
		Now:    time.Now, HTTP: http.DefaultClient, Global: &GlobalOptions{}, Keyring: keyring,
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() { done <- Run(ctx, f, []string{"demo", "-o", "json"}); outW.Close() }()

	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no JSON line on stdout: %v; stderr: %s", err, errOut.String())
	}
	go io.Copy(io.Discard, outR)
	var info demo.Info
	if err := json.Unmarshal([]byte(line), &info); err != nil || info.Tunnel == "" {
		t.Fatalf("stdout %q: %v", line, err)
	}
	resp, err := http.Get(info.Tunnel + "/api/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"user": "alice"`) {
		t.Fatalf("/api/hello: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{"pingedge demo is running", "curl " + info.Tunnel + "/api/hello", "/admin"} {
		if !strings.Contains(errOut.String(), want) {
			t.Fatalf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("demo exit %d; stderr: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop on cancel")
	}
	if _, err := os.Stat(cfg); !os.IsNotExist(err) {
		t.Fatalf("demo wrote a config file: %v", err)
	}
	if _, err := keyring.Get(credstore.Service, "demo"); err == nil {
		t.Fatal("demo left a keychain item")
	}
}

// TestDemoPrintsAWorkingLogin: issue 12 item 4. The login line the demo prints signs in to the
// demo issuer, and the policy file it names decides requests for that token (verify allows
// /api/hello, inspect shows the denial of /admin for alice).
func TestDemoPrintsAWorkingLogin(t *testing.T) {
	outR, outW := io.Pipe()
	var errOut lockedBuffer
	f := &Factory{
		IO:     IOStreams{In: strings.NewReader(""), Out: outW, ErrOut: &errOut},
		Getenv: func(k string) string { return map[string]string{"NO_COLOR": "1"}[k] },
		Now:    time.Now, HTTP: http.DefaultClient, Global: &GlobalOptions{}, Keyring: credstore.NewMemoryBackend(),
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- Run(ctx, f, []string{"demo", "-o", "json"}); outW.Close() }()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no JSON line: %v; stderr: %s", err, errOut.String())
	}
	go io.Copy(io.Discard, outR)
	var info demo.Info
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); !strings.Contains(errOut.String(), "pingedge logout --profile demo") && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond) // the text goes to stderr after the JSON line
	}
	printed := regexp.MustCompile(`pingedge (login --profile demo --issuer \S+ --client-id \S+ --resource \S+)`).FindStringSubmatch(errOut.String())
	if printed == nil || !strings.Contains(errOut.String(), "--policy "+info.PolicyFile) {
		t.Fatalf("no login line or policy file in:\n%s", errOut.String())
	}

	e := newCLIEnv(t, devop.Config{}) // its scripted browser and keychain; the issuer is the demo's
	e.mustRun(strings.Fields(printed[1])...)
	tok, _ := e.mustRun("token", "--profile", "demo")
	if code, out, errOut := e.runIn(tok, "verify", "--policy", info.PolicyFile, "--path", "/api/hello", "-"); code != 0 || !strings.Contains(out, "allowed: by rule") {
		t.Errorf("verify with the demo policy: exit %d %s %s", code, out, errOut)
	}
	if code, out, _ := e.run("inspect", "--profile", "demo", "--policy", info.PolicyFile, "--path", "/admin/users"); code != 1 || !strings.Contains(out, "denied: 403") {
		t.Errorf("inspect /admin as alice: exit %d\n%s", code, out)
	}
	cancel()
	<-done
	if _, err := os.Stat(info.PolicyFile); !os.IsNotExist(err) {
		t.Errorf("the demo policy file outlived the demo: %v", err)
	}
}

// TestDemoFlagsMapToOptions: demo's flags reach its options (the -tags demo half of
// TestFlagsMapToOptions).
func TestDemoFlagsMapToOptions(t *testing.T) {
	f := &Factory{Global: &GlobalOptions{}, Getenv: func(string) string { return "" }}
	var ctx context.Context
	var dm *DemoOptions
	runMapped(t, NewCmdDemo(f, capture(&ctx, &dm)), &ctx, "--user", "bob", "--listen", "127.0.0.1:9")
	if dm.User != "bob" || dm.Listen != "127.0.0.1:9" {
		t.Errorf("demo: %+v", dm)
	}
}
