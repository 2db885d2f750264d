package jose

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
	"unsafe"
)

// Member is one "name": value pair of a JSON object, the value kept raw.
type Member struct {
	Name  string
	Value []byte
}

// maxJSONDepth bounds nesting so a hostile token cannot exhaust the stack.
const maxJSONDepth = 32

var errJSON = errors.New("not a valid JSON object")

// ParseObject parses data as one JSON object and returns its members in order. It is stricter
// than encoding/json: duplicate member names (after unescaping) are rejected at every depth
// (RFC 7515 §5.2 step 4 and RFC 7519 §4 allow that; pingedge refuses, since two parsers that
// pick different duplicates disagree on what was signed), invalid UTF-8 is rejected, and names
// are compared exactly, never case-insensitively.
func ParseObject(data []byte) ([]Member, error) {
	s := scanner{data: data}
	s.ws()
	members, err := s.object(0, true)
	if err != nil {
		return nil, err
	}
	s.ws()
	if s.pos != len(s.data) {
		return nil, errJSON
	}
	return members, nil
}

type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// object scans {...}; with keep it returns the members (only the top level needs them).
func (s *scanner) object(depth int, keep bool) ([]Member, error) {
	if depth > maxJSONDepth || s.pos >= len(s.data) || s.data[s.pos] != '{' {
		return nil, errJSON
	}
	s.pos++
	var members []Member
	var small [linearNames]string
	names := small[:0]       // duplicate check: a linear scan while small,
	var seen map[string]bool // then a map, so a hostile object stays O(n)
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return members, nil
	}
	for {
		s.ws()
		name, err := s.str()
		if err != nil {
			return nil, err
		}
		if dupName(names, seen, name) {
			return nil, errDuplicate{name}
		}
		names, seen = addName(names, seen, name)
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return nil, errJSON
		}
		s.pos++
		s.ws()
		start := s.pos
		if err := s.value(depth + 1); err != nil {
			return nil, err
		}
		if keep {
			members = append(members, Member{Name: name, Value: s.data[start:s.pos]})
		}
		s.ws()
		if s.pos >= len(s.data) {
			return nil, errJSON
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return members, nil
		default:
			return nil, errJSON
		}
	}
}

const linearNames = 16

func dupName(names []string, seen map[string]bool, name string) bool {
	if seen != nil {
		return seen[name]
	}
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

func addName(names []string, seen map[string]bool, name string) ([]string, map[string]bool) {
	if seen != nil {
		seen[name] = true
		return names, seen
	}
	if len(names) < cap(names) {
		return append(names, name), nil
	}
	seen = make(map[string]bool, 2*linearNames)
	for _, n := range names {
		seen[n] = true
	}
	seen[name] = true
	return names, seen
}

// jsonString returns the value of a JSON string the scanner has already validated, without
// encoding/json when it has no escapes (the common case for every claim).
func jsonString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	for _, c := range v[1 : len(v)-1] {
		if c == '\\' {
			var out string
			if json.Unmarshal(v, &out) != nil {
				return "", false
			}
			return out, true
		}
	}
	return bytesString(v[1 : len(v)-1]), true
}

// bytesString views b as a string without copying. Every caller passes bytes pingedge decoded
// itself (a token segment, a fetched body) and never writes to afterwards, so the string
// cannot change under its holder; this keeps member names and claim values allocation-free.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// stringArray reads a JSON array of strings the scanner has already validated.
func stringArray(v []byte) ([]string, bool) {
	s := scanner{data: v}
	if len(v) == 0 || v[0] != '[' {
		return nil, false
	}
	s.pos++
	out := make([]string, 0, 4)
	for {
		s.ws()
		if s.pos < len(s.data) && s.data[s.pos] == ']' && len(out) == 0 {
			return out, true
		}
		start := s.pos
		if _, err := s.str(); err != nil {
			return nil, false
		}
		str, ok := jsonString(s.data[start:s.pos])
		if !ok {
			return nil, false
		}
		out = append(out, str)
		s.ws()
		if s.pos >= len(s.data) {
			return nil, false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			return out, true
		default:
			return nil, false
		}
	}
}

// rawElements splits a JSON array the scanner has already validated into its elements' bytes.
// null is an empty list, as encoding/json reads it into a slice.
func rawElements(v []byte) ([][]byte, bool) {
	if string(v) == "null" {
		return nil, true
	}
	if len(v) == 0 || v[0] != '[' {
		return nil, false
	}
	s := scanner{data: v, pos: 1}
	var out [][]byte
	s.ws()
	if s.pos < len(v) && v[s.pos] == ']' {
		return out, true
	}
	for {
		s.ws()
		start := s.pos
		if s.value(1) != nil {
			return nil, false
		}
		out = append(out, v[start:s.pos])
		s.ws()
		if s.pos >= len(v) {
			return nil, false
		}
		switch v[s.pos] {
		case ',':
			s.pos++
		case ']':
			return out, true
		default:
			return nil, false
		}
	}
}

// errDuplicate names the repeated member so the reason is useful in a log.
type errDuplicate struct{ name string }

func (e errDuplicate) Error() string { return "duplicate member " + QuoteShort(e.name) }

func (s *scanner) value(depth int) error {
	if s.pos >= len(s.data) || depth > maxJSONDepth {
		return errJSON
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		_, err := s.object(depth, false)
		return err
	case c == '[':
		return s.array(depth)
	case c == '"':
		_, err := s.str()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(s.data)-s.pos >= len(lit) && string(s.data[s.pos:s.pos+len(lit)]) == lit {
				s.pos += len(lit)
				return nil
			}
		}
		return errJSON
	}
}

func (s *scanner) array(depth int) error {
	s.pos++
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		s.ws()
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) {
			return errJSON
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return errJSON
		}
	}
}

// str scans a string and returns it unescaped (escaped names must be compared unescaped:
// "\u0061lg" is "alg").
func (s *scanner) str() (string, error) {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return "", errJSON
	}
	start := s.pos
	s.pos++
	escaped := false
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			raw := s.data[start:s.pos]
			if !escaped {
				if !utf8.Valid(raw) {
					return "", errJSON
				}
				return bytesString(raw[1 : len(raw)-1]), nil
			}
			var out string
			if err := json.Unmarshal(raw, &out); err != nil || !utf8.Valid(raw) {
				return "", errJSON
			}
			return out, nil
		case c == '\\':
			escaped = true
			s.pos += 2
		case c < 0x20:
			return "", errJSON
		default:
			s.pos++
		}
	}
	return "", errJSON
}

func (s *scanner) number() error {
	start := s.pos
	if s.data[s.pos] == '-' {
		s.pos++
	}
	digits := func() int {
		n := 0
		for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	intStart := s.pos
	if n := digits(); n == 0 || (n > 1 && s.data[intStart] == '0') {
		return errJSON
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			return errJSON
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			return errJSON
		}
	}
	if s.pos-start > 64 {
		return errJSON
	}
	return nil
}

// QuoteShort quotes s for an error message, cut to 40 bytes so a hostile 10 KB name cannot
// flood a log line.
func QuoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
