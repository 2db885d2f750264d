package doctor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/devop"
)

func testEnv(t *testing.T, vars map[string]string) Env {
	t.Helper()
	return Env{
		GOOS:     "linux",
		Getenv:   func(k string) string { return vars[k] },
		ReadFile: os.ReadFile,
		Stat:     func(string) error { return os.ErrNotExist },
		HTTP:     &http.Client{Timeout: 10 * time.Second},
		Now:      time.Now,
		Profile:  "default",
		StateDir: t.TempDir(),
	}
}

func find(t *testing.T, checks []Check, name string) Check {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, checks)
	return Check{}
}

// The issuer checks run against a real OpenID provider on loopback.
func TestIssuerChecksAgainstRealProvider(t *testing.T) {
	ctx := context.Background()
	op, err := devop.Start(ctx, devop.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })

	env := testEnv(t, nil)
	env.Issuer = op.Issuer()
	checks := checkIssuer(ctx, env)
	if c := find(t, checks, "issuer discovery"); c.Status != Pass {
		t.Fatalf("discovery: %+v", c)
	}
	if c := find(t, checks, "issuer keys"); c.Status != Pass || !strings.Contains(c.Detail, "keys at") {
		t.Fatalf("keys: %+v", c)
	}
	if c := find(t, checks, "clock"); c.Status != Pass {
		t.Fatalf("clock in step: %+v", c)
	}

	// A clock two minutes fast makes tokens look expired early.
	env.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	c := find(t, checkIssuer(ctx, env), "clock")
	if c.Status != Fail || !strings.Contains(c.Detail, "ahead of") || c.Fix == "" {
		t.Fatalf("fast clock: %+v", c)
	}
	env.Now = func() time.Time { return time.Now().Add(-10 * time.Second) }
	if c := find(t, checkIssuer(ctx, env), "clock"); c.Status != Warn || !strings.Contains(c.Detail, "behind") {
		t.Fatalf("slow clock within leeway: %+v", c)
	}

	// Issuer outage: discovery fails with a fix.
	op.SetDown(true)
	c = find(t, checkIssuer(ctx, env), "issuer discovery")
	if c.Status != Fail || c.Fix == "" {
		t.Fatalf("issuer down: %+v", c)
	}
}

func TestIssuerSkippedWithoutProfile(t *testing.T) {
	checks := checkIssuer(context.Background(), testEnv(t, nil))
	if len(checks) != 1 || checks[0].Status != Skip || !strings.Contains(checks[0].Fix, "pingedge login") {
		t.Fatalf("%+v", checks)
	}
}

func TestKeychainMemoryRoundTrip(t *testing.T) {
	env := testEnv(t, nil)
	env.Keyring = credstore.NewMemoryBackend()
	if c := checkKeychain(context.Background(), env); c.Status != Pass {
		t.Fatalf("%+v", c)
	}
	if _, err := env.Keyring.Get(credstore.Service, probeItem); err == nil {
		t.Fatal("the probe item must be deleted after the check")
	}
}

// The real Secret Service, under the test harness (make test).
func TestKeychainSecretService(t *testing.T) {
	if os.Getenv("PINGEDGE_TEST_SECRET_SERVICE") != "1" {
		t.Skip("needs the Secret Service harness: run make test")
	}
	env := testEnv(t, nil)
	env.Keyring = credstore.OSBackend{}
	if c := checkKeychain(context.Background(), env); c.Status != Pass || !strings.Contains(c.Detail, "Secret Service") {
		t.Fatalf("%+v", c)
	}
}

type brokenBackend struct{ err error }

func (b brokenBackend) Get(string, string) (string, error) { return "", b.err }
func (b brokenBackend) Set(string, string, string) error   { return b.err }
func (b brokenBackend) Delete(string, string) error        { return b.err }

func TestKeychainFailureNamesTheCause(t *testing.T) {
	cases := []struct {
		name string
		vars map[string]string
		proc string
		bus  bool
		err  string
		want string
	}{
		{"wsl", map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}, "", true, "dbus: no such", "WSL"},
		{"wsl-proc", nil, "Linux version 5.15 microsoft-standard-WSL2", true, "x", "WSL"},
		{"no bus", nil, "Linux", false, "dbus: session bus not found", "no D-Bus session bus"},
		{"locked", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}, "Linux", true, "Cannot create an item in a locked collection", "locked"},
		{"no provider", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}, "Linux", true, "The name org.freedesktop.secrets was not provided", "Secret Service provider"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := testEnv(t, tc.vars)
			env.ReadFile = func(string) ([]byte, error) { return []byte(tc.proc), nil }
			if tc.bus {
				env.Stat = func(string) error { return nil }
			}
			env.Keyring = brokenBackend{errors.New(tc.err)}
			c := checkKeychain(context.Background(), env)
			if c.Status != Fail || !strings.Contains(c.Fix, tc.want) {
				t.Fatalf("want a fix naming %q: %+v", tc.want, c)
			}
			if tc.want != "locked" && !strings.Contains(c.Fix, "--store file") {
				t.Fatalf("the fix must offer the file store: %+v", c)
			}
		})
	}
}

