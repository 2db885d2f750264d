package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRefusedSlowBodyAnsweredAndClosed is issue 10, finding 3: a refused request that declares
// a body and never sends it got no answer (the server drained the body before the 401) and the
// connection stayed open. 200 such connections, against the gateway and forward-auth, must each
// get their refusal and see the connection closed within a couple of seconds.
func TestRefusedSlowBodyAnsweredAndClosed(t *testing.T) {
	_, gw := gateway(t)
	_, fa := forwardAuthFor(t, ProxyEnvoy, nil)
	for name, rn := range map[string]*running{"gateway": gw, "forward-auth": fa} {
		t.Run(name, func(t *testing.T) {
			u, _ := url.Parse(rn.url)
			start := time.Now()
			errs := make(chan error, 200)
			var wg sync.WaitGroup
			for i := range 200 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- slowBody(u.Host, fmt.Sprintf("POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nX-Request-Id: slow-%d\r\n\r\n", i), 401)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("200 refused slow bodies took %s", d)
			}
		})
	}
}

// slowBody sends head, never the body it declares, and expects status and then the
// connection closed, each within 3 s.
func slowBody(addr, head string, status int) error {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return fmt.Errorf("no answer to a request whose body never came: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != status {
		return fmt.Errorf("status %d, want %d", resp.StatusCode, status)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return fmt.Errorf("connection not closed after the refusal: %v", err)
	}
	return nil
}

// TestAllowedStalledBodyIsCut: an allowed upload may last while it sends, but one that stops
// is cut after BodyIdleTimeout, not held open forever.
func TestAllowedStalledBodyIsCut(t *testing.T) {
	op := startOP(t)
	origin := echoOrigin(t)
	u, _ := url.Parse(origin.URL)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, policy, strings.Replace(testPolicy, "%s", op.Issuer(), 1))
	gw := startEdge(t, Options{PolicyFile: policy, Origin: u, BodyIdleTimeout: 300 * time.Millisecond})
	alice := mint(t, op, "alice", "engineer")
	g, _ := url.Parse(gw.url)
	c, err := net.DialTimeout("tcp", g.Host, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	fmt.Fprintf(c, "POST /api/items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1000\r\n\r\nfirst bytes", alice)
	_, err = io.Copy(io.Discard, c) // whatever is answered, the connection must end
	if err != nil {
		t.Fatalf("stalled body: connection not closed: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stalled body held for %s", d)
	}
}

// TestEveryListenerHasReadDeadlines: the API and the operations listener are built by one
// function; each has a header deadline (slowloris), an idle deadline and a header size limit,
// and the body's per-read deadline is set by default.
func TestEveryListenerHasReadDeadlines(t *testing.T) {
	_, gw := gateway(t)
	for name, h := range map[string]http.Handler{"api": gw.Handler(true), "ops": gw.OpsHandler()} {
		srv := gw.httpServer(h)
		if srv.ReadHeaderTimeout <= 0 || srv.ReadHeaderTimeout > 30*time.Second || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
			t.Errorf("%s listener: header %s idle %s max header %d", name, srv.ReadHeaderTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
		}
	}
	if gw.opts.BodyIdleTimeout <= 0 || gw.opts.BodyIdleTimeout > time.Minute {
		t.Errorf("body idle timeout %s", gw.opts.BodyIdleTimeout)
	}
}
