package ui

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"WDJB-MJHT", "WDJB-MJHT"},
		{"José Müller 山田", "José Müller 山田"},
		{"https://idp.example.com/device?c=1", "https://idp.example.com/device?c=1"},
		{`C:\Users\me`, `C:\Users\me`},
		{"", ""},
		{"\x1b]0;pwned\x07\x1b[2J", `\x1b]0;pwned\x07\x1b[2J`},
		{"alice\nerror: forged line", `alice\nerror: forged line`},
		{"a\rb\tc", `a\rb\tc`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"c1 \u009b31m csi", `c1 \u009b31m csi`},
		{"\u202egnp.exe", `\u202egnp.exe`},
		{"x\u2066y\u2069z\u200f\u061c", `x\u2066y\u2069z\u200f\u061c`},
		{"line\u2028sep", `line\u2028sep`},
		{"bad\xffutf8\xc3", `bad\xffutf8\xc3`},
	} {
		if got := Sanitize(tc.in); got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSanitizeCleanStringDoesNotAllocate(t *testing.T) {
	s := "alice@example.com https://idp.example.com/as José"
	if n := testing.AllocsPerRun(100, func() { _ = Sanitize(s) }); n != 0 {
		t.Fatalf("%v allocations for a clean string", n)
	}
}

func TestSanitizeAll(t *testing.T) {
	got := SanitizeAll([]string{"openid", "x\x1b[2J"})
	if strings.Join(got, " ") != `openid x\x1b[2J` {
		t.Fatalf("%q", got)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "abc", "\x1b[31mred", "\u202e", "\xff\xfe", "\u009b", "日本\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Sanitize(s)
		if !utf8.ValidString(out) {
			t.Fatalf("output is not UTF-8: %q", out)
		}
		if HasControl(out) {
			t.Fatalf("control left in %q (from %q)", out, s)
		}
		if Sanitize(out) != out {
			t.Fatalf("not idempotent: %q", out)
		}
		if !HasControl(s) && out != s {
			t.Fatalf("a clean string was changed: %q -> %q", s, out)
		}
	})
}
