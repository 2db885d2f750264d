package policyfile

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pingedge/pingedge/internal/verify/policy"
)

// Load reads and parses a policy file.
func Load(path string) (*policy.Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse parses a YAML policy and validates it (policy.Policy.Validate). Errors name the line and the field ("policy line 12:
// rules[2].methods[0]: unknown method \"FETCH\""); unknown fields are errors, so a typo such as
// "role:" cannot silently widen access.
func Parse(data []byte) (*policy.Policy, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(data, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &policy.PolicyError{Line: doc.Line, Field: "(document)", Msg: "must be a mapping of policy fields"}
	}
	p := &policy.Policy{}
	if err := decodeFields(doc.Content[0], reflect.ValueOf(p).Elem(), "", nil); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		if pe, ok := err.(*policy.PolicyError); ok && pe.Line == 0 {
			pe.Line = lineOf(doc.Content[0], pe.Field)
		}
		return nil, err
	}
	return p, nil
}

// decodeFields fills the struct v from the mapping n in file order. Each key is a field's yaml
// tag, so a field is named once, on the struct; its Go type (and its policy tag, for the
// two-word choices and the string-or-list audience) says how its value is read. note, when
// set, sees every key before it is decoded.
func decodeFields(n *yaml.Node, v reflect.Value, prefix string, note func(key string, v *yaml.Node)) error {
	t := v.Type()
	return eachField(n, prefix, func(key string, vn *yaml.Node) error {
		if note != nil {
			note(key, vn)
		}
		for i := range t.NumField() {
			// yaml:"-" marks a field no file sets (Rule.Line), so the key "-" is unknown too.
			sf := t.Field(i)
			if name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ","); sf.IsExported() && name != "-" && name == key {
				return decodeValue(vn, v.Field(i), sf.Tag.Get("policy"), prefix+key)
			}
		}
		return &policy.PolicyError{Line: vn.Line, Field: prefix + key, Msg: "unknown field"}
	})
}

// decodeValue reads one field's value by its Go type. form is the field's policy tag:
// "off|on" words for a bool, "string-or-list" for a list that may be written as one string.
func decodeValue(n *yaml.Node, v reflect.Value, form, field string) error {
	switch v.Addr().Interface().(type) {
	case *time.Duration:
		d, err := duration(n, field)
		v.SetInt(int64(d))
		return err
	case *[]policy.Rule:
		return decodeRules(n, v.Addr().Interface().(*[]policy.Rule))
	case *[]policy.Forward:
		return decodeForward(n, v.Addr().Interface().(*[]policy.Forward))
	}
	switch v.Kind() {
	case reflect.String:
		s, err := scalar(n, field)
		v.SetString(s)
		return err
	case reflect.Int:
		i, err := integer(n, field)
		v.SetInt(int64(i))
		return err
	case reflect.Bool:
		off, on, _ := strings.Cut(form, "|")
		b, err := choice(n, field, off, on)
		v.SetBool(b)
		return err
	case reflect.Slice:
		return decodeStrings(n, v, form, field)
	}
	panic("policy: no decoder for field " + field + " of type " + v.Type().String())
}

// decodeStrings reads a list of strings into a []string or a slice of a named string type
// ([]jose.Algorithm), which stays nil when the list is empty: nil means every algorithm.
func decodeStrings(n *yaml.Node, v reflect.Value, form, field string) error {
	read := stringList
	if form == "string-or-list" {
		read = stringOrList
	}
	list, err := read(n, field)
	if err != nil {
		return err
	}
	if v.Type() == reflect.TypeOf(list) {
		v.Set(reflect.ValueOf(list))
		return nil
	}
	for _, s := range list {
		v.Set(reflect.Append(v, reflect.ValueOf(s).Convert(v.Type().Elem())))
	}
	return nil
}

