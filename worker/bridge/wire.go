package bridge

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/jose"
)

// The wire between the shim and Go avoids encoding/json: reflection-based JSON runs 20–50×
// slower in wasm than natively and was most of the Go time per request. The request comes in
// as lines (HTTP forbids CR and LF in header names and values, RFC 9110 §5.5, and the Fetch
// API's Headers enforce it), the answer goes out as JSON written by hand for the shim's
// JSON.parse.

// ParseWire reads "METHOD ORIGIN\nPATH\nname\nvalue\nname\nvalue...". ORIGIN (scheme://host,
// from the Worker's request URL) is what a DPoP proof's htu is checked against; a method has
// no space (RFC 9110 §9.1 token), so the first line without one has no origin.
func ParseWire(s string) (Request, error) {
	parts := strings.Split(s, "\n")
	if len(parts) < 2 || len(parts)%2 != 0 {
		return Request{}, errors.New("malformed request from the shim")
	}
	method, origin, _ := strings.Cut(parts[0], " ")
	r := Request{Method: method, Path: parts[1], Headers: make([][2]string, 0, len(parts)/2-1)}
	if origin != "" {
		r.URL = origin + parts[1]
	}
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
			b = jose.AppendJSONString(b, s)
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
			b = jose.AppendJSONString(b, k)
			b = append(b, ':')
			b = jose.AppendJSONString(b, v)
		}
		b = append(b, '}')
	}
	b = appendField(b, "request_id_header", a.RequestIDHeader, false)
	b = appendField(b, "request_id", a.RequestID, false)
	b = appendField(b, "audit", a.Audit, false)
	if a.MemoUntil != 0 {
		b = append(b, `,"memo_until":`...)
		b = strconv.AppendInt(b, a.MemoUntil, 10)
		b = append(b, `,"memo_values":[`...)
		for i, s := range a.MemoValues {
			if i > 0 {
				b = append(b, ',')
			}
			b = jose.AppendJSONString(b, s)
		}
		b = append(b, ']')
	}
	b = appendField(b, "audit_tail", a.AuditTail, true)
	b = appendField(b, "dpop_nonce", a.DPoPNonce, true)
	return append(b, '}')
}

func appendField(b []byte, name, v string, omitEmpty bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return jose.AppendJSONString(b, v)
}