func TestBrowser(t *testing.T) {
	if c := checkBrowser(testEnv(t, map[string]string{"BROWSER": "firefox"})); c.Status != Pass {
		t.Fatalf("%+v", c)
	}
	if c := checkBrowser(testEnv(t, map[string]string{"DISPLAY": ":0"})); c.Status != Pass {
		t.Fatalf("%+v", c)
	}
	if c := checkBrowser(testEnv(t, map[string]string{"SSH_CONNECTION": "1 2 3 4"})); c.Status != Warn || !strings.Contains(c.Detail, "device flow") {
		t.Fatalf("%+v", c)
	}
}

func TestProxy(t *testing.T) {
	env := testEnv(t, map[string]string{"HTTPS_PROXY": "http://user:hunter2@proxy.corp:3128", "NO_PROXY": "127.0.0.1"})
	env.Issuer = "https://auth.pingone.eu/env/as"
	c := checkProxy(env)
	if c.Status != Pass || !strings.Contains(c.Detail, "through http://user:xxxxx@proxy.corp:3128") || strings.Contains(c.Detail, "hunter2") {
		t.Fatalf("%+v", c)
	}
	env.Issuer = "http://127.0.0.1:9999"
	if c := checkProxy(env); !strings.Contains(c.Detail, "directly (NO_PROXY)") {
		t.Fatalf("%+v", c)
	}
	if c := checkProxy(testEnv(t, nil)); c.Status != Pass || !strings.Contains(c.Detail, "direct") {
		t.Fatalf("%+v", c)
	}
}

func TestCA(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	if c := checkCA(testEnv(t, map[string]string{"SSL_CERT_FILE": bad})); c.Status != Fail || c.Fix == "" {
		t.Fatalf("%+v", c)
	}
	if c := checkCA(testEnv(t, map[string]string{"SSL_CERT_FILE": filepath.Join(dir, "missing.pem")})); c.Status != Fail {
		t.Fatalf("%+v", c)
	}
	good := filepath.Join(dir, "good.pem")
	os.WriteFile(good, selfSigned(t), 0o600)
	if c := checkCA(testEnv(t, map[string]string{"SSL_CERT_FILE": good})); c.Status != Pass {
		t.Fatalf("%+v", c)
	}
}

func TestTokenNotLoggedIn(t *testing.T) {
	c := checkToken(context.Background(), testEnv(t, nil))
	if c.Status != Warn || c.Fix != "pingedge login --profile default" {
		t.Fatalf("%+v", c)
	}
}

func selfSigned(t *testing.T) []byte {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// A JWKS the edge could not use (only a symmetric key) fails the keys check, as it would fail
// every request at the edge.
func TestIssuerKeysUnusable(t *testing.T) {
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q,"jwks_uri":%q}`,
				base, base+"/authorize", base+"/token", base+"/keys")
			return
		}
		fmt.Fprint(w, `{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`)
	}))
	defer srv.Close()
	base = srv.URL
	env := testEnv(t, nil)
	env.Issuer = srv.URL
	c := find(t, checkIssuer(context.Background(), env), "issuer keys")
	if c.Status != Fail || !strings.Contains(c.Detail, "not usable") {
		t.Fatalf("%+v", c)
	}
}

// TestStoreCheckReportsTheProfilesStore: issue 12 item 9. A store: file profile is reported as
// such even where the keychain is broken; a keychain profile gets the keychain round trip.
func TestStoreCheckReportsTheProfilesStore(t *testing.T) {
	env := testEnv(t, nil)
	env.Keyring = brokenBackend{errors.New("The name org.freedesktop.secrets was not provided")}
	env.Profile, env.StoreKind, env.StoreDetail = "lab", credstore.KindFile, "plain-text file in /s/credentials (mode 0600)"
	c := checkStore(context.Background(), env)
	if c.Name != "credential store" || c.Status != Warn || !strings.Contains(c.Detail, "profile lab keeps its refresh token in plain-text file in /s/credentials") ||
		strings.Contains(c.Detail, "backend") {
		t.Fatalf("file store: %+v", c)
	}
	env.StoreKind = credstore.KindKeychain
	if c := checkStore(context.Background(), env); c.Name != "credential store" || c.Status != Fail || !strings.Contains(c.Fix, "--store file") {
		t.Fatalf("broken keychain for a keychain profile: %+v", c)
	}
	env.Keyring = nil
	if c := checkStore(context.Background(), env); c.Status != Fail || !strings.Contains(c.Detail, "no keychain backend") {
		t.Fatalf("no backend for a keychain profile: %+v", c)
	}
}
