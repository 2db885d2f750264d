package policy

import (
	"strings"
	"testing"
)

// FuzzNormalizePath: the output is normal (idempotent, no empty/dot segments, no encoded
// slash or backslash) and matching never panics.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "//a//b/", "/a%2Fb", "/%2e%2e/x", "/a/./b/.", "/a%5c", "/a?b=/..", "/%zz", "/caf%c3%a9", "/a;b/..;/c", "/%2e%2e;x"} {
		f.Add(s)
	}
	pats := [][]string{}
	for _, p := range []string{"/", "/a/**", "/a/*/c", "/**", "/admin"} {
		c, _ := compilePattern(p)
		pats = append(pats, c)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := NormalizePath(raw)
		if err != nil {
			return
		}
		again, err := NormalizePath(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", raw, out, again, err)
		}
		up := strings.ToUpper(out)
		if !strings.HasPrefix(out, "/") || strings.Contains(out, "//") || strings.Contains(out, "/./") ||
			strings.Contains(out, "/../") || strings.HasSuffix(out, "/..") || strings.HasSuffix(out, "/.") ||
			strings.Contains(up, "%2F") || strings.Contains(up, "%5C") || strings.Contains(out, "\\") {
			t.Fatalf("not normal: %q -> %q", raw, out)
		}
		for _, p := range pats {
			_ = matchPath(p, out)
		}
		if strings.Contains(out, ";") {
			t.Fatalf("a path parameter survived: %q -> %q", raw, out)
		}
		fuzzParams(t, raw)
	})
}

// fuzzParams: with path_parameters: allow the output is idempotent too, and no segment is a
// dot segment or empty once its parameters are dropped (what a servlet origin resolves).
func fuzzParams(t *testing.T, raw string) {
	out, err := normalizePath(raw, true)
	if err != nil {
		return
	}
	if again, err := normalizePath(out, true); err != nil || again != out {
		t.Fatalf("params: not idempotent: %q -> %q -> %q (%v)", raw, out, again, err)
	}
	for seg := range strings.SplitSeq(out[1:], "/") {
		if name, _, ok := strings.Cut(seg, ";"); ok && (name == "" || name == "." || name == "..") {
			t.Fatalf("params: %q -> %q keeps segment %q", raw, out, seg)
		}
	}
}
