package bridge

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pingedge/pingedge/internal/verify"
)

// The wire between the shim and Go avoids encoding/json: reflection-based JSON runs 20–50×
// slower in wasm than natively and was most of the Go time per request. The request comes in
// as lines (HTTP forbids CR and LF in header names and values, RFC 9110 §5.5, and the Fetch
// API's Headers enforce it), the answer goes out as JSON written by hand for the shim's
// JSON.parse.

// ParseWire reads "METHOD\nPATH\nname\nvalue\nname\nvalue...".
func ParseWire(s string) (Request, error) {
	parts := strings.Split(s, "\n")
	if len(parts) < 2 || len(parts)%2 != 0 {
		return Request{}, errors.New("malformed request from the shim")
	}
	r := Request{Method: parts[0], Path: parts[1], Headers: make([][2]string, 0, len(parts)/2-1)}
	for i := 2; i < len(parts); i += 2 {
		r.Headers = append(r.Headers, [2]string{parts[i], parts[i+1]})
	}
	return r, nil
}

// DecideWire is Decide for the JS boundary: a wire request in, the Answer as JSON out. A
// request that does not parse is refused with 400 rather than passed on.
func DecideWire(ctx context.Context, eng *verify.Engine, in string) []byte {
	r, err := ParseWire(in)
	if err != nil {
		return AppendAnswer(nil, &Answer{Status: 400, Reason: "worker: request did not reach the core intact"})
	}
	a := Decide(ctx, eng, r)
	return AppendAnswer(make([]byte, 0, 512+len(a.Audit)), &a)
}

// AppendAnswer writes a as the JSON object the shim reads (the field names of Answer's tags).
func AppendAnswer(b []byte, a *Answer) []byte {
	b = append(b, `{"allow":`...)
	b = strconv.AppendBool(b, a.Allow)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(a.Status), 10)
	b = appendField(b, "www_authenticate", a.WWWAuthenticate, true)
	b = appendField(b, "reason", a.Reason, false)
	b = appendField(b, "path", a.Path, true)
	if len(a.Strip) > 0 {
		b = append(b, `,"strip":[`...)
		for i, s := range a.Strip {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		b = append(b, ']')
	}
	if len(a.Set) > 0 {
		b = append(b, `,"set":{`...)
		n := 0
		for k, v := range a.Set {
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, v)
		}
		b = append(b, '}')
	}
	b = appendField(b, "request_id_header", a.RequestIDHeader, false)
	b = appendField(b, "request_id", a.RequestID, false)
	b = appendField(b, "audit", a.Audit, false)
	return append(b, '}')
}

// appendAudit writes rec as the same JSON line verify.AuditRecord.WriteJSON writes, minus the
// newline (a test and a fuzz target compare them byte for byte). It is internal/edge's
// encoder, copied because edge imports net/http, which the wasm must not carry; it belongs in
// verify (reported).
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
	return append(b, '}')
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
			b = appendEscaped(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			start = i + size
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			start = i + size
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscaped(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}
