package tunnel

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// logAttacks are request targets a web page can make a browser send to the tunnel, with the
// decoded path net/http hands the tunnel and what the text log must show for it.
var logAttacks = []struct {
	target, path, text string
}{
	{"/api/a%0a12:00:00%20GET%20/forged%20200", "/api/a\n12:00:00 GET /forged 200", `/api/a\n12:00:00\x20GET\x20/forged\x20200`},
	{"/api/%0d%0aSet:%20x", "/api/\r\nSet: x", `/api/\r\nSet:\x20x`},
	{"/api/%1b]0;pwned%07%1b[2J", "/api/\x1b]0;pwned\x07\x1b[2J", `/api/\x1b]0;pwned\x07\x1b[2J`},
	{"/api/%c2%9b31m", "/api/\u009b31m", `/api/\u{009b}31m`},
	{"/api/%e2%80%aetxt.exe", "/api/\u202etxt.exe", `/api/\u{202e}txt.exe`},
	{"/api/%e2%80%a8x", "/api/\u2028x", `/api/\u{2028}x`},
	{"/api/%ff%fe", "/api/\xff\xfe", `/api/\xff\xfe`},
	{"/api/%7f%09%5c", "/api/\x7f\t\\", `/api/\x7f\t\\`},
	{"/api/caf%c3%a9", "/api/café", `/api/café`},
}

// sendRaw sends one request with a raw target and extra header lines and reads the answer.
func sendRaw(t *testing.T, addr, method, target, extra string) {
	t.Helper()
	c := rawRequest(t, addr, method+" "+target+" HTTP/1.1\r\nHost: "+addr+extra+"\r\nConnection: close", "")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
}

// TestAccessLogEscapesAttackTable is issue 10 finding 5: through a running tunnel, for forwarded
// and refused (cross-site) requests, no path can add a line to the log or put a control
// character, a C1 or bidi control, or invalid UTF-8 on the engineer's terminal.
func TestAccessLogEscapesAttackTable(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			src := newTestSource(time.Minute)
			up := authUpstream(t, src, func(http.ResponseWriter, *http.Request) {})
			var out bytes.Buffer
			alog := NewAccessLog(&out, AccessLogOptions{JSON: format == "json", FlushEvery: time.Hour})
			tun := startTunnel(t, Options{Source: src, AccessLog: alog.Log, Routes: []Route{mustRoute(t, "/api", up.URL)}})
			addr := strings.TrimPrefix(tun.url, "http://")
			for _, a := range logAttacks {
				sendRaw(t, addr, "GET", a.target, "")
				sendRaw(t, addr, "POST", a.target, "\r\nSec-Fetch-Site: cross-site")
			}
			if err := alog.Close(); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != 2*len(logAttacks) {
				t.Fatalf("%d log lines for %d requests:\n%s", len(lines), 2*len(logAttacks), out.String())
			}
			for i, line := range lines {
				if bad := unsafeForTerminal(line); bad != "" {
					t.Errorf("line %d has %s: %q", i, bad, line)
				}
				a := logAttacks[i/2]
				if format == "text" && !strings.Contains(line, " "+a.text+" ") {
					t.Errorf("line %d = %q, want the path as %s", i, line, a.text)
				}
				if format == "json" {
					var e struct{ Path, Refused string }
					if err := json.Unmarshal([]byte(line), &e); err != nil || e.Path != strings.ToValidUTF8(a.path, "\ufffd\ufffd") && e.Path != a.path {
						t.Errorf("line %d = %q: path %q, %v; want %q", i, line, e.Path, err, a.path)
					}
				}
			}
		})
	}
}

// unsafeForTerminal names what a log line must never contain.
func unsafeForTerminal(s string) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\ufffd"):
			return "invalid UTF-8"
		case r < 0x20 || (r >= 0x7f && r < 0xa0):
			return "a control character"
		case unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			return "a format character"
		}
	}
	return ""
}

func FuzzAppendEscaped(f *testing.F) {
	for _, a := range logAttacks {
		f.Add(a.path)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text := string(AppendEscaped(nil, s))
		if bad := unsafeForTerminal(text); bad != "" || strings.ContainsAny(text, " \n") {
			t.Errorf("AppendEscaped(%q) = %q has %s", s, text, bad)
		}
		js := AppendJSONString(nil, s)
		if bad := unsafeForTerminal(string(js)); bad != "" {
			t.Errorf("AppendJSONString(%q) = %q has %s", s, js, bad)
		}
		var back string
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatalf("AppendJSONString(%q) = %s: %v", s, js, err)
		}
		var want strings.Builder
		for _, r := range s { // one U+FFFD per invalid byte, as encoding/json
			want.WriteRune(r)
		}
		if back != want.String() {
			t.Errorf("AppendJSONString(%q) decodes to %q", s, back)
		}
	})
}

