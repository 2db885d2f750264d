package cli

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/ui"
)

// hangingIssuer accepts connections and never answers, like an issuer behind a black-holing
// firewall rule.
func hangingIssuer(t *testing.T) (issuer, host string) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	u, _ := url.Parse(srv.URL)
	return srv.URL, u.Host
}

// runWithHTTP runs a command in-process with the production progress transport around a client
// whose timeout is short enough for a test.
func runWithHTTP(t *testing.T, timeout time.Duration, args ...string) (int, string, string) {
	var out, errOut lockedBuffer
	f := &Factory{
		IO: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Getenv: func(k string) string {
			return map[string]string{"PINGEDGE_CONFIG": t.TempDir() + "/c.yaml", "NO_COLOR": "1"}[k]
		},
		Now: time.Now, Global: &GlobalOptions{},
		HTTP: withProgress(&http.Client{Timeout: timeout}, &errOut, 200*time.Millisecond),
	}
	code := Run(t.Context(), f, args)
	return code, out.String(), errOut.String()
}

// TestSlowIssuerIsAnnouncedAndNamed: issue 12 item 10. doctor --issuer and login against an
// issuer that never answers say what they wait for while they wait, and the timeout names the
// host that did not answer.
func TestSlowIssuerIsAnnouncedAndNamed(t *testing.T) {
	issuer, host := hangingIssuer(t)
	waiting := "pingedge: waiting for " + host + " (GET /.well-known/openid-configuration)…"
	named := regexp.MustCompile(`waited \ds for ` + regexp.QuoteMeta(host) + `: `)

	code, out, errOut := runWithHTTP(t, 1500*time.Millisecond, "doctor", "--issuer", issuer)
	if code != ExitFailed || !strings.Contains(errOut, waiting) || !named.MatchString(out) {
		t.Errorf("doctor: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	code, _, errOut = runWithHTTP(t, 1500*time.Millisecond, "login", "--issuer", issuer, "--client-id", "cli", "--flow", "device", "--store", "file")
	if code != ExitFailed || !strings.Contains(errOut, waiting) || !named.MatchString(errOut) {
		t.Errorf("login: exit %d\nstderr: %s", code, errOut)
	}
}

// TestFastRequestsStayQuiet: a request that answers within the delay prints nothing.
func TestFastRequestsStayQuiet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var errOut bytes.Buffer
	hc := withProgress(&http.Client{Timeout: time.Second}, &errOut, 200*time.Millisecond)
	resp, err := hc.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if errOut.Len() != 0 {
		t.Errorf("a fast request printed %q", errOut.String())
	}
}

// TestSpinnerOnATerminal: on a TTY the line is rewritten in place and cleared at the end.
func TestSpinnerOnATerminal(t *testing.T) {
	var w lockedBuffer
	done := ui.Progress(&w, true, "waiting for auth.example.com (GET /x)", 0)
	time.Sleep(350 * time.Millisecond)
	done()
	s := w.String()
	if strings.Count(s, "\r\033[K") < 3 || !strings.Contains(s, "⠋ waiting for auth.example.com (GET /x) (0s)") || !strings.HasSuffix(s, "\r\033[K") {
		t.Errorf("spinner output %q", s)
	}
}
