package edge

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// exampleCaddyfile is the Caddy config docs/edge.md shows; the test runs that very file.
const exampleCaddyfile = "../../docs/examples/Caddyfile"

// startCaddy renders the example Caddyfile with the test's addresses and runs Caddy (Debian's
// package, installed by scripts/setup.sh) with its state in a temp dir and no admin endpoint.
func startCaddy(t *testing.T, pingedge, origin string) string {
	t.Helper()
	bin, err := exec.LookPath("caddy")
	if err != nil {
		t.Fatal("caddy not found: run scripts/setup.sh (it installs Debian's caddy)")
	}
	raw, err := os.ReadFile(exampleCaddyfile)
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := fillExample(t, exampleCaddyfile, string(raw), map[string]string{
		"api.example.com {":              "http://127.0.0.1:" + port + " {",
		"forward_auth 127.0.0.1:9000 {":  "forward_auth " + pingedge + " {",
		"reverse_proxy 127.0.0.1:3000 {": "reverse_proxy " + strings.TrimPrefix(origin, "http://") + " {",
	})
	dir := t.TempDir()
	file := filepath.Join(dir, "Caddyfile")
	writeFile(t, file, "{\n\tadmin off\n\tauto_https off\n}\n\n"+conf)
	cmd := exec.Command(bin, "run", "--config", file, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	return runProxyProcess(t, "caddy", cmd, port, nil)
}

// TestCaddyForwardAuth: allow, 401 and 403 through a real Caddy with the documented Caddyfile,
// the identity arriving at the origin, forged identities and the token not.
func TestCaddyForwardAuth(t *testing.T) {
	alice, fa := forwardAuthFor(t, ProxyCaddy, nil)
	origin := echoOrigin(t)
	caddy := startCaddy(t, strings.TrimPrefix(fa.url, "http://"), origin.URL)

	resp, body := do(t, "GET", caddy, "/api/items?x=1", map[string]string{"Authorization": "Bearer " + alice, "X-Auth-User": "mallory"})
	if resp.StatusCode != 200 {
		t.Fatalf("allowed request: %d %s", resp.StatusCode, body)
	}
	s := originSaw(t, body)
	if got := s.Header.Values("X-Auth-User"); len(got) != 1 || got[0] != "alice" {
		t.Errorf("origin saw X-Auth-User %q, want alice", got)
	}
	if s.Header.Get("X-Auth-Roles") != "engineer" || s.Header.Get("Authorization") != "" {
		t.Errorf("origin headers: %v", s.Header)
	}
	resp, _ = do(t, "GET", caddy, "/api/items", nil)
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// Caddy returns pingedge's status as it is: a path refused as malformed stays a 400.
	for p, want := range map[string]int{"/admin/users": 403, "/api/../admin/users": 403, "/api/..%2Fadmin/users": 400} {
		if resp, _ = do(t, "GET", caddy, p, bearer(alice)); resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", p, resp.StatusCode, want)
		}
	}
	resp, body = do(t, "GET", caddy, "/public/info", map[string]string{"X-Auth-User": "mallory"})
	if resp.StatusCode != 200 {
		t.Fatalf("public path: %d %s", resp.StatusCode, body)
	}
	if got := originSaw(t, body).Header.Get("X-Auth-User"); got != "" {
		t.Errorf("a forged X-Auth-User reached the origin on a public path: %q", got)
	}
}

// TestCaddyConfigIsDocumented: docs/edge.md shows the tested Caddyfile, byte for byte.
func TestCaddyConfigIsDocumented(t *testing.T) {
	raw, err := os.ReadFile(exampleCaddyfile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/edge.md")
	if err != nil {
		t.Fatal(err)
	}
	body := string(raw[strings.Index(string(raw), "api.example.com {"):])
	if !strings.Contains(string(doc), body) {
		t.Error("docs/edge.md does not show docs/examples/Caddyfile as tested; paste it from `api.example.com {` on")
	}
}