// TestAccessLogFormatsAndFlushes pins the text and JSON layouts and that lines reach the output
// within the flush interval without Close.
func TestAccessLogFormatsAndFlushes(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	e := Entry{Time: at, Method: "GET", Path: "/v1/items", Status: 200, Bytes: 17, Latency: 1234 * time.Microsecond, Route: "/", Upstream: "api.example.com"}
	var text, js syncBuf
	tl := NewAccessLog(&text, AccessLogOptions{FlushEvery: 20 * time.Millisecond})
	jl := NewAccessLog(&js, AccessLogOptions{JSON: true, FlushEvery: 20 * time.Millisecond})
	tl.Log(e)
	jl.Log(e)
	refused := Entry{Time: at, Method: "POST", Path: "/x", Status: 403, Route: "-", Refused: "cross-site"}
	tl.Log(refused)
	jl.Log(refused)
	waitFor(t, 2*time.Second, func() bool { return strings.Count(text.String(), "\n") == 2 && strings.Count(js.String(), "\n") == 2 })
	wantText := "03:04:05 GET    /v1/items 200 1.2ms / → api.example.com\n03:04:05 POST   /x 403 0s refused: cross-site\n"
	if got := text.String(); got != wantText {
		t.Errorf("text log:\n%q\nwant\n%q", got, wantText)
	}
	wantJSON := `{"time":"2026-01-02T03:04:05.000006Z","method":"GET","path":"/v1/items","status":200,"bytes":17,"latency_ms":1.234,"route":"/","upstream":"api.example.com"}` + "\n" +
		`{"time":"2026-01-02T03:04:05.000006Z","method":"POST","path":"/x","status":403,"bytes":0,"latency_ms":0,"route":"-","refused":"cross-site"}` + "\n"
	if got := js.String(); got != wantJSON {
		t.Errorf("JSON log:\n%s\nwant\n%s", got, wantJSON)
	}
	_ = tl.Close()
	_ = jl.Close()
	_ = tl.Close() // twice is fine
}

type syncBuf struct{ logBuffer }

func (b *syncBuf) String() string { return b.logBuffer.String() }

// BenchmarkAccessLog is the per-request cost of a log line (no allocation expected).
func BenchmarkAccessLog(b *testing.B) {
	e := Entry{Time: time.Now(), Method: "GET", Path: "/api/items/1234", Status: 200, Bytes: 17, Latency: 900 * time.Microsecond, Route: "/", Upstream: "127.0.0.1:18101"}
	for _, json := range []bool{false, true} {
		l := NewAccessLog(io.Discard, AccessLogOptions{JSON: json})
		b.Run(map[bool]string{false: "text", true: "json"}[json], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l.Log(e)
			}
		})
		_ = l.Close()
	}
}

func TestAppendLatencyMatchesDurationString(t *testing.T) {
	var ds []time.Duration
	for _, d := range []time.Duration{0, -time.Second, 40 * time.Microsecond, 50 * time.Microsecond, 300 * time.Microsecond,
		999 * time.Microsecond, time.Millisecond, 1234 * time.Microsecond, 10 * time.Millisecond, 10050 * time.Microsecond,
		999960 * time.Microsecond, time.Second, 1500 * time.Millisecond, 2000100 * time.Microsecond, 59 * time.Second,
		61 * time.Second, 3 * time.Hour} {
		ds = append(ds, d)
	}
	for i := time.Duration(0); i < 70*time.Second; i += 7919 * time.Microsecond {
		ds = append(ds, i)
	}
	for _, d := range ds {
		want := d.Round(100 * time.Microsecond).String()
		if got := string(appendLatency(nil, d)); got != want {
			t.Errorf("appendLatency(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestAppendRFC3339NanoMatchesTimeFormat(t *testing.T) {
	l := &AccessLog{}
	base := time.Date(2026, 11, 30, 23, 59, 58, 0, time.UTC)
	for i := range 20000 {
		at := base.Add(time.Duration(i) * 104_729 * time.Nanosecond * 977) // crosses seconds, varied fractions
		if i%7 == 0 {
			at = at.Truncate(time.Millisecond)
		}
		want := at.Format(time.RFC3339Nano)
		if got := string(l.appendRFC3339Nano(nil, at)); got != want {
			t.Fatalf("appendRFC3339Nano(%v) = %q, want %q", at, got, want)
		}
	}
}
