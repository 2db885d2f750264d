package ui

import (
	"strings"
	"unicode/utf8"
)

// Sanitize makes a string that came from outside pingedge (an issuer, a token, a request) safe to
// write to a terminal: every byte or rune that a terminal would act on instead of print is
// replaced by a visible Go-style escape, so "\x1b]0;pwned\a" prints as `\x1b]0;pwned\x07` and
// cannot retitle the window, clear the screen or rewrite the line above.
//
// Escaped: C0 controls including tab and newline (a value cannot forge a second output line),
// DEL, C1 controls U+0080–U+009F (8-bit CSI/OSC on some terminals), the Unicode bidi controls
// (the "Trojan Source" reorderings, CVE-2021-42574), the line and paragraph separators, and
// bytes that are not UTF-8. Everything else, accented letters and CJK included, is kept.
// The common clean case returns s itself without allocating.
func Sanitize(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			writeHex(&b, `\x`, uint32(s[i]), 2)
		case unsafeRune(r):
			writeEscape(&b, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// HasControl reports whether s holds anything Sanitize would escape. Tests that scan the CLI's
// output for raw control bytes use it line by line.
func HasControl(s string) bool { return firstUnsafe(s) >= 0 }

// SanitizeLines sanitizes each line of s and keeps the line breaks: for pingedge's own
// multi-line messages (a compiler's output inside an error) that may quote outside text.
func SanitizeLines(s string) string {
	if firstUnsafe(s) < 0 {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Sanitize(l)
	}
	return strings.Join(lines, "\n")
}

// SanitizeAll sanitizes each element, for lists such as scopes or audiences.
func SanitizeAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = Sanitize(s)
	}
	return out
}

// firstUnsafe returns the index of the first byte Sanitize must change, or -1.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || unsafeRune(r) {
			return i
		}
		i += size
	}
	return -1
}

// unsafeRune reports runes a terminal interprets: controls and bidi/line-layout formatting.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // arabic letter mark, LRM, RLM
		return true
	case r >= 0x2028 && r <= 0x202e: // line/paragraph separators, LRE RLE PDF LRO RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI RLI FSI PDI
		return true
	}
	return false
}

func writeEscape(b *strings.Builder, r rune) {
	switch r {
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	default:
		if r < 0x80 {
			writeHex(b, `\x`, uint32(r), 2)
		} else {
			writeHex(b, `\u`, uint32(r), 4)
		}
	}
}

func writeHex(b *strings.Builder, prefix string, v uint32, digits int) {
	const hex = "0123456789abcdef"
	b.WriteString(prefix)
	for shift := (digits - 1) * 4; shift >= 0; shift -= 4 {
		b.WriteByte(hex[(v>>uint(shift))&0xf])
	}
}
