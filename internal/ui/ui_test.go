package ui

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

func TestQRRoundTripsThroughTheBitmap(t *testing.T) {
	const url = "https://auth.example.com/device?user_code=WDJB-MJHT"
	art, ok := QR(url, 120)
	if !ok {
		t.Fatal("a short URL must fit in 120 columns")
	}
	q, _ := qrcode.New(url, qrcode.Low)
	bm := q.Bitmap()
	lines := strings.Split(strings.TrimSuffix(art, "\n"), "\n")
	if len(lines) != (len(bm)+1)/2 {
		t.Fatalf("%d lines for %d module rows", len(lines), len(bm))
	}
	// Decode the half blocks back into modules and compare with the encoder's bitmap.
	for y, line := range lines {
		cells := []rune(line)
		if len(cells) != len(bm[0]) {
			t.Fatalf("line %d has %d cells, want %d", y, len(cells), len(bm[0]))
		}
		for x, c := range cells {
			top := c == ' ' || c == '▄'
			bottom := c == ' ' || c == '▀'
			if top != bm[2*y][x] || (2*y+1 < len(bm) && bottom != bm[2*y+1][x]) {
				t.Fatalf("module (%d,%d) drawn wrong: %q", x, 2*y, c)
			}
		}
	}
	if _, ok := QR(url, 20); ok {
		t.Fatal("a QR code wider than the terminal must not be drawn")
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestCountdown(t *testing.T) {
	var buf syncBuf
	start := time.Now()
	stop := Countdown(&buf, "waiting", start.Add(5*time.Minute), func() time.Time { return start.Add(28 * time.Second) }, New(&buf, false))
	time.Sleep(50 * time.Millisecond)
	stop()
	stop() // idempotent
	out := buf.String()
	if !strings.Contains(out, "waiting (code expires in 4m32s)") || !strings.HasSuffix(out, "\r\033[K") {
		t.Fatalf("%q", out)
	}
}

func TestColorDecision(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	var b bytes.Buffer
	if ColorEnabled(&b, get, false) {
		t.Fatal("a buffer is not a terminal")
	}
	env["NO_COLOR"] = "1"
	if ColorEnabled(&b, get, false) {
		t.Fatal("NO_COLOR")
	}
	s := New(&b, false)
	if got := s.Fail.Render("x"); got != "x" {
		t.Fatalf("plain styles must not emit escapes: %q", got)
	}
	var e bytes.Buffer
	s.RenderError(&e, Problem{What: "login failed", Why: "issuer down", Hint: "pingedge doctor"})
	if e.String() != "error: login failed\n  why: issuer down\n  try: pingedge doctor\n" {
		t.Fatalf("%q", e.String())
	}
}
