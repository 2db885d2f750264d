package policy

import "github.com/pingedge/pingedge/internal/verify/jose"

// Match returns the first rule matching method (any case) and path (already normalised by
// NormalizePath), or nil and the default.
func (p *Policy) Match(method, path string) (*Rule, Access) {
	method = upper(method)
	for i := range p.Rules {
		r := &p.Rules[i]
		if len(r.Methods) > 0 && !jose.ContainsString(r.Methods, method) {
			continue
		}
		if matchPath(r.pattern, path) {
			return r, r.Allow
		}
	}
	return nil, p.Default
}

// RolesOK reports whether the claims hold one of the rule's roles (or the rule names none).
func (r *Rule) RolesOK(c *jose.Claims) bool {
	if len(r.Roles) == 0 {
		return true
	}
	for _, role := range r.Roles {
		if c.HasRole(role) {
			return true
		}
	}
	return false
}

// ScopesOK reports whether the claims hold every one of the rule's scopes.
func (r *Rule) ScopesOK(c *jose.Claims) bool {
	for _, s := range r.Scopes {
		if !c.HasScope(s) {
			return false
		}
	}
	return true
}
