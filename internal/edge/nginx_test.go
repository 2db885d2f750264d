package edge

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// exampleConf is the nginx config docs/edge.md shows; the test runs that very file.
const exampleConf = "../../docs/examples/nginx.conf"

// nginxBinary finds nginx; scripts/setup.sh installs Debian's nginx-light.
func nginxBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Fatal("nginx not found: run scripts/setup.sh (it installs nginx-light)")
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startNginx renders the example config with the test's addresses and runs nginx in the
// foreground with every path it writes inside a temp dir. It returns nginx's base URL.
func startNginx(t *testing.T, pingedge, origin string) string {
	t.Helper()
	raw, err := os.ReadFile(exampleConf)
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := fillExample(t, exampleConf, string(raw), map[string]string{
		"server 127.0.0.1:9000;":            "server " + pingedge + ";",
		"listen 8080;":                      "listen 127.0.0.1:" + port + ";",
		"proxy_pass http://127.0.0.1:3000;": "proxy_pass " + origin + ";",
	})
	prefix := t.TempDir()
	writeFile(t, filepath.Join(prefix, "pingedge.conf"), conf)
	return runNginx(t, "nginx", prefix, port, "pingedge.conf")
}

// runNginx starts nginx in the foreground with its prefix (every path it writes) in prefix and
// the server blocks of prefix/site, and returns its base URL once it listens on port.
func runNginx(t *testing.T, name, prefix, port, site string) string {
	t.Helper()
	main := strings.ReplaceAll(`master_process off;
worker_processes 1;
error_log PREFIX/error.log info;
pid PREFIX/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path PREFIX/body;
    proxy_temp_path PREFIX/proxy;
    fastcgi_temp_path PREFIX/fastcgi;
    uwsgi_temp_path PREFIX/uwsgi;
    scgi_temp_path PREFIX/scgi;
    include PREFIX/SITE;
}
`, "PREFIX", prefix)
	writeFile(t, filepath.Join(prefix, "nginx.conf"), strings.ReplaceAll(main, "SITE", site))
	cmd := exec.Command(nginxBinary(t), "-p", prefix, "-c", filepath.Join(prefix, "nginx.conf"), "-e", filepath.Join(prefix, "error.log"), "-g", "daemon off;")
	return runProxyProcess(t, name, cmd, port, func() string {
		log, _ := os.ReadFile(filepath.Join(prefix, "error.log"))
		return "\nerror.log:\n" + string(log)
	})
}

// TestNginxForwardAuth: allow, 401 and 403 through a real nginx with the documented config,
// the identity arriving at the origin and the token not.
func TestNginxForwardAuth(t *testing.T) {
	alice, fa := forwardAuth(t, nil)
	origin := echoOrigin(t)
	ngx := startNginx(t, strings.TrimPrefix(fa.url, "http://"), origin.URL)

	resp, body := do(t, "GET", ngx, "/api/items?x=1", map[string]string{"Authorization": "Bearer " + alice, "X-Auth-User": "mallory", "X_Auth_User": "mallory"})
	if resp.StatusCode != 200 {
		t.Fatalf("allowed request: %d %s", resp.StatusCode, body)
	}
	s := originSaw(t, body)
	if got := s.Header.Values("X-Auth-User"); len(got) != 1 || got[0] != "alice" {
		t.Errorf("origin saw X-Auth-User %q, want alice", got)
	}
	if s.Header.Get("X-Auth-Roles") != "engineer" || s.Header.Get("Authorization") != "" || s.Header.Get("X_Auth_User") != "" {
		t.Errorf("origin headers: %v", s.Header)
	}
	rid := s.Header.Get("X-Request-Id")

	resp, _ = do(t, "GET", ngx, "/api/items", nil)
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	resp, _ = do(t, "GET", ngx, "/api/items", bearer("not.a.token"))
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("bad token: %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	for _, p := range []string{"/admin/users", "/api/../admin/users", "/api/..%2Fadmin/users"} {
		if resp, _ = do(t, "GET", ngx, p, bearer(alice)); resp.StatusCode != 403 {
			t.Errorf("%s: %d, want 403", p, resp.StatusCode)
		}
	}
	resp, body = do(t, "GET", ngx, "/public/info", map[string]string{"X-Auth-User": "mallory"})
	if resp.StatusCode != 200 || originSaw(t, body).Header.Get("X-Auth-User") != "" {
		t.Errorf("public path: %d, origin saw X-Auth-User %q", resp.StatusCode, originSaw(t, body).Header.Get("X-Auth-User"))
	}

	fa.stop()
	if rid == "" || !strings.Contains(fa.audit.String(), `"request_id":"`+rid+`"`) {
		t.Errorf("nginx's request id %q is not in pingedge's audit:\n%s", rid, fa.audit)
	}
}

// TestNginxConfigIsDocumented: docs/edge.md shows the tested config, byte for byte.
func TestNginxConfigIsDocumented(t *testing.T) {
	raw, err := os.ReadFile(exampleConf)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/edge.md")
	if err != nil {
		t.Fatal(err)
	}
	body := string(raw[strings.Index(string(raw), "upstream pingedge"):])
	if !strings.Contains(string(doc), body) {
		t.Error("docs/edge.md does not show docs/examples/nginx.conf as tested; paste it from `upstream pingedge` on")
	}
}
