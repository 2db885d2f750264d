// Package demo runs the whole pingedge loop on loopback for a newcomer without a Ping tenant: a
// local OpenID issuer (internal/devop, the provider the tests use), a small API, the edge gateway
// in front of it with a demo policy, a real authorization code + PKCE login, and a tunnel.
// Everything lives in memory and temporary directories: nothing is left in the keychain or the
// config file when it stops.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/dpopkey"
	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/tunnel"
)

// Options configure a demo run.
type Options struct {
	Listen string       // tunnel address; default 127.0.0.1:0
	User   string       // who signs in: alice (engineer, default) or bob (admin)
	Logger *slog.Logger // operational events; nil discards
	// Ready is called once every piece is up, with the addresses to try.
	Ready func(Info)
	// AccessLog receives the tunnel's access-log entries; nil drops them.
	AccessLog func(tunnel.Entry)
	// Audit receives the gateway's audit JSON lines; nil drops them.
	Audit io.Writer
	// DPoP binds the demo's tokens to a key (RFC 9449): the gateway requires proofs, the login
	// and the tunnel sign them, and the token alone is refused (docs/dpop.md).
	DPoP bool
}

// Info is what the demo prints: where each piece listens and who is signed in.
type Info struct {
	Tunnel  string   `json:"tunnel"`
	Gateway string   `json:"gateway"`
	API     string   `json:"api"`
	Issuer  string   `json:"issuer"`
	User    string   `json:"user"`
	Roles   []string `json:"roles"`
	Policy  string   `json:"policy"` // the demo policy, as YAML
	// PolicyFile holds Policy while the demo runs, for `pingedge verify --policy` and inspect.
	PolicyFile string `json:"policy_file"`
	// ClientID and Audience let a person sign in to the demo issuer with `pingedge login`.
	ClientID string `json:"client_id"`
	Audience string `json:"audience"`
	// DPoP: the demo runs with dpop: required. Stolen is what the gateway answered when the
	// demo itself sent its bound token without a proof, as a thief who copied it would.
	DPoP   bool   `json:"dpop,omitempty"`
	Stolen string `json:"stolen_token_answer,omitempty"`
}

const profile = "demo"

// ErrNoSuchUser: Options.User names no demo user.
var ErrNoSuchUser = errors.New("no such demo user")

// Run starts everything, calls opts.Ready, and serves until ctx ends; then it stops every piece
// and removes its temporary state.
func Run(ctx context.Context, opts Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	state, err := os.MkdirTemp("", "pingedge-demo-")
	if err != nil {
		return fmt.Errorf("demo state dir: %w", err)
	}
	defer os.RemoveAll(state)

	op, err := devop.Start(ctx, devop.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("start the demo issuer: %w", err)
	}
	defer op.Close()
	user, err := pickUser(op, opts.User)
	if err != nil {
		return err
	}
	op.SetLoginUser(user.Subject)

	apiURL, stopAPI, err := serve(apiHandler())
	if err != nil {
		return fmt.Errorf("start the demo API: %w", err)
	}
	defer stopAPI()

	policy, policyFile := Policy(op.Issuer(), op.Audience()[0]), filepath.Join(state, "policy.yaml")
	var signer *dpopkey.Signer
	if opts.DPoP {
		policy += "dpop: required\n"
		if signer, err = newSigner(); err != nil {
			return err
		}
	}
	gwURL, stopGW, err := startGateway(ctx, policy, apiURL, policyFile, logger, opts.Audit)
	if err != nil {
		return fmt.Errorf("start the demo gateway: %w", err)
	}
	defer stopGW()

	src, err := signIn(ctx, op, state, logger, signer)
	if err != nil {
		return err
	}
	info := Info{
		Gateway: gwURL, API: apiURL, Issuer: op.Issuer(), User: user.Subject, Roles: user.Roles, Policy: policy,
		PolicyFile: policyFile, ClientID: op.ClientID(), Audience: op.Audience()[0], DPoP: opts.DPoP,
	}
	if opts.DPoP {
		if info.Stolen, err = tryStolen(ctx, src, gwURL); err != nil {
			return err
		}
	}
	return runTunnel(ctx, opts, src, gwURL, info, logger, signer)
}

func pickUser(op *devop.Server, name string) (devop.User, error) {
	users := op.Users()
	if name == "" {
		return users[0], nil
	}
	for _, u := range users {
		if u.Subject == name {
			return u, nil
		}
	}
	return devop.User{}, fmt.Errorf("%w %q: the demo users are alice (engineer) and bob (admin)", ErrNoSuchUser, name)
}

// signIn runs the real authorization code + PKCE login against the demo issuer, with the refresh
// token in memory (never the keychain) and the session in the demo's temporary state dir.
func signIn(ctx context.Context, op *devop.Server, state string, logger *slog.Logger, signer *dpopkey.Signer) (*login.Source, error) {
	store := credstore.Memory()
	hc := &http.Client{Timeout: 30 * time.Second}
	if signer != nil { // proofs on the code exchange and every refresh
		hc.Transport = &dpopkey.Transport{Signer: signer, IsToken: dpopkey.IsTokenRequest}
	}
	_, err := login.Login(ctx, login.Params{
		Profile: profile, Issuer: op.Issuer(), ClientID: op.ClientID(), Flow: login.FlowPKCE,
		Resource: op.Audience()[0], Timeout: time.Minute,
	}, login.Env{
		HTTP: hc, Now: time.Now, Sleep: login.SleepContext, Browser: newAutoBrowser(logger),
		CanOpenBrowser: true, Prompt: io.Discard, Store: store, StateDir: state,
	})
	if err != nil {
		return nil, fmt.Errorf("demo login: %w", err)
	}
	return login.NewSource(login.SourceConfig{Profile: profile, StateDir: state, Store: store, HTTP: hc, Now: time.Now})
}

func runTunnel(ctx context.Context, opts Options, src *login.Source, gwURL string, info Info, logger *slog.Logger, signer *dpopkey.Signer) error {
	route, err := tunnel.NewRoute("/", gwURL)
	if err != nil {
		return err
	}
	t, err := tunnel.New(tunnel.Options{
		Routes: []tunnel.Route{route}, Source: src, Profile: profile, Logger: logger, AccessLog: opts.AccessLog, DPoP: signer,
		IsLoginRequired: func(err error) bool { return errors.Is(err, login.ErrLoginRequired) },
	})
	if err != nil {
		return err
	}
	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := tunnel.Listen(listen, false)
	if err != nil {
		return fmt.Errorf("demo tunnel: %w", err)
	}
	info.Tunnel = "http://" + ln.Addr().String()
	if opts.Ready != nil {
		opts.Ready(info)
	}
	return t.Serve(ctx, ln)
}

// serve runs h on a fresh loopback port and returns its URL and a stop function.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

func newSigner() (*dpopkey.Signer, error) {
	k, err := dpopkey.Generate()
	if err != nil {
		return nil, err
	}
	return dpopkey.NewSigner(k)
}

// tryStolen sends the demo's bound token to the gateway without a proof, as Bearer, as someone
// who copied it from a log would, and returns the gateway's answer (status and challenge).
func tryStolen(ctx context.Context, src *login.Source, gwURL string) (string, error) {
	tok, err := src.Token(ctx, 0)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, gwURL+"/api/hello", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Value.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("demo: the stolen-token try: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate")), nil
}
