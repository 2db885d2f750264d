package policy

import (
	"errors"
	"strings"
)

// ErrPath marks a request path pingedge refuses to match (400).
var ErrPath = errors.New("path not accepted")

// NormalizePath turns a raw request-target path into the form rules match against:
//   - the query, if any, is dropped;
//   - percent-encoded unreserved characters (RFC 3986 §2.3) are decoded, other escapes are
//     kept with upper-case hex (§6.2.2.1);
//   - an encoded slash or backslash (%2F, %5C), a raw backslash, an encoded NUL or control
//     character, and malformed escapes are refused: an origin that decodes them would see a
//     different path than the one matched (issue 3, "never matched as an ordinary character");
//   - repeated slashes are collapsed and dot segments resolved (§5.2.4), never above the root;
//   - a path parameter (';' in a segment, RFC 3986 §3.3) is refused, see checkParams.
//
// It does not allocate when the path is already normal.
func NormalizePath(raw string) (string, error) { return normalizePath(raw, false) }

// normalizePath is NormalizePath; with params (the policy's path_parameters: allow) a ';' in a
// segment is kept for the origin, and rules match the segment's name before it.
func normalizePath(raw string, params bool) (string, error) {
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	if raw == "" || raw[0] != '/' {
		return "", errorf(ErrPath, "path must start with /")
	}
	if isNormal(raw) {
		return raw, nil
	}
	dec, err := decodeUnreserved(raw, params)
	if err != nil {
		return "", err
	}
	if err := checkParams(dec, params); err != nil {
		return "", err
	}
	return removeDots(dec), nil
}

// checkParams refuses path parameters unless params is set, and always refuses a segment
// that is a dot segment or empty once its parameters are dropped ("..;", ".;x", ";x"). Servlet
// containers (Tomcat, Jetty, Spring) drop ";…" from each segment before resolving dot
// segments, so they serve /api/..;/admin/x as /admin/x and /admin;x/users as /admin/users:
// matching those literally would let a request past a rule the origin then bypasses.
func checkParams(p string, params bool) error {
	if strings.IndexByte(p, ';') < 0 {
		return nil
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		name, _, found := strings.Cut(seg, ";")
		switch {
		case !found:
		case name == "." || name == "..":
			return errorf(ErrPath, "dot segment with a path parameter (..;) in path")
		case name == "":
			return errorf(ErrPath, "empty segment with a path parameter (;) in path")
		case !params:
			return errorf(ErrPath, "path parameter (;) in path: set path_parameters: allow for an origin that uses them")
		}
	}
	return nil
}

// isNormal reports whether p needs no work: no escapes, no backslash or control bytes, no
// empty, "." or ".." segment.
func isNormal(p string) bool {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '%' || c == '\\' || c == ';' || c < 0x20 || c == 0x7f:
			return false
		case c == '/':
			rest := p[i+1:]
			if strings.HasPrefix(rest, "/") || rest == "." || rest == ".." ||
				strings.HasPrefix(rest, "./") || strings.HasPrefix(rest, "../") {
				return false
			}
		}
	}
	return true
}

func decodeUnreserved(p string, params bool) (string, error) {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			return "", errorf(ErrPath, "backslash in path")
		case c < 0x20 || c == 0x7f:
			return "", errorf(ErrPath, "control character in path")
		case c != '%':
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(p) || unhex(p[i+1]) < 0 || unhex(p[i+2]) < 0 {
			return "", errorf(ErrPath, "malformed percent-encoding")
		}
		v := byte(unhex(p[i+1])<<4 | unhex(p[i+2]))
		i += 2
		switch {
		case v == '/' || v == '\\':
			return "", errorf(ErrPath, "encoded slash or backslash in path")
		case v < 0x20 || v == 0x7f:
			return "", errorf(ErrPath, "encoded control character in path")
		case v == ';' && !params:
			// Some frameworks decode before they drop path parameters: %3B is refused like ';'.
			// Allowed, it stays an escape (reserved, §2.2): data, not a delimiter, as in Tomcat.
			return "", errorf(ErrPath, "encoded path parameter (%%3B) in path: set path_parameters: allow for an origin that uses them")
		case isUnreserved(v):
			b.WriteByte(v)
		default:
			const hex = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hex[v>>4])
			b.WriteByte(hex[v&15])
		}
	}
	return b.String(), nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// removeDots collapses empty segments and resolves "." and ".." (RFC 3986 §5.2.4). A trailing
// slash is kept.
func removeDots(p string) string {
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	res := "/" + strings.Join(out, "/")
	last := segs[len(segs)-1]
	if len(out) > 0 && (last == "" || last == "." || last == "..") {
		res += "/"
	}
	return res
}

// compilePattern checks a rule path and splits it into segments. "*" matches one segment,
// "**" (last only) any rest, including none. Literal segments are normalised like request
// paths, so a rule written with %7E matches a request with ~.
func compilePattern(pat string) ([]string, error) {
	if pat == "" || pat[0] != '/' {
		return nil, errors.New("must start with /")
	}
	norm, err := NormalizePath(pat)
	if err != nil || strings.Contains(pat, "?") {
		return nil, errors.New("must be a plain path: no query, encoded slash or backslash")
	}
	segs := splitPath(norm)
	for i, s := range segs {
		if s == "**" && i != len(segs)-1 {
			return nil, errors.New("** may only be the last segment")
		}
		if s != "*" && s != "**" && strings.Contains(s, "*") {
			return nil, errors.New("* must be a whole segment")
		}
	}
	return segs, nil
}

// splitPath splits a normal path into segments, dropping the trailing empty one.
func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchPath matches a normal path against a compiled pattern without allocating.
func matchPath(pattern []string, path string) bool {
	rest := strings.TrimPrefix(path, "/")
	for i, want := range pattern {
		if want == "**" {
			return true
		}
		seg, tail, _ := strings.Cut(rest, "/")
		seg, _, _ = strings.Cut(seg, ";") // a path parameter is not part of the name (checkParams)
		if seg == "" || (want != "*" && want != seg) {
			return false
		}
		rest = tail
		if i == len(pattern)-1 {
			return rest == ""
		}
	}
	return rest == ""
}

// NormalizePath is NormalizePath under this policy: path parameters are kept only when the
// policy's path_parameters is allow.
func (p *Policy) NormalizePath(raw string) (string, error) {
	return normalizePath(raw, p.AllowPathParameters)
}
