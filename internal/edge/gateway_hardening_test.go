package edge

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestGatewayStripsMethodOverrideAndH2C is issue 10, finding 7: the policy decided on the
// request line's method, so no override header in any spelling reaches the origin, on a
// public path too; and an "Upgrade: h2c" offer is not passed on (h2c smuggling), while the
// request itself still is.
func TestGatewayStripsMethodOverrideAndH2C(t *testing.T) {
	op, gw := gateway(t)
	alice := mint(t, op, "alice", "engineer")
	overrides := map[string]string{"X-HTTP-Method-Override": "DELETE", "x-method-override": "DELETE",
		"X_HTTP_Method": "DELETE", "X_Http_Method_Override": "DELETE"}
	for _, p := range []struct {
		path string
		h    map[string]string
	}{{"/public/info", nil}, {"/api/items", bearer(alice)}} {
		resp, body := do(t, "POST", gw.url, p.path, with(with(p.h), flatten(overrides)...))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", p.path, resp.StatusCode, body)
		}
		for k := range originSaw(t, body).Header {
			if strings.Contains(strings.ToLower(strings.ReplaceAll(k, "_", "-")), "method") {
				t.Errorf("%s: the origin got %s", p.path, k)
			}
		}
	}
	resp, body := do(t, "GET", gw.url, "/public/info", map[string]string{"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"})
	if resp.StatusCode != 200 {
		t.Fatalf("h2c offer: %d %s", resp.StatusCode, body)
	}
	if s := originSaw(t, body); s.Header.Get("Upgrade") != "" || s.Header.Get("Http2-Settings") != "" {
		t.Errorf("the h2c offer reached the origin: %v", s.Header)
	}
}

func flatten(m map[string]string) []string {
	var kv []string
	for k, v := range m {
		kv = append(kv, k, v)
	}
	return kv
}

// TestMetricsOnlyOnLoopback: beside the API, /metrics is served on a loopback listener only;
// on a public one it is decided by the policy like any path (default deny here), while
// /healthz stays for load balancers.
func TestMetricsOnlyOnLoopback(t *testing.T) {
	op := startOP(t)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, policy, strings.Replace(testPolicy, "%s", op.Issuer(), 1))
	srv, err := New(Options{PolicyFile: policy, ForwardAuth: ProxyEnvoy})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "0.0.0.0:0") // every interface: not loopback-only
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	defer func() { cancel(); <-done }()
	url := "http://127.0.0.1:" + portOf(ln.Addr())
	waitFor(t, "listener", func() bool {
		c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		ok := err == nil
		if ok {
			c.Close()
		}
		return ok
	})
	if resp, body := do(t, "GET", url, "/metrics", nil); resp.StatusCode == 200 || strings.Contains(string(body), "pingedge_") {
		t.Errorf("/metrics on a public listener: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, "GET", url, "/healthz", nil); resp.StatusCode != 200 {
		t.Errorf("/healthz on a public listener: %d", resp.StatusCode)
	}
}

func portOf(a net.Addr) string {
	return strings.TrimPrefix(a.String()[strings.LastIndex(a.String(), ":"):], ":")
}

// TestGatewayStripsAlternativePaths: X-Original-URL and X-Rewrite-URL never reach the origin,
// which might serve the path they name (Symfony, Zend) instead of the one the policy decided.
func TestGatewayStripsAlternativePaths(t *testing.T) {
	op, gw := gateway(t)
	resp, body := do(t, "GET", gw.url, "/api/items", with(bearer(mint(t, op, "alice", "engineer")),
		"X-Original-URL", "/admin/users", "x_rewrite_url", "/admin/users"))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for k := range originSaw(t, body).Header {
		if f := strings.ToLower(strings.ReplaceAll(k, "_", "-")); f == "x-original-url" || f == "x-rewrite-url" {
			t.Errorf("the origin got %s", k)
		}
	}
}