// decodeRules reads rules: a list of mappings, each with a path.
func decodeRules(n *yaml.Node, rules *[]policy.Rule) error {
	if n.Kind != yaml.SequenceNode {
		return &policy.PolicyError{Line: n.Line, Field: "rules", Msg: "must be a list of rules"}
	}
	for i, rn := range n.Content {
		field := fmt.Sprintf("rules[%d]", i)
		r := policy.Rule{Line: rn.Line}
		if rn.Kind != yaml.MappingNode {
			return &policy.PolicyError{Line: rn.Line, Field: field, Msg: "must be a mapping with path"}
		}
		// The line of every field and list item, for the errors compile finds later.
		err := decodeFields(rn, reflect.ValueOf(&r).Elem(), field+".", func(key string, v *yaml.Node) {
			r.NoteLine(key, v.Line)
			for j, c := range v.Content {
				r.NoteLine(key+"["+strconv.Itoa(j)+"]", c.Line)
			}
		})
		if err != nil {
			return err
		}
		if r.Path == "" {
			return &policy.PolicyError{Line: rn.Line, Field: field + ".path", Msg: "required"}
		}
		*rules = append(*rules, r)
	}
	return nil
}

// decodeForward reads forward: a mapping of header name to claim path, in file order.
func decodeForward(n *yaml.Node, forward *[]policy.Forward) error {
	return eachField(n, "forward.", func(key string, v *yaml.Node) error {
		claim, err := scalar(v, "forward."+key)
		if err == nil && !policy.ValidHeaderName(key) {
			err = &policy.PolicyError{Line: v.Line, Field: "forward." + key, Msg: "not a valid header name"}
		}
		*forward = append(*forward, policy.Forward{Header: key, Claim: claim})
		return err
	})
}

// eachField walks a mapping in file order, refusing duplicate keys.
func eachField(n *yaml.Node, prefix string, fn func(key string, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return &policy.PolicyError{Line: n.Line, Field: prefix, Msg: "must be a mapping"}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			return &policy.PolicyError{Line: k.Line, Field: prefix + k.Value, Msg: "appears twice"}
		}
		seen[k.Value] = true
		if err := fn(k.Value, v); err != nil {
			return err
		}
	}
	return nil
}

func scalar(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", &policy.PolicyError{Line: n.Line, Field: field, Msg: "must be a single value"}
	}
	return n.Value, nil
}

func stringList(n *yaml.Node, field string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, &policy.PolicyError{Line: n.Line, Field: field, Msg: "must be a list"}
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		s, err := scalar(c, fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func stringOrList(n *yaml.Node, field string) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		s, err := scalar(n, field)
		return []string{s}, err
	}
	return stringList(n, field)
}

func duration(n *yaml.Node, field string) (time.Duration, error) {
	s, err := scalar(n, field)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, &policy.PolicyError{Line: n.Line, Field: field, Msg: fmt.Sprintf("%q is not a duration such as 30s or 5m", s)}
	}
	return d, nil
}

func integer(n *yaml.Node, field string) (int, error) {
	s, err := scalar(n, field)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, &policy.PolicyError{Line: n.Line, Field: field, Msg: fmt.Sprintf("%q is not a positive integer", s)}
	}
	return v, nil
}

// lineOf finds the line of a top-level field named in a validation error (e.g. "issuer" or
// "forward[1]"), so errors found after parsing still point into the file.
func lineOf(root *yaml.Node, field string) int {
	name := field
	for i, c := range field {
		if c == '[' || c == '.' {
			name = field[:i]
			break
		}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == name {
			return root.Content[i].Line
		}
	}
	return root.Line
}

// choice reads a two-valued field: off (the safe default) or on.
func choice(v *yaml.Node, key, off, on string) (bool, error) {
	s, err := scalar(v, key)
	switch {
	case err != nil:
		return false, err
	case s == off:
		return false, nil
	case s == on:
		return true, nil
	}
	return false, &policy.PolicyError{Line: v.Line, Field: key, Msg: fmt.Sprintf("%q: use %s or %s", s, off, on)}
}
