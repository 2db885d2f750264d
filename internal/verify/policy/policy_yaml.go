package policy

import (
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// ParsePolicy parses a YAML policy. Errors name the line and the field ("policy line 12:
// rules[2].methods[0]: unknown method \"FETCH\""); unknown fields are errors, so a typo such as
// "role:" cannot silently widen access.
func ParsePolicy(data []byte) (*Policy, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(data, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &PolicyError{Line: doc.Line, Field: "(document)", Msg: "must be a mapping of policy fields"}
	}
	p := &Policy{}
	if err := p.fromNode(doc.Content[0]); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		if pe, ok := err.(*PolicyError); ok && pe.Line == 0 {
			pe.Line = lineOf(doc.Content[0], pe.Field)
		}
		return nil, err
	}
	return p, nil
}

func (p *Policy) fromNode(n *yaml.Node) error {
	return eachField(n, "", func(key string, v *yaml.Node) error {
		var err error
		switch key {
		case "issuer":
			p.Issuer, err = scalar(v, key)
		case "audience":
			p.Audience, err = stringOrList(v, key)
		case "jwks_uri":
			p.JWKSURI, err = scalar(v, key)
		case "algorithms":
			var list []string
			list, err = stringList(v, key)
			for _, a := range list {
				p.Algorithms = append(p.Algorithms, jose.Algorithm(a))
			}
		case "token_types":
			p.TokenTypes, err = stringList(v, key)
		case "leeway":
			p.Leeway, err = duration(v, key)
		case "roles_claim":
			p.RolesClaim, err = scalar(v, key)
		case "cache_ttl":
			p.CacheTTL, err = duration(v, key)
		case "cache_size":
			p.CacheSize, err = integer(v, key)
		case "max_token_bytes":
			p.MaxTokenBytes, err = integer(v, key)
		case "token_header":
			p.TokenHeader, err = scalar(v, key)
		case "request_id_header":
			p.RequestIDHeader, err = scalar(v, key)
		case "default":
			var s string
			s, err = scalar(v, key)
			p.Default = Access(s)
		case "path_parameters":
			p.AllowPathParameters, err = choice(v, key, "refuse", "allow")
		case "method_override":
			p.KeepMethodOverride, err = choice(v, key, "strip", "keep")
		case "dpop":
			var s string
			s, err = scalar(v, key)
			p.DPoP = DPoPMode(s)
		case "dpop_proof_lifetime":
			p.DPoPProofLifetime, err = duration(v, key)
		case "dpop_nonce":
			p.DPoPNonce, err = choice(v, key, "off", "on")
		case "dpop_replay_cache_size":
			p.DPoPReplayCacheSize, err = integer(v, key)
		case "rules":
			err = p.rulesFrom(v)
		case "forward":
			err = p.forwardFrom(v)
		default:
			err = &PolicyError{Line: v.Line, Field: key, Msg: "unknown field"}
		}
		return err
	})
}

func (p *Policy) rulesFrom(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return &PolicyError{Line: n.Line, Field: "rules", Msg: "must be a list of rules"}
	}
	for i, rn := range n.Content {
		field := fmt.Sprintf("rules[%d]", i)
		r := Rule{Line: rn.Line, lines: map[string]int{}}
		if rn.Kind != yaml.MappingNode {
			return &PolicyError{Line: rn.Line, Field: field, Msg: "must be a mapping with path"}
		}
		err := eachField(rn, field+".", func(key string, v *yaml.Node) error {
			var err error
			f := field + "." + key
			r.lines[key] = v.Line
			for j, c := range v.Content {
				r.lines[fmt.Sprintf("%s[%d]", key, j)] = c.Line
			}
			switch key {
			case "name":
				r.Name, err = scalar(v, f)
			case "path":
				r.Path, err = scalar(v, f)
			case "methods":
				r.Methods, err = stringList(v, f)
			case "allow":
				var s string
				s, err = scalar(v, f)
				r.Allow = Access(s)
			case "roles":
				r.Roles, err = stringList(v, f)
			case "scopes":
				r.Scopes, err = stringList(v, f)
			default:
				err = &PolicyError{Line: v.Line, Field: f, Msg: "unknown field"}
			}
			return err
		})
		if err != nil {
			return err
		}
		if r.Path == "" {
			return &PolicyError{Line: rn.Line, Field: field + ".path", Msg: "required"}
		}
		p.Rules = append(p.Rules, r)
	}
	return nil
}

func (p *Policy) forwardFrom(n *yaml.Node) error {
	return eachField(n, "forward.", func(key string, v *yaml.Node) error {
		claim, err := scalar(v, "forward."+key)
		if err == nil && !validHeaderName(key) {
			err = &PolicyError{Line: v.Line, Field: "forward." + key, Msg: "not a valid header name"}
		}
		p.Forward = append(p.Forward, Forward{Header: key, Claim: claim})
		return err
	})
}

// eachField walks a mapping in file order, refusing duplicate keys.
func eachField(n *yaml.Node, prefix string, fn func(key string, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return &PolicyError{Line: n.Line, Field: prefix, Msg: "must be a mapping"}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			return &PolicyError{Line: k.Line, Field: prefix + k.Value, Msg: "appears twice"}
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
		return "", &PolicyError{Line: n.Line, Field: field, Msg: "must be a single value"}
	}
	return n.Value, nil
}

func stringList(n *yaml.Node, field string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, &PolicyError{Line: n.Line, Field: field, Msg: "must be a list"}
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
		return 0, &PolicyError{Line: n.Line, Field: field, Msg: fmt.Sprintf("%q is not a duration such as 30s or 5m", s)}
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
		return 0, &PolicyError{Line: n.Line, Field: field, Msg: fmt.Sprintf("%q is not a positive integer", s)}
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
	return false, &PolicyError{Line: v.Line, Field: key, Msg: fmt.Sprintf("%q: use %s or %s", s, off, on)}
}
