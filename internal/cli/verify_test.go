package cli

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
)

// runIn is run with stdin.
func (e *cliEnv) runIn(stdin string, args ...string) (int, string, string) {
	e.t.Helper()
	var out, errOut lockedBuffer
	f := &Factory{
		IO:     IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut},
		Getenv: func(k string) string { return e.env[k] },
		Now:    e.clock.Now, HTTP: defaultHTTPClient(), Global: &GlobalOptions{}, Keyring: e.keyring, Browser: e.browser(),
	}
	code := Run(e.t.Context(), f, args)
	return code, out.String(), errOut.String()
}

func writePolicy(t *testing.T, issuer string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	body := `issuer: ` + issuer + `
audience: ` + devop.DefaultAudience + `
roles_claim: roles
rules:
  - path: /admin/**
    roles: [admin]
  - path: /api/**
    scopes: [api:read]
default: deny
`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestVerifyCommand runs `pingedge verify` in-process against devop on loopback: the tokens
// are signed by a real OpenID provider and the keys come from its discovery and JWKS.
func TestVerifyCommand(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	iss, aud := e.op.Issuer(), devop.DefaultAudience
	mint := func(claims map[string]any, ttl time.Duration) string {
		tok, err := e.op.MintAccessToken(claims, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := mint(map[string]any{"sub": "alice", "aud": aud, "roles": []string{"engineer"}, "scope": "openid api:read"}, 0)
	expired := mint(map[string]any{"sub": "alice", "aud": aud, "exp": time.Now().Add(-time.Hour).Unix()}, 0)
	wrongAud := mint(map[string]any{"sub": "alice", "aud": "https://other.example.com"}, 0)
	policy := writePolicy(t, iss)
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	jwks := fetchBody(t, e.op.JWKSURI())
	if err := os.WriteFile(jwksFile, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"valid by issuer and audience", "", []string{"verify", "--issuer", iss, "--audience", aud, good}, 0, "valid", ""},
		{"valid from stdin", good + "\n", []string{"verify", "--issuer", iss, "--audience", aud, "-"}, 0, "subject  alice", ""},
		{"verbose logs the key fetch", "", []string{"verify", "-v", "--issuer", iss, "--audience", aud, good}, 0, "valid", "jwks loaded"},
		{"static JWKS file", "", []string{"verify", "--issuer", iss, "--audience", aud, "--jwks", jwksFile, good}, 0, "valid", ""},
		{"expired", "", []string{"verify", "--issuer", iss, "--audience", aud, expired}, 1, "invalid: token expired at", ""},
		{"wrong audience", "", []string{"verify", "--issuer", iss, "--audience", aud, wrongAud}, 1, "invalid: audience not accepted", ""},
		{"tampered", "", []string{"verify", "--issuer", iss, "--audience", aud, good[:len(good)-4] + "AAAA"}, 1, "invalid: signature invalid", ""},
		{"garbage", "", []string{"verify", "--issuer", iss, "--audience", aud, "not-a-token"}, 1, "invalid: malformed token", ""},
		{"policy allows", "", []string{"verify", "--policy", policy, "--path", "/api/items", good}, 0, "allowed: by rule rules[1] /api/**", ""},
		{"policy denies admin", "", []string{"verify", "--policy", policy, "--method", "DELETE", "--path", "/admin/x", good}, 1, "denied: 403 missing a required role", ""},
		{"policy default deny", "", []string{"verify", "--policy", policy, "--path", "/other", good}, 1, "denied: 403 denied by policy", ""},
		{"no token argument", "", []string{"verify", "--issuer", iss, "--audience", aud}, 2, "", "no token given"},
		{"empty stdin", "", []string{"verify", "--issuer", iss, "--audience", aud, "-"}, 2, "", "no token on stdin"},
		{"nothing to verify against", "", []string{"verify", good}, 2, "", "--policy FILE, or --issuer URL and --audience AUD"},
		{"policy and issuer", "", []string{"verify", "--policy", policy, "--issuer", iss, good}, 2, "", "not both"},
		{"method without path", "", []string{"verify", "--policy", policy, "--method", "POST", good}, 2, "", "--method needs --path"},
		{"missing policy file", "", []string{"verify", "--policy", policy + ".nope", good}, 2, "", "read policy"},
		{"bad JWKS file", "", []string{"verify", "--issuer", iss, "--audience", aud, "--jwks", policy, good}, 2, "", "invalid JWKS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := e.runIn(tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if strings.Contains(out+errOut, strings.Split(good, ".")[2]) {
				t.Fatal("the token's signature was printed")
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		code, out, _ := e.runIn("", "verify", "-o", "json", "--issuer", iss, "--audience", aud, expired)
		var res struct {
			Valid  bool
			Kind   string `json:"error_kind"`
			Reason string
			Claims map[string]any
		}
		if code != 1 || json.Unmarshal([]byte(out), &res) != nil || res.Valid || res.Kind != "expired" {
			t.Fatalf("exit %d: %s", code, out)
		}
		code, out, _ = e.runIn("", "verify", "-o", "json", "--policy", writePolicy(t, iss), "--path", "/api/x", good)
		if code != 0 || !strings.Contains(out, `"valid":true`) || !strings.Contains(out, `"allowed":true`) || !strings.Contains(out, `"sub":"alice"`) {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("bad policy names the line", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		_ = os.WriteFile(bad, []byte("issuer: "+iss+"\naudience: x\nrules:\n  - path: /a\n    methods: [FETCH]\n"), 0o600)
		code, _, errOut := e.runIn("", "verify", "--policy", bad, good)
		if code != 2 || !strings.Contains(errOut, "policy line 5: rules[0].methods[0]") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	t.Run("issuer down", func(t *testing.T) {
		e.op.SetDown(true)
		defer e.op.SetDown(false)
		code, out, _ := e.runIn("", "verify", "--issuer", iss, "--audience", aud, good)
		if code != 1 || !strings.Contains(out, "signing keys unavailable") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
}

// TestInspectCommand: layout, the --verify checklist, JSON, and the profile's own token.
func TestInspectCommand(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	iss, aud := e.op.Issuer(), devop.DefaultAudience
	tok, err := e.op.MintAccessToken(map[string]any{"sub": "bob", "aud": aud, "roles": []string{"admin", "engineer"}, "scope": "openid api:read"}, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	sig := strings.Split(tok, ".")[2]

	code, out, _ := e.runIn("", "inspect", tok)
	if !regexp.MustCompile(`exp +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(expires in (9m5\ds|10m)\)`).MatchString(out) {
		t.Errorf("exp not shown as a date and a countdown:\n%s", out)
	}
	for _, want := range []string{"Header", "alg", "RS256", "at+jwt", "Claims", "sub", "bob", "api:read", "roles  admin, engineer", "Signature", "(256 bytes, not shown in full)"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	if code != 0 || strings.Contains(out, sig) {
		t.Fatalf("exit %d, or the full signature was shown:\n%s", code, out)
	}

	code, out, _ = e.runIn(tok, "inspect", "--verify", "--issuer", iss, "--audience", "https://wrong.example.com", "-")
	if code != 1 || !strings.Contains(out, "✓ signature") || !strings.Contains(out, "✗ audience") || !strings.Contains(out, "invalid: audience not accepted") {
		t.Fatalf("checklist: exit %d\n%s", code, out)
	}
	code, out, _ = e.runIn("", "inspect", "--verify", "--issuer", iss, "--audience", aud, tok)
	if code != 0 || strings.Contains(out, "✗") || !strings.Contains(out, "✓ expiry") {
		t.Fatalf("all checks should pass: exit %d\n%s", code, out)
	}

	code, out, _ = e.runIn("", "inspect", "-o", "json", "--verify", "--issuer", iss, "--audience", aud, tok)
	var j struct {
		Header   map[string]any
		Claims   map[string]any
		Roles    []string
		Verified bool
		Checks   []struct {
			Name string
			OK   bool
		}
		Signature struct{ Bytes int }
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 || !j.Verified || len(j.Checks) != 10 ||
		j.Claims["sub"] != "bob" || j.Header["alg"] != "RS256" || j.Signature.Bytes != 256 || len(j.Roles) != 2 {
		t.Fatalf("json: exit %d err %v\n%s", code, err, out)
	}

	if code, _, errOut := e.runIn("", "inspect", "a.b"); code != 1 || !strings.Contains(errOut, "not a token pingedge can read") {
		t.Fatalf("garbage: exit %d %s", code, errOut)
	}
	// --issuer implies --verify, so an issuer without an audience is a usage error.
	if code, _, errOut := e.runIn("", "inspect", "--issuer", iss, tok); code != 2 || !strings.Contains(errOut, "--issuer URL and --audience AUD") {
		t.Fatalf("--issuer without --audience: exit %d %s", code, errOut)
	}
	// A decision against the real provider's token: the matched rule and the verdict.
	policy := writePolicy(t, iss)
	code, out, _ = e.runIn("", "inspect", "--policy", policy, "--method", "DELETE", "--path", "/admin/x", tok)
	if code != 0 || !strings.Contains(out, "Decision DELETE /admin/x") || !strings.Contains(out, "rules[0] /admin/**") || !strings.Contains(out, "✓ allowed") {
		t.Fatalf("inspect decision (bob is admin): exit %d\n%s", code, out)
	}
	code, out, _ = e.runIn("", "inspect", "--policy", policy, "--path", "/other", tok)
	if code != 1 || !strings.Contains(out, "rule  default") || !strings.Contains(out, "denied: 403") {
		t.Fatalf("inspect decision (default deny): exit %d\n%s", code, out)
	}
	if code, _, errOut := e.runIn("", "inspect", "a", "b"); code != 2 || !strings.Contains(errOut, "accepts at most 1 arg") {
		t.Fatalf("two args: exit %d %s", code, errOut)
	}

	// No argument: before login it is exit 4; after login it shows the profile's token.
	if code, _, errOut := e.runIn("", "inspect"); code != ExitLoginRequired || !strings.Contains(errOut, "pingedge login") {
		t.Fatalf("before login: exit %d %s", code, errOut)
	}
	e.mustRun(e.loginArgs()...)
	code, out, _ = e.runIn("", "inspect", "--verify", "--issuer", iss, "--audience", aud)
	if code != 0 || !strings.Contains(out, iss) || !strings.Contains(out, "✓ signature") {
		t.Fatalf("profile token: exit %d\n%s", code, out)
	}
}

func fetchBody(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := defaultHTTPClient().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}
