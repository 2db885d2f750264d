package policyfile

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// maxSyntaxScanLines bounds the prefix scan below; policy files are a few dozen lines.
const maxSyntaxScanLines = 5000

// yamlLineRE is the "line N: " that yaml.v3 puts in its syntax errors.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// ErrPolicySyntax: the policy file is not well-formed YAML.
var ErrPolicySyntax = errors.New("policy is not valid YAML")

// syntaxError reports a YAML syntax error at the line where the document stops being valid.
// yaml.v3 names the line where the enclosing block began: a bad indent on line 7 inside "rules:"
// is reported as "line 3". The first prefix of the document that fails with the same message is
// the line the person has to fix; if none does (an unterminated construct), yaml's line stays.
func syntaxError(data []byte, err error) error {
	msg := yamlLineRE.ReplaceAllString(err.Error(), "")
	line, lines := 0, bytes.SplitAfter(data, []byte("\n"))
	for n := 1; n <= len(lines) && n <= maxSyntaxScanLines; n++ {
		var probe yaml.Node
		perr := yaml.Unmarshal(bytes.Join(lines[:n], nil), &probe)
		if perr != nil && yamlLineRE.ReplaceAllString(perr.Error(), "") == msg {
			line = n
			break
		}
	}
	if line == 0 {
		return fmt.Errorf("%w: %w", ErrPolicySyntax, err)
	}
	return fmt.Errorf("%w: line %d: %s", ErrPolicySyntax, line, msg)
}
