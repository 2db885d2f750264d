// Package edgecases is the one request table that every deployment of the verification core
// must answer alike: the gateway (`pingedge edge serve`) and the Cloudflare Worker running in
// workerd. Tests start a server, point Run at it and compare; a deployment that drifts from
// the others (a path it normalises differently, a header it forgets to strip) fails here.
// It is test support: real provider tokens, raw HTTP/1.1 on loopback, no fakes.
package edgecases

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
)

// Policy is the policy the table assumes; format it with the issuer.
const Policy = `issuer: %s
audience: https://api.example.com
roles_claim: roles
rules:
  - path: /public/**
    allow: anyone
  - path: /admin/**
    roles: [admin]
  - path: /api/**
    roles: [engineer, admin]
default: deny
forward:
  X-Auth-User: sub
  X-Auth-Email: email
  X-Auth-Roles: roles
`

// StartOP runs the real in-process OpenID provider for a test (ES256 keeps minting fast under
// -race) and closes it when the test ends.
func StartOP(t testing.TB) *devop.Server {
	t.Helper()
	op, err := devop.Start(context.Background(), devop.Config{SigningAlg: "ES256"})
	if err != nil {
		t.Fatalf("start provider: %v", err)
	}
	t.Cleanup(func() { _ = op.Close() })
	return op
}

// Tokens are the provider-signed tokens the table uses.
type Tokens struct {
	Alice, Bob, WrongAudience, Tampered, Expired string
}

// Mint signs the table's tokens with op's current key.
func Mint(t testing.TB, op *devop.Server) Tokens {
	t.Helper()
	m := func(claims map[string]any, ttl time.Duration) string {
		tok, err := op.MintAccessToken(claims, ttl)
		if err != nil {
			t.Fatalf("mint: %v", err)
		}
		return tok
	}
	alice := MintUser(t, op, "alice", "engineer")
	return Tokens{
		Alice:         alice,
		Bob:           MintUser(t, op, "bob", "admin", "engineer"),
		WrongAudience: m(map[string]any{"sub": "alice", "aud": "https://other.example.com", "roles": []string{"admin"}}, time.Minute),
		Tampered:      alice[:len(alice)-4] + "AAAA",
		Expired:       m(map[string]any{"sub": "alice", "aud": op.Audience(), "roles": []string{"engineer"}, "exp": time.Now().Add(-time.Hour).Unix()}, time.Minute),
	}
}

// MintUser signs a one-minute token for sub with roles.
func MintUser(t testing.TB, op *devop.Server, sub string, roles ...string) string {
	t.Helper()
	tok, err := op.MintAccessToken(map[string]any{"sub": sub, "aud": op.Audience(),
		"email": sub + "@example.com", "roles": roles}, time.Minute)
	if err != nil {
		t.Fatalf("mint: %v", err)
	}
	return tok
}

// Case is one request and the answer every deployment must give.
type Case struct {
	Name, Method, Path string
	Header             func(Tokens) map[string]string
	Status             int
	Challenge          string // substring WWW-Authenticate must hold; "" means no header
	OriginPath         string // allowed requests: the decoded path the origin must see
	// OriginHeader: allowed requests: headers the origin must see exactly ("" = absent).
	OriginHeader map[string]string
}

func bearer(pick func(Tokens) string) func(Tokens) map[string]string {
	return func(tk Tokens) map[string]string { return map[string]string{"Authorization": "Bearer " + pick(tk)} }
}

var (
	alice = bearer(func(t Tokens) string { return t.Alice })
	bob   = bearer(func(t Tokens) string { return t.Bob })
	none  = func(Tokens) map[string]string { return nil }
)

// Result is what a deployment answered.
type Result struct {
	Status          int
	WWWAuthenticate string
	RequestID       string
	Origin          *Seen // nil when the origin was not reached
}

// Seen is what the echo origin received.
type Seen struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	RawPath string      `json:"raw_path"`
	Header  http.Header `json:"header"`
}

