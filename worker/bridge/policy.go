package bridge

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/policy"
)

// The policy travels to the Worker precompiled: `pingedge edge worker build` parses and checks
// the YAML natively (policyfile.Parse) and writes it in this line format, which the wasm
// reads with strconv alone. Parsing the YAML inside the Worker was about a third of the Go
// runtime's start-up on an isolate's first request (docs/performance.md), paid on every cold
// start. The decoded policy goes through verify's Validate like a parsed one.
//
// Each line is a tag and strconv-quoted (or integer) fields; "rule" opens a rule, and the
// "methods", "roles" and "scopes" lines after it belong to it.

// PolicyMagic starts every encoded policy.
const PolicyMagic = "pingedge-policy 1"

// EncodePolicy writes p, a policy policyfile.Parse returned, in the Worker's format.
func EncodePolicy(p *policy.Policy) string {
	var b strings.Builder
	b.WriteString(PolicyMagic + "\n")
	line := func(tag string, vals ...string) {
		b.WriteString(tag)
		for _, v := range vals {
			b.WriteString(" " + strconv.Quote(v))
		}
		b.WriteByte('\n')
	}
	num := func(tag string, n int64) { b.WriteString(tag + " " + strconv.FormatInt(n, 10) + "\n") }
	line("issuer", p.Issuer)
	line("audience", p.Audience...)
	line("jwks_uri", p.JWKSURI)
	if p.Algorithms != nil {
		algs := make([]string, len(p.Algorithms))
		for i, a := range p.Algorithms {
			algs[i] = string(a)
		}
		line("algorithms", algs...)
	}
	if p.TokenTypes != nil {
		line("token_types", p.TokenTypes...)
	}
	num("leeway", int64(p.Leeway))
	line("roles_claim", p.RolesClaim)
	num("cache_ttl", int64(p.CacheTTL))
	num("cache_size", int64(p.CacheSize))
	line("token_header", p.TokenHeader)
	line("request_id_header", p.RequestIDHeader)
	num("max_token_bytes", int64(p.MaxTokenBytes))
	line("default", string(p.Default))
	line("path_parameters", strconv.FormatBool(p.AllowPathParameters))
	line("method_override", strconv.FormatBool(p.KeepMethodOverride))
	line("dpop", string(p.DPoP), strconv.FormatBool(p.DPoPNonce))
	num("dpop_proof_lifetime", int64(p.DPoPProofLifetime))
	num("dpop_replay_cache_size", int64(p.DPoPReplayCacheSize))
	for _, r := range p.Rules {
		line("rule", r.Name, r.Path, string(r.Allow), strconv.Itoa(r.Line))
		line("methods", r.Methods...)
		line("roles", r.Roles...)
		line("scopes", r.Scopes...)
	}
	for _, f := range p.Forward {
		line("forward", f.Header, f.Claim)
	}
	return b.String()
}

// DecodePolicy reads what EncodePolicy wrote and validates it.
func DecodePolicy(s string) (*policy.Policy, error) {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) == 0 || lines[0] != PolicyMagic {
		return nil, errors.New("not a precompiled pingedge policy: rebuild the bundle with `pingedge edge worker build`")
	}
	p := &policy.Policy{}
	for i, l := range lines[1:] {
		tag, rest, _ := strings.Cut(l, " ")
		if err := decodeLine(p, tag, rest); err != nil {
			return nil, fmt.Errorf("precompiled policy line %d (%s): %w", i+2, tag, err)
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func decodeLine(p *policy.Policy, tag, rest string) error {
	switch tag {
	case "leeway", "cache_ttl", "cache_size", "max_token_bytes", "dpop_proof_lifetime", "dpop_replay_cache_size":
		n, err := strconv.ParseInt(rest, 10, 64)
		switch tag {
		case "dpop_proof_lifetime":
			p.DPoPProofLifetime = time.Duration(n)
		case "dpop_replay_cache_size":
			p.DPoPReplayCacheSize = int(n)
		case "leeway":
			p.Leeway = time.Duration(n)
		case "cache_ttl":
			p.CacheTTL = time.Duration(n)
		case "cache_size":
			p.CacheSize = int(n)
		default:
			p.MaxTokenBytes = int(n)
		}
		return err
	}
	vals, err := quoted(rest)
	if err != nil {
		return err
	}
	one := func(dst *string) error {
		if len(vals) != 1 {
			return fmt.Errorf("%d values, want 1", len(vals))
		}
		*dst = vals[0]
		return nil
	}
	last := func() (*policy.Rule, error) {
		if len(p.Rules) == 0 {
			return nil, errors.New("before any rule")
		}
		return &p.Rules[len(p.Rules)-1], nil
	}
	switch tag {
	case "issuer":
		return one(&p.Issuer)
	case "audience":
		p.Audience = vals
	case "jwks_uri":
		return one(&p.JWKSURI)
	case "algorithms":
		p.Algorithms = make([]jose.Algorithm, len(vals))
		for i, v := range vals {
			p.Algorithms[i] = jose.Algorithm(v)
		}
	case "token_types":
		p.TokenTypes = vals
	case "roles_claim":
		return one(&p.RolesClaim)
	case "token_header":
		return one(&p.TokenHeader)
	case "request_id_header":
		return one(&p.RequestIDHeader)
	case "default":
		var d string
		err := one(&d)
		p.Default = policy.Access(d)
		return err
	case "dpop":
		if len(vals) != 2 {
			return fmt.Errorf("%d values, want 2", len(vals))
		}
		p.DPoP = policy.DPoPMode(vals[0])
		var err error
		p.DPoPNonce, err = strconv.ParseBool(vals[1])
		return err
	case "path_parameters", "method_override":
		var v string
		if err := one(&v); err != nil {
			return err
		}
		b, err := strconv.ParseBool(v)
		if tag == "path_parameters" {
			p.AllowPathParameters = b
		} else {
			p.KeepMethodOverride = b
		}
		return err
	case "rule":
		if len(vals) != 4 {
			return fmt.Errorf("%d values, want 4", len(vals))
		}
		n, err := strconv.Atoi(vals[3])
		p.Rules = append(p.Rules, policy.Rule{Name: vals[0], Path: vals[1], Allow: policy.Access(vals[2]), Line: n})
		return err
	case "methods", "roles", "scopes":
		r, err := last()
		if err != nil {
			return err
		}
		*map[string]*[]string{"methods": &r.Methods, "roles": &r.Roles, "scopes": &r.Scopes}[tag] = vals
	case "forward":
		if len(vals) != 2 {
			return fmt.Errorf("%d values, want 2", len(vals))
		}
		p.Forward = append(p.Forward, policy.Forward{Header: vals[0], Claim: vals[1]})
	default:
		return errors.New("unknown field: rebuild the bundle with the pingedge that built this Worker")
	}
	return nil
}

// quoted reads space-separated strconv-quoted strings.
func quoted(s string) ([]string, error) {
	var out []string
	for s != "" {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, err
		}
		v, _ := strconv.Unquote(q) // QuotedPrefix returned a valid quoted string
		out = append(out, v)
		s = strings.TrimPrefix(s[len(q):], " ")
	}
	return out, nil
}
