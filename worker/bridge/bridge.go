// Package bridge is the Worker's request/decision mapping, kept free of syscall/js so it is
// tested natively: the JS shim hands a request over as JSON, bridge runs the verification core
// and answers with everything the shim applies (status, challenge, headers to strip and set,
// the path the origin gets, the audit line). Its rules are the gateway's (internal/edge), so
// the Worker and `pingedge edge serve` make the same decisions for the same requests.
package bridge

import (
	"context"

	"github.com/pingedge/pingedge/internal/verify"
)

// Request is what the shim sends: the method, the raw path (escaped form, with the query) and
// the request's headers as name/value pairs (a Fetch API Headers object lower-cases names and
// joins repeated ones with ", ").
type Request struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Headers [][2]string `json:"headers"`
	URL     string      `json:"url,omitempty"` // origin + raw path, for DPoP's htu; "" when unknown
}

// Answer is what the shim applies.
type Answer struct {
	Allow           bool   `json:"allow"`
	Status          int    `json:"status"`
	WWWAuthenticate string `json:"www_authenticate,omitempty"`
	Reason          string `json:"reason"`
	// Path is the normalised path the rules matched (escaped form); the origin gets it, not the
	// raw one, so an origin that normalises differently cannot be reached on a path the policy
	// never saw.
	Path string `json:"path,omitempty"`
	// Strip lists the request's own header names to delete: Authorization, the token header and
	// every client-sent copy of an identity header under any case or with '_' for '-'.
	Strip []string `json:"strip,omitempty"`
	// Set are the identity headers and the request id for the origin.
	Set             map[string]string `json:"set,omitempty"`
	RequestIDHeader string            `json:"request_id_header"`
	RequestID       string            `json:"request_id"`
	// Audit is the decision's audit record as one JSON line (never the token).
	Audit string `json:"audit"`
	// Memo, when set, lets the shim answer the same request again without entering Go (see
	// memo.go): until MemoUntil (Unix milliseconds), keyed by the method, the raw path, every
	// header name and the values of the MemoValues headers.
	MemoUntil  int64    `json:"memo_until,omitempty"`
	MemoValues []string `json:"memo_values,omitempty"`
	// AuditTail is the audit line after its request_id field, for the shim's memo answers.
	AuditTail string `json:"audit_tail,omitempty"`
	// DPoPNonce goes out as the DPoP-Nonce header of a use_dpop_nonce refusal (RFC 9449 §8).
	DPoPNonce string `json:"dpop_nonce,omitempty"`
}

// Decide runs one request through the engine.
func Decide(ctx context.Context, eng *verify.Engine, r Request) Answer {
	h := make(map[string][]string, len(r.Headers))
	for _, kv := range r.Headers {
		k := verify.CanonicalHeaderKey(kv[0])
		h[k] = append(h[k], kv[1])
	}
	idHeader := eng.Policy().RequestIDHeader
	rid := verify.RequestID(first(h[verify.CanonicalHeaderKey(idHeader)]))
	d := eng.Decide(ctx, verify.Request{Method: r.Method, Path: r.Path, Header: h, RequestID: rid, URL: r.URL})
	a := Answer{
		Allow: d.Allow, Status: d.Status, WWWAuthenticate: d.WWWAuthenticate, Reason: d.Reason,
		RequestIDHeader: idHeader, RequestID: rid, Audit: string(d.Audit.AppendJSON(make([]byte, 0, 384))),
		DPoPNonce: d.DPoPNonce,
	}
	if !d.Allow {
		return a
	}
	a.Path = d.Path
	a.Strip = stripped(r.Headers, d.StripHeaders)
	a.Set = make(map[string]string, len(d.SetHeaders)+1)
	for k, v := range d.SetHeaders {
		a.Set[k] = v
	}
	a.Set[idHeader] = rid
	if first(h[verify.CanonicalHeaderKey(idHeader)]) == "" {
		memo(&a, eng.Policy(), &d)
	}
	return a
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// stripped returns the names among the request's headers that match one of names, compared
// as the gateway does: ASCII case-insensitively with '_' equal to '-', because CGI-style
// origins (PHP, WSGI, Rack) read X_Auth_User and X-Auth-User as the same variable.
func stripped(headers [][2]string, names []string) []string {
	var out []string
	for _, kv := range headers {
		for _, n := range names {
			if verify.SameHeaderName(kv[0], n) {
				out = append(out, kv[0])
				break
			}
		}
	}
	return out
}
