package policyfile

import (
	"errors"
	"strings"
	"testing"
)

// TestPolicySyntaxErrorLine: a YAML syntax error names the line the person has to fix, not the
// line where the enclosing block began (issue 12 item 11).
func TestPolicySyntaxErrorLine(t *testing.T) {
	const head = "issuer: https://i.example.com\naudience: api\nrules:\n  - path: /a\n    roles: [admin]\n"
	for name, c := range map[string]struct {
		doc  string
		line string
	}{
		"bad indent inside rules":  {head + "  - path: /b\n   roles: [x]\ndefault: deny\n", "line 7:"},
		"unterminated flow list":   {head + "  - path: /b\n    roles: [x, y\ndefault: deny\n", "line 7:"},
		"tab indentation":          {head + "  - path: /b\n\troles: [x]\n", "line 7:"},
		"key without value indent": {"issuer: https://i.example.com\naudience: api\nforward:\n  X-User: sub\n X-Bad: email\n", "line 5:"},
	} {
		_, err := Parse([]byte(c.doc))
		if !errors.Is(err, ErrPolicySyntax) || !strings.Contains(err.Error(), c.line) {
			t.Errorf("%s: err = %v, want %q", name, err, c.line)
		}
	}
}
