package tunnel

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Everything in an access-log line that a request controls (the decoded path above all; any web
// page can make a browser send one) is escaped before it is written: a "%0a" in the path must not
// start a forged log line, and "%1b]…%07" must not reach the engineer's terminal as an escape
// sequence. These appenders run once per request, so the common case (printable ASCII) is a
// single scan and copy.

const hexDigits = "0123456789abcdef"

// AppendEscaped appends s for a text log line: printable ASCII stays as it is; the backslash and
// the space (so one field stays one field) are escaped; control characters (C0, DEL, C1), Unicode
// format characters (bidirectional overrides, zero-width characters), line and paragraph
// separators and invalid UTF-8 become \n, \r, \t, \xNN or \u{NNNN}.
func AppendEscaped(dst []byte, s string) []byte {
	i := 0
	for i < len(s) && s[i] > ' ' && s[i] < 0x7f && s[i] != '\\' {
		i++
	}
	dst = append(dst, s[:i]...)
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = appendEscapedASCII(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		case unsafeRune(r):
			dst = appendUnicodeEscape(dst, r)
		default:
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

func appendEscapedASCII(dst []byte, c byte) []byte {
	switch {
	case c > ' ' && c < 0x7f && c != '\\':
		return append(dst, c)
	case c == '\\':
		return append(dst, '\\', '\\')
	case c == '\n':
		return append(dst, '\\', 'n')
	case c == '\r':
		return append(dst, '\\', 'r')
	case c == '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
}

// unsafeRune: C1 controls (U+0080–U+009F, which some terminals obey like ESC sequences), format
// characters (Cf: bidi overrides that reorder what the reader sees) and line/paragraph separators.
func unsafeRune(r rune) bool {
	return r < 0xa0 || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

func appendUnicodeEscape(dst []byte, r rune) []byte {
	dst = append(dst, '\\', 'u', '{')
	started := false
	for shift := 20; shift >= 0; shift -= 4 {
		d := (r >> shift) & 0xf
		if d != 0 || started || shift < 16 {
			dst, started = append(dst, hexDigits[d]), true
		}
	}
	return append(dst, '}')
}

// AppendJSONString appends s as a JSON string (RFC 8259 §7). Beyond what JSON requires, DEL, C1
// controls, format characters and U+2028/U+2029 are written as \u escapes, so a JSON log shown
// on a terminal is as inert as the text log; invalid UTF-8 becomes U+FFFD, as encoding/json does.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	i := 0
	for i < len(s) && s[i] >= ' ' && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' {
		i++
	}
	dst = append(dst, s[:i]...)
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = appendJSONASCII(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, `\ufffd`...)
		case unsafeRune(r):
			dst = appendJSONU(dst, r)
		default:
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

func appendJSONASCII(dst []byte, c byte) []byte {
	switch {
	case c == '"' || c == '\\':
		return append(dst, '\\', c)
	case c >= ' ' && c < 0x7f:
		return append(dst, c)
	case c == '\n':
		return append(dst, '\\', 'n')
	case c == '\r':
		return append(dst, '\\', 'r')
	case c == '\t':
		return append(dst, '\\', 't')
	}
	return appendJSONU(dst, rune(c))
}

func appendJSONU(dst []byte, r rune) []byte {
	if r > 0xffff { // a UTF-16 surrogate pair, as JSON spells characters beyond the BMP
		hi, lo := utf16.EncodeRune(r)
		return appendJSONU(appendJSONU(dst, hi), lo)
	}
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
