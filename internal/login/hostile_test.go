package login_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/hostileop"
	"github.com/pingedge/pingedge/internal/httpclient"
	"github.com/pingedge/pingedge/internal/login"
)

// hostile is a login against internal/hostileop over https, with a plain-http "other host"
// (the sink) that hostile redirects point at.
type hostile struct {
	t     *testing.T
	op    *hostileop.Server
	sink  *hostileop.Sink
	clock *clock
	sl    *sleeper
	out   *syncBuffer
	store credstore.Store
	state string
	hc    *http.Client
}

func newHostile(t *testing.T, cfg hostileop.Config) *hostile {
	t.Helper()
	cfg.TLS = true
	op, err := hostileop.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	sink := hostileop.StartSink()
	t.Cleanup(sink.Close)
	c := newClock()
	tlsCfg := op.Client().Transport.(*http.Transport).TLSClientConfig
	return &hostile{
		t: t, op: op, sink: sink, clock: c, sl: &sleeper{clock: c}, out: &syncBuffer{},
		store: &credstore.Keychain{Backend: credstore.NewMemoryBackend()}, state: t.TempDir(),
		hc: httpclient.New(httpclient.Config{TLS: tlsCfg.Clone(), Timeout: 10 * time.Second}),
	}
}

// plainClient is a client with Go's default redirect behaviour, the way one could be injected:
// login must apply the policy itself.
func (h *hostile) plainClient() *http.Client {
	return &http.Client{Transport: h.op.Client().Transport, Timeout: 10 * time.Second}
}

func (h *hostile) env(hc *http.Client, browser login.Browser) login.Env {
	return login.Env{
		HTTP: hc, Now: h.clock.Now, Sleep: h.sl.Sleep, Browser: browser, CanOpenBrowser: browser != nil,
		Prompt: h.out, Logf: func(f string, a ...any) { fmt.Fprintf(h.out, f+"\n", a...) }, Store: h.store, StateDir: h.state,
	}
}

func (h *hostile) params(flow string) login.Params {
	return login.Params{Profile: "p", Issuer: h.op.Issuer(), ClientID: hostileop.ClientID, Flow: flow, Timeout: 10 * time.Second, NoBrowser: flow == login.FlowDevice}
}

func (h *hostile) login(flow string, hc *http.Client, browser login.Browser) (*login.Result, error) {
	return login.Login(h.t.Context(), h.params(flow), h.env(hc, browser))
}

func (h *hostile) sourceConfig(hc *http.Client) login.SourceConfig {
	return login.SourceConfig{Profile: "p", StateDir: h.state, Store: h.store, HTTP: hc, Now: h.clock.Now,
		Logf: func(f string, a ...any) { fmt.Fprintf(h.out, f+"\n", a...) }}
}

// followingBrowser follows the authorize redirect into pingedge's loopback callback.
func (h *hostile) followingBrowser() login.Browser {
	tr := h.op.Client().Transport
	return login.BrowserFunc(func(_ context.Context, u string) error {
		go func() {
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			if resp, err := c.Get(u); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		return nil
	})
}

func (h *hostile) assertSinkUntouched() {
	h.t.Helper()
	if got := h.sink.Requests(); len(got) > 0 {
		h.t.Fatalf("the other host received %d request(s), first: %.120q", len(got), got[0])
	}
}

var redirectCodes = []int{301, 302, 303, 307, 308}

// TestHostileTokenRedirectOnRefresh: a token endpoint that answers a refresh with a redirect to
// plain http on another host gets neither the refresh token nor a chance to plant its own.
func TestHostileTokenRedirectOnRefresh(t *testing.T) {
	for _, code := range redirectCodes {
		for name, hc := range map[string]func(*hostile) *http.Client{
			"policy client": func(h *hostile) *http.Client { return h.hc }, "injected plain client": (*hostile).plainClient,
		} {
			t.Run(fmt.Sprintf("%d %s", code, name), func(t *testing.T) {
				h := newHostile(t, hostileop.Config{})
				if _, err := h.login(login.FlowDevice, hc(h), nil); err != nil {
					t.Fatal(err)
				}
				before, _ := h.store.Get(t.Context(), "p")
				h.op.SetRedirect("token", hostileop.Redirect{Code: code, Location: h.sink.URL() + "/steal"})
				src, err := login.NewSource(h.sourceConfig(hc(h)))
				if err != nil {
					t.Fatal(err)
				}
				h.clock.Add(2 * time.Hour) // the access token has expired: the next Token refreshes
				_, err = src.Token(t.Context(), 0)
				if err == nil || !strings.Contains(err.Error(), "redirected") || !strings.Contains(err.Error(), strings.TrimPrefix(h.sink.URL(), "http://")) {
					t.Fatalf("refresh: %v", err)
				}
				after, _ := h.store.Get(t.Context(), "p")
				if after != before {
					t.Fatal("the stored refresh token changed: session fixation")
				}
				h.assertSinkUntouched()
			})
		}
	}
}

// TestHostileTokenRedirectAtLogin: the authorization code and code_verifier never follow a
// redirect of the token endpoint (PKCE), nor the device code (device flow).
func TestHostileTokenRedirectAtLogin(t *testing.T) {
	for _, flow := range []string{login.FlowPKCE, login.FlowDevice} {
		for _, code := range redirectCodes {
			t.Run(fmt.Sprintf("%s %d", flow, code), func(t *testing.T) {
				h := newHostile(t, hostileop.Config{})
				h.op.SetRedirect("token", hostileop.Redirect{Code: code, Location: h.sink.URL() + "/steal"})
				_, err := h.login(flow, h.plainClient(), h.followingBrowser())
				if err == nil || !strings.Contains(err.Error(), "token endpoint") || !strings.Contains(err.Error(), "redirected") {
					t.Fatalf("login: %v", err)
				}
				h.assertSinkUntouched()
			})
		}
	}
}

// TestHostileRevocationRedirect: logout does not claim a revocation that was redirected, and the
// tokens do not travel to the other host.
func TestHostileRevocationRedirect(t *testing.T) {
	h := newHostile(t, hostileop.Config{})
	if _, err := h.login(login.FlowDevice, h.hc, nil); err != nil {
		t.Fatal(err)
	}
	h.op.SetRedirect("revocation", hostileop.Redirect{Code: 307, Location: h.sink.URL() + "/steal"})
	res, err := login.Logout(t.Context(), h.sourceConfig(h.plainClient()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Revoked) != 0 || len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "redirected") || !res.Deleted {
		t.Fatalf("%+v", res)
	}
	h.assertSinkUntouched()
}

// TestHostileDiscoveryRedirect: discovery may move within https, never to plain http elsewhere.
func TestHostileDiscoveryRedirect(t *testing.T) {
	h := newHostile(t, hostileop.Config{})
	h.op.SetRedirect("discovery", hostileop.Redirect{Code: 302, Location: "http://pingedge-sink.example/.well-known/openid-configuration"})
	_, err := login.Discover(t.Context(), h.plainClient(), h.op.Issuer())
	if err == nil || !strings.Contains(err.Error(), "pingedge-sink.example") || !strings.Contains(err.Error(), "https") {
		t.Fatalf("discovery: %v", err)
	}
	var te *login.TransientError
	if errorsAs(err, &te) {
		t.Fatal("a refused redirect is not a network blip")
	}
}

// keep tls imported for the TLS config clone above on every Go version
var _ = tls.VersionTLS12

func errorsAs(err error, target any) bool { return errors.As(err, target) }
