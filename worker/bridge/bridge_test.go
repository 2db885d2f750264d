package bridge

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/keyset"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

func engine(t testing.TB) *verify.Engine {
	t.Helper()
	p, err := policyfile.Parse([]byte(`issuer: https://issuer.example
audience: https://api.example.com
jwks_uri: https://issuer.example/keys
rules:
  - path: /public/**
    allow: anyone
default: deny
forward:
  X-Auth-User: sub
`))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := verify.NewEngine(p, verify.EngineOptions{KeySet: jose.NewStaticKeys()})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestDecideStripsEverySpelling: the names to strip are the request's own spellings, found
// whatever their case or underscores, so the shim deletes exactly what the client sent.
func TestDecideStripsEverySpelling(t *testing.T) {
	a := Decide(context.Background(), engine(t), Request{Method: "GET", Path: "/public/x", Headers: [][2]string{
		{"authorization", "Bearer x"}, {"x-auth-user", "mallory"}, {"x_auth_user", "mallory"},
		{"X_AUTH-USER", "mallory"}, {"x-auth-users", "kept"}, {"accept", "*/*"}, {"x-request-id", "trace-1"},
	}})
	if !a.Allow || a.Status != 200 {
		t.Fatalf("public path: %+v", a)
	}
	want := "authorization x-auth-user x_auth_user X_AUTH-USER"
	if got := strings.Join(a.Strip, " "); got != want {
		t.Errorf("strip %q, want %q", got, want)
	}
	if a.RequestID != "trace-1" || a.Set["X-Request-Id"] != "trace-1" || a.Path != "/public/x" {
		t.Errorf("request id %q, set %v, path %q", a.RequestID, a.Set, a.Path)
	}
	if strings.Contains(a.Audit, "Bearer") || !strings.Contains(a.Audit, `"decision":"allow"`) {
		t.Errorf("audit line %s", a.Audit)
	}
}

func TestDecideWire(t *testing.T) {
	eng := engine(t)
	cases := []struct {
		in     string
		status int
	}{
		{"GET\n/private", 403},
		{"GET\n/public/a\nx-request-id\na\"b", 200},
		{"GET\n/public/..%2fa", 400},
		{"GET", 400},
		{"GET\n/public/a\nx-only-a-name", 400},
	}
	for _, c := range cases {
		var a Answer
		if err := json.Unmarshal(DecideWire(context.Background(), eng, c.in), &a); err != nil {
			t.Fatalf("%q: the answer is not JSON: %v", c.in, err)
		}
		if a.Status != c.status {
			t.Errorf("%q: status %d, want %d (%s)", c.in, a.Status, c.status, a.Reason)
		}
		if c.status == 200 && len(a.RequestID) != 32 {
			t.Errorf("%q: an unsafe request id must be replaced, got %q", c.in, a.RequestID)
		}
	}
}

// TestAppendAnswer: the hand-written JSON decodes to the same Answer encoding/json would
// produce, for awkward strings too.
func TestAppendAnswer(t *testing.T) {
	a := Answer{Allow: true, Status: 200, WWWAuthenticate: `Bearer error="invalid_token"`, Reason: "r<>&\u2028\x01é\xff",
		Path: "/a%2e", Strip: []string{"authorization", "x_auth_user"}, Set: map[string]string{"X-Auth-User": "al\"ice", "X-Request-Id": "1"},
		RequestIDHeader: "X-Request-Id", RequestID: "1", Audit: `{"time":"x"}`,
		MemoUntil: 1_800_000_000_123, MemoValues: []string{"authorization", "cf-access-jwt-assertion"}, AuditTail: `"sub":"a"}`}
	var got, want Answer
	if err := json.Unmarshal(AppendAnswer(nil, &a), &got); err != nil {
		t.Fatal(err)
	}
	std, _ := json.Marshal(a)
	_ = json.Unmarshal(std, &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hand-written JSON decodes to %+v, encoding/json's to %+v", got, want)
	}
}

// TestKVKeySet: Workers KV refuses an expirationTtl under 60 s, and a stored key set comes
// back with the time left as its max-age, so verify refreshes it when the KV copy expires.
func TestKVKeySet(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	cases := []struct {
		cc   string
		want time.Duration
	}{
		{"max-age=10", time.Minute}, {"public, max-age=300", 5 * time.Minute}, {"", 15 * time.Minute},
		{"no-store", 15 * time.Minute}, {"max-age=999999", 24 * time.Hour}, {"max-age=abc", 15 * time.Minute},
	}
	for _, c := range cases {
		h := http.Header{}
		if c.cc != "" {
			h.Set("Cache-Control", c.cc)
		}
		val, ttl := KeySetToKV(&keyset.FetchResult{Status: 200, Header: h, Body: []byte(`{"keys":[]}`)}, now)
		if ttl != c.want {
			t.Errorf("%q: ttl %s, want %s", c.cc, ttl, c.want)
		}
		res, ok := KeySetFromKV(val, now.Add(30*time.Second))
		if !ok || string(res.Body) != `{"keys":[]}` || first(res.Header["Cache-Control"]) != "max-age="+itoa(int((c.want-30*time.Second)/time.Second)) {
			t.Errorf("%q: back from KV %v %+v", c.cc, ok, res)
		}
		if _, ok := KeySetFromKV(val, now.Add(c.want)); ok {
			t.Errorf("%q: an expired KV entry was used", c.cc)
		}
	}
	for _, bad := range []string{"", "{", `{"expires":1}`, `{"expires":99999999999,"body":""}`} {
		if _, ok := KeySetFromKV(bad, now); ok {
			t.Errorf("KeySetFromKV(%q) accepted", bad)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// FuzzStripped: every header whose name equals a stripped name ignoring ASCII case and
// '_'/'-' is stripped, and nothing else is.
func FuzzStripped(f *testing.F) {
	for _, s := range []string{"X-Auth-User", "x_auth_user", "X-AUTH_USER", "Authorization", "X-Auth-Users", "x-auth-use", "X\u212aAuth"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		names := []string{"Authorization", "X-Auth-User"}
		got := stripped([][2]string{{name, "v"}}, names)
		norm := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		want := false
		for _, n := range names {
			if len(name) == len(n) && norm == strings.ToLower(n) {
				want = true
			}
		}
		if (len(got) == 1) != want {
			t.Errorf("header %q stripped: %v, want %v", name, len(got) == 1, want)
		}
	})
}

// BenchmarkDecideWire is the Worker's per-request Go work measured natively (the wasm build
// runs the same code); the baseline is the engine's Decide alone on the same request.
func BenchmarkDecideWire(b *testing.B) {
	eng := engine(b)
	in := "GET\n/public/items\naccept\n*/*\nuser-agent\ncurl/8\nx-request-id\ntrace-1\nauthorization\nBearer x"
	b.Run("engine-decide", func(b *testing.B) {
		h := map[string][]string{"Accept": {"*/*"}, "User-Agent": {"curl/8"}, "X-Request-Id": {"trace-1"}, "Authorization": {"Bearer x"}}
		for b.Loop() {
			eng.Decide(context.Background(), verify.Request{Method: "GET", Path: "/public/items", Header: h, RequestID: "trace-1"})
		}
	})
	b.Run("bridge-wire", func(b *testing.B) {
		for b.Loop() {
			DecideWire(context.Background(), eng, in)
		}
	})
}
