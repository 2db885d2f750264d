package jose

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Claims are the verified claims of an access token. Every member is kept so the policy's
// roles_claim and forward mappings can reach any of them (Lookup, Raw).
type Claims struct {
	Issuer    string    `json:"iss"`
	Subject   string    `json:"sub,omitempty"`
	Audience  []string  `json:"aud"`
	Expiry    time.Time `json:"exp"`
	NotBefore time.Time `json:"nbf,omitzero"`
	IssuedAt  time.Time `json:"iat,omitzero"`
	ID        string    `json:"jti,omitempty"`
	ClientID  string    `json:"client_id,omitempty"` // client_id (RFC 9068 §2.2), else azp
	Scopes    []string  `json:"scopes,omitempty"`    // scope (space-separated) or scp
	Roles     []string  `json:"roles,omitempty"`     // from the policy's roles_claim
	Header    Header    `json:"header"`

	members []Member // every claim as sent, in order
}

// Raw returns every claim as sent (a new map each call: the hot path never needs it).
func (c *Claims) Raw() map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(c.members))
	for _, m := range c.members {
		out[m.Name] = m.Value
	}
	return out
}

func (c *Claims) member(name string) (json.RawMessage, bool) {
	for _, m := range c.members {
		if m.Name == name {
			return m.Value, true
		}
	}
	return nil, false
}

// ParseClaims decodes the payload strictly: one JSON object, no duplicate members, registered
// claims of the types RFC 7519 §4.1 gives them. Member names are matched exactly, so an "AUD"
// member is never read as "aud".
func ParseClaims(payload []byte) (*Claims, error) {
	members, err := ParseObject(payload)
	if err != nil {
		return nil, errorf(ErrClaims, "payload: %v", err)
	}
	c := &Claims{members: members}
	hasExp := false
	for _, m := range members {
		if err := c.setRegistered(m.Name, m.Value, &hasExp); err != nil {
			return nil, err
		}
	}
	if !hasExp {
		return nil, errorf(ErrClaims, "exp is required")
	}
	return c, nil
}

func (c *Claims) setRegistered(name string, v json.RawMessage, hasExp *bool) error {
	var err error
	switch name {
	case "iss":
		err = DecodeString(v, &c.Issuer)
	case "sub":
		err = DecodeString(v, &c.Subject)
	case "jti":
		err = DecodeString(v, &c.ID)
	case "client_id":
		err = DecodeString(v, &c.ClientID)
	case "azp":
		if c.ClientID == "" {
			err = DecodeString(v, &c.ClientID)
		}
	case "aud":
		c.Audience, err = decodeAudience(v)
	case "exp":
		c.Expiry, err = decodeNumericDate(v)
		*hasExp = true
	case "nbf":
		c.NotBefore, err = decodeNumericDate(v)
	case "iat":
		c.IssuedAt, err = decodeNumericDate(v)
	case "scope", "scp":
		var list []string
		list, err = scopesOf(name, v)
		c.Scopes = append(c.Scopes, list...)
	default:
		return nil
	}
	if err != nil {
		return errorf(ErrClaims, "%s: %v", name, err)
	}
	return nil
}

type claimTypeError string

func (e claimTypeError) Error() string { return string(e) }

func DecodeString(v json.RawMessage, dst *string) error {
	s, ok := jsonString(v)
	if !ok {
		return claimTypeError("must be a string")
	}
	*dst = s
	return nil
}

// decodeAudience accepts a non-empty string or a non-empty array of non-empty strings
// (RFC 7519 §4.1.3); [], [""], numbers and nested values are refused.
func decodeAudience(v json.RawMessage) ([]string, error) {
	list, err := DecodeStringOrList(v)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, claimTypeError("must not be empty")
	}
	for _, a := range list {
		if a == "" {
			return nil, claimTypeError("must not contain an empty string")
		}
	}
	return list, nil
}

func DecodeStringOrList(v json.RawMessage) ([]string, error) {
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := DecodeString(v, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	list, ok := stringArray(v)
	if !ok {
		return nil, claimTypeError("must be a string or an array of strings")
	}
	return list, nil
}

// decodeNumericDate reads a JSON number of seconds since the epoch (RFC 7519 §2); strings,
// booleans, NaN-like or absurd values are refused.
func decodeNumericDate(v json.RawMessage) (time.Time, error) {
	if len(v) == 0 || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
		return time.Time{}, claimTypeError("must be a number of seconds")
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return time.Time{}, claimTypeError("must be a number of seconds after 1970")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// Lookup follows a claim path: the whole name first (claim names may contain dots, e.g. a URL),
// then a dotted path through nested objects ("pi.roles").
func (c *Claims) Lookup(path string) (json.RawMessage, bool) {
	if v, ok := c.member(path); ok {
		return v, true
	}
	head, rest, found := strings.Cut(path, ".")
	if !found {
		return nil, false
	}
	v, ok := c.member(head)
	for ok && found {
		var obj map[string]json.RawMessage
		if json.Unmarshal(v, &obj) != nil {
			return nil, false
		}
		head, rest, found = strings.Cut(rest, ".")
		v, ok = obj[head]
	}
	return v, ok
}

// HasScope reports whether the token carries scope s.
func (c *Claims) HasScope(s string) bool { return ContainsString(c.Scopes, s) }

// HasRole reports whether the token carries role r.
func (c *Claims) HasRole(r string) bool { return ContainsString(c.Roles, r) }

func ContainsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scopesOf reads one scope claim: scope is a space-separated string (RFC 8693 §4.2, RFC 9068
// §2.2.3), scp a string or a list (the form Entra ID and Okta use).
func scopesOf(name string, v json.RawMessage) ([]string, error) {
	if name == "scope" {
		var s string
		err := DecodeString(v, &s)
		return strings.Fields(s), err
	}
	return DecodeStringOrList(v)
}

// Scopes returns the scopes the verifier reads from a token's payload, in the same way and
// order (scope and scp together, each in the form it is sent, in member order), so a display of
// the scopes (inspect) shows what the policy's scopes rules are matched against, even for a
// payload the verifier would refuse. A malformed scope claim contributes nothing.
func Scopes(payload []byte) []string {
	members, err := ParseObject(payload)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range members {
		if m.Name == "scope" || m.Name == "scp" {
			if list, err := scopesOf(m.Name, m.Value); err == nil {
				out = append(out, list...)
			}
		}
	}
	return out
}
