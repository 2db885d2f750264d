package edge

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The Traefik configuration docs/edge.md shows; the tests run these very files.
const (
	exampleTraefikStatic  = "../../docs/examples/traefik.yml"
	exampleTraefikDynamic = "../../docs/examples/traefik-dynamic.yml"
)

// traefikBinary finds traefik; scripts/setup.sh builds the pinned v3 release into GOPATH/bin.
func traefikBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("traefik"); err == nil {
		return p
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "traefik")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("traefik not found: run scripts/setup.sh (it builds the pinned Traefik v3)")
	return ""
}

// startTraefik renders both example files with the test's addresses and runs Traefik with them.
func startTraefik(t *testing.T, pingedge, origin string) string {
	t.Helper()
	bin := traefikBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	dynamic := filepath.Join(dir, "pingedge-dynamic.yml")
	raw, err := os.ReadFile(exampleTraefikDynamic)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dynamic, fillExample(t, exampleTraefikDynamic, string(raw), map[string]string{
		"address: http://127.0.0.1:9000/auth":                                 "address: http://" + pingedge + "/auth",
		"rule: Host(`api.example.com`)\n":                                     "rule: PathPrefix(`/`)\n",
		"rule: Host(`api.example.com`) && HeaderRegexp(`Upgrade`, `(?i)h2c`)": "rule: PathPrefix(`/`) && HeaderRegexp(`Upgrade`, `(?i)h2c`)",
		"url: http://127.0.0.1:3000":                                          "url: " + origin,
	}))
	raw, err = os.ReadFile(exampleTraefikStatic)
	if err != nil {
		t.Fatal(err)
	}
	static := filepath.Join(dir, "traefik.yml")
	writeFile(t, static, fillExample(t, exampleTraefikStatic, string(raw), map[string]string{
		`address: ":8080"`: `address: "127.0.0.1:` + port + `"`,
		"filename: /etc/traefik/pingedge-dynamic.yml": "filename: " + dynamic,
		// The one value changed besides addresses: TestProxySlowBodyRefused waits out this
		// bound on a body that never comes, in 2 s rather than the documented 60 s.
		"readTimeout: 60s": "readTimeout: 2s",
	}))
	cmd := exec.Command(bin, "--configFile="+static)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	base := runProxyProcess(t, "traefik", cmd, port, nil)
	// Traefik listens before the file provider's routers are in place: wait for a routed answer.
	waitFor(t, "traefik to route", func() bool {
		resp, _ := doQuiet(base, "/public/ready")
		return resp != nil && resp.StatusCode != 404
	})
	return base
}

// TestTraefikConfigIsDocumented: docs/edge.md shows both tested Traefik files, byte for byte.
func TestTraefikConfigIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/edge.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{exampleTraefikStatic, exampleTraefikDynamic} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body := string(raw)
		body = body[strings.Index(body, "\n\n")+2:] // from the first blank line on: the comment header names the test
		if !strings.Contains(string(doc), body) {
			t.Errorf("docs/edge.md does not show %s as tested; paste it from after its header comment", f)
		}
	}
}
