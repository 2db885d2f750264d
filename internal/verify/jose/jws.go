package jose

import (
	"strings"
)

// Size limits for a compact JWS (issue 3, "Token checks").
const (
	DefaultMaxTokenBytes = 16 << 10
	MaxHeaderBytes       = 8 << 10
)

// Header is the JOSE header members pingedge reads. jku, x5u, x5c and jwk are parsed only so
// inspect can show them; they are never fetched or trusted (RFC 8725 §3.10).
type Header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
	Cty string `json:"cty,omitempty"`
	// Ignored lists header members present but deliberately not used (jku, x5u, x5c, jwk, ...).
	Ignored []string `json:"ignored,omitempty"`
	// JWK is the raw jwk member when present. An access token's jwk is never used (RFC 8725
	// §3.10); only a DPoP proof's is, and only checked against the token's cnf.jkt (RFC 9449 §4.3).
	JWK []byte `json:"-"`
}

// Token is a compact JWS split and decoded, not yet verified.
type Token struct {
	Raw          string
	Header       Header
	HeaderJSON   []byte
	Payload      []byte
	Signature    []byte
	SigningInput string // base64url(header) "." base64url(payload), the bytes that were signed
}

// ParseUnverified splits and decodes a compact JWS without checking its signature or claims
// (an empty signature is let through so inspect can show an alg-none token):
// for `pingedge inspect` and for Verify's first step, never for an authorization decision.
// It enforces the structural rules: three unpadded base64url segments (RFC 7515 §7.1), no JWE
// (five segments), no JSON serialization, the size limits, a strict header without duplicate
// members, no b64:false (RFC 7797), no crit member pingedge does not understand (RFC 7515
// §4.1.11), no nested JWT (cty JWT, RFC 7519 §5.2).
func ParseUnverified(token string, maxBytes int) (*Token, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxTokenBytes
	}
	if len(token) > maxBytes {
		return nil, errorf(ErrMalformed, "token is %d bytes, limit %d", len(token), maxBytes)
	}
	if strings.HasPrefix(strings.TrimLeft(token, " \t\r\n"), "{") {
		return nil, errorf(ErrMalformed, "JWS JSON serialization is not accepted, only compact")
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	switch {
	case !ok1 || !ok2:
		return nil, errorf(ErrMalformed, "a compact JWS has three dot-separated segments")
	case strings.Count(s, ".") == 2:
		return nil, errorf(ErrMalformed, "encrypted tokens (JWE) are not accepted")
	case strings.Contains(s, "."):
		return nil, errorf(ErrMalformed, "a compact JWS has three dot-separated segments")
	case len(h) > MaxHeaderBytes*4/3+4:
		return nil, errorf(ErrMalformed, "header larger than %d bytes", MaxHeaderBytes)
	}
	t := &Token{Raw: token, SigningInput: token[:len(h)+1+len(p)]}
	var err error
	if t.HeaderJSON, err = b64.DecodeString(h); err != nil || len(h) == 0 {
		return nil, errorf(ErrMalformed, "header is not unpadded base64url")
	}
	if err := t.Header.parse(t.HeaderJSON); err != nil {
		return nil, err
	}
	if t.Payload, err = b64.DecodeString(p); err != nil {
		return nil, errorf(ErrMalformed, "payload is not unpadded base64url")
	}
	if t.Signature, err = b64.DecodeString(s); err != nil {
		return nil, errorf(ErrMalformed, "signature is not unpadded base64url")
	}
	return t, nil
}

// knownCrit is the set of crit extensions pingedge understands: none. Any crit member is
// refused (RFC 7515 §4.1.11 says a recipient MUST reject one it does not understand).
func (hd *Header) parse(data []byte) error {
	members, err := ParseObject(data)
	if err != nil {
		return errorf(ErrMalformed, "header: %v", err)
	}
	hasAlg := false
	for _, m := range members {
		switch m.Name {
		case "alg", "kid", "typ", "cty":
			v, ok := jsonString(m.Value)
			if !ok {
				return errorf(ErrHeader, "%s is not a string", m.Name)
			}
			hd.set(m.Name, v)
			hasAlg = hasAlg || m.Name == "alg"
		case "crit":
			return errorf(ErrHeader, "crit extensions are not supported")
		case "b64":
			return errorf(ErrHeader, "b64 (unencoded payload, RFC 7797) is not accepted")
		case "jwk":
			hd.JWK = m.Value
			hd.Ignored = append(hd.Ignored, m.Name)
		case "jku", "x5u", "x5c", "x5t", "x5t#S256":
			hd.Ignored = append(hd.Ignored, m.Name)
		}
	}
	switch {
	case !hasAlg:
		return errorf(ErrMalformed, "header has no alg")
	case len(hd.Kid) > MaxKidBytes:
		return errorf(ErrHeader, "kid longer than %d bytes", MaxKidBytes)
	case hd.Cty != "" && strings.EqualFold(strings.TrimPrefix(strings.ToLower(hd.Cty), "application/"), "jwt"):
		return errorf(ErrHeader, "nested tokens (cty JWT) are not accepted")
	}
	return nil
}

func (hd *Header) set(name, v string) {
	switch name {
	case "alg":
		hd.Alg = v
	case "kid":
		hd.Kid = v
	case "typ":
		hd.Typ = v
	case "cty":
		hd.Cty = v
	}
}

// DefaultTypes are the typ values accepted when the policy names none: RFC 9068 access tokens
// (at+jwt, application/at+jwt), plain JWT, and no typ at all ("").
var DefaultTypes = []string{"at+jwt", "application/at+jwt", "JWT", ""}

// CheckTyp compares typ case-insensitively, as RFC 7515 §4.1.9 media types are.
func CheckTyp(typ string, allowed []string) error {
	for _, a := range allowed {
		if strings.EqualFold(typ, a) {
			return nil
		}
	}
	return errorf(ErrHeader, "typ %s is not accepted", QuoteShort(typ))
}
