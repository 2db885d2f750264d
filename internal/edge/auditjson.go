package edge

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/pingedge/pingedge/internal/verify"
)

// appendAudit appends rec as the same JSON line verify.AuditRecord.WriteJSON writes (a test and
// a fuzz target compare them byte for byte), without reflection or allocation: the audit line
// is written on every request and encoding/json was the largest cost pingedge added to a
// proxied request.
func appendAudit(b []byte, rec *verify.AuditRecord) []byte {
	b = append(b, `{"time":"`...)
	b = rec.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, "request_id", rec.RequestID, true)
	b = appendField(b, "sub", rec.Subject, true)
	b = appendField(b, "client_id", rec.ClientID, true)
	b = appendField(b, "iss", rec.Issuer, true)
	b = appendField(b, "method", rec.Method, false)
	b = appendField(b, "path", rec.Path, false)
	b = appendField(b, "decision", rec.Decision, false)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(rec.Status), 10)
	b = appendField(b, "rule", rec.Rule, true)
	b = appendField(b, "reason", rec.Reason, false)
	if rec.Cached {
		b = append(b, `,"cached":true`...)
	}
	b = append(b, `,"latency_us":`...)
	b = strconv.AppendFloat(b, float64(rec.Latency.Nanoseconds())/1e3, 'f', -1, 64)
	return append(b, '}', '\n')
}

func appendField(b []byte, name, v string, omitEmpty bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s exactly as encoding/json does (HTML-safe escapes, invalid UTF-8 as
// U+FFFD, U+2028/U+2029 escaped).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