// EchoOrigin answers every request with what it received, as JSON.
func EchoOrigin(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", "1")
		_ = json.NewEncoder(w).Encode(Seen{r.Method, r.URL.Path, r.URL.RawPath, r.Header})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Do sends "method rawPath" over a fresh TCP connection exactly as written (no client library
// cleaning the path: the server must see an attack as the attacker sent it), header names
// verbatim too.
func Do(base, method, rawPath string, h map[string]string) (Result, error) {
	u, err := url.Parse(base)
	if err != nil {
		return Result{}, err
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	var b strings.Builder
	b.WriteString(method + " " + rawPath + " HTTP/1.1\r\nHost: " + u.Host + "\r\nConnection: close\r\n")
	for k, v := range h {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return Result{}, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return Result{}, fmt.Errorf("%s %s: %w", method, rawPath, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := Result{Status: resp.StatusCode, WWWAuthenticate: resp.Header.Get("WWW-Authenticate"), RequestID: resp.Header.Get("X-Request-Id")}
	if resp.Header.Get("X-Echo") == "1" {
		r.Origin = &Seen{}
		if err := json.Unmarshal(body, r.Origin); err != nil {
			return r, fmt.Errorf("origin answer %q: %w", body, err)
		}
	}
	return r, nil
}

// Run sends every case to base and checks each answer; it returns the answers by case name
// so a caller can compare deployments with each other too.
func Run(t *testing.T, base string, tk Tokens) map[string]Result {
	t.Helper()
	out := map[string]Result{}
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			r, err := Do(base, c.Method, c.Path, c.Header(tk))
			if err != nil {
				t.Fatal(err)
			}
			out[c.Name] = r
			if err := c.Check(r); err != nil {
				t.Error(err)
			}
		})
	}
	return out
}

// Check compares one answer with the case.
func (c Case) Check(r Result) error {
	var errs []string
	if r.Status != c.Status {
		errs = append(errs, fmt.Sprintf("status %d, want %d", r.Status, c.Status))
	}
	if got := r.WWWAuthenticate; !strings.Contains(got, c.Challenge) || (c.Challenge == "") != (got == "") {
		errs = append(errs, fmt.Sprintf("WWW-Authenticate %q, want one holding %q", got, c.Challenge))
	}
	if r.RequestID == "" {
		errs = append(errs, "no X-Request-Id on the response")
	}
	allowed := c.Status == http.StatusOK
	if allowed != (r.Origin != nil) {
		errs = append(errs, fmt.Sprintf("origin reached: %v, want %v", r.Origin != nil, allowed))
	}
	if r.Origin != nil {
		errs = append(errs, c.checkOrigin(r)...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s %s: %s", c.Method, c.Path, strings.Join(errs, "; "))
	}
	return nil
}

func (c Case) checkOrigin(r Result) []string {
	var errs []string
	if c.OriginPath != "" && r.Origin.Path != c.OriginPath {
		errs = append(errs, fmt.Sprintf("origin saw path %q, want %q", r.Origin.Path, c.OriginPath))
	}
	for k, want := range c.OriginHeader {
		got := r.Origin.Header.Values(k)
		if want == "" && len(got) > 0 || want != "" && (len(got) != 1 || got[0] != want) {
			errs = append(errs, fmt.Sprintf("origin saw %s = %q, want %q", k, got, want))
		}
	}
	for k := range r.Origin.Header {
		if strings.Contains(k, "_") || strings.EqualFold(k, "Authorization") {
			errs = append(errs, fmt.Sprintf("origin saw %s", k))
		}
	}
	if r.Origin.Header.Get("X-Request-Id") != r.RequestID {
		errs = append(errs, fmt.Sprintf("origin saw request id %q, client got %q", r.Origin.Header.Get("X-Request-Id"), r.RequestID))
	}
	return errs
}
