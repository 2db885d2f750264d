package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// Access is what a rule (or the default) requires.
type Access string

// The access levels of a rule. The default may only be AccessDeny or AccessAuthenticated.
const (
	AccessAnyone        Access = "anyone"        // no token needed
	AccessAuthenticated Access = "authenticated" // any valid token (plus the rule's roles/scopes)
	AccessDeny          Access = "deny"          // nobody
)

// Policy is the YAML policy file shared by verify, edge serve, forward-auth and the Worker
// (reference in docs/policy.md). Build one with policyfile.Parse, or fill
// the struct and let NewEngine validate it.
//
// Each field's yaml tag is its one name in the file: policyfile.Parse reads by it
// and Validate is where values are checked. The policy tag gives the form where the Go type
// alone does not: the two words of an on/off choice, or a list that may be one string.
type Policy struct {
	Issuer          string           `yaml:"issuer"`
	Audience        []string         `yaml:"audience" policy:"string-or-list"`
	JWKSURI         string           `yaml:"jwks_uri"`
	Algorithms      []jose.Algorithm `yaml:"algorithms"`  // nil: every supported algorithm
	TokenTypes      []string         `yaml:"token_types"` // accepted typ values; nil: DefaultTypes
	Leeway          time.Duration    `yaml:"leeway"`
	RolesClaim      string           `yaml:"roles_claim"`
	CacheTTL        time.Duration    `yaml:"cache_ttl"`
	CacheSize       int              `yaml:"cache_size"`
	TokenHeader     string           `yaml:"token_header"` // a header carrying the bare token, e.g. Cf-Access-Jwt-Assertion
	RequestIDHeader string           `yaml:"request_id_header"`
	MaxTokenBytes   int              `yaml:"max_token_bytes"`
	Rules           []Rule           `yaml:"rules"`
	Default         Access           `yaml:"default"`
	Forward         []Forward        `yaml:"forward"`

	// AllowPathParameters (path_parameters: allow) lets ';' through in a path segment for
	// origins that use matrix parameters; rules then match the segment's name before the ';'.
	// Off, a ';' is a 400 (see checkParams).
	AllowPathParameters bool `yaml:"path_parameters" policy:"refuse|allow"`
	// KeepMethodOverride (method_override: keep) passes X-HTTP-Method-Override and its
	// variants to the origin; off, they are stripped like a forged identity header.
	KeepMethodOverride bool `yaml:"method_override" policy:"strip|keep"`

	// DPoP (RFC 9449, docs/dpop.md): the mode, how long after its iat a proof is accepted,
	// whether the edge demands a server nonce in proofs (§8), and how many live proofs the
	// replay cache holds before it refuses new ones.
	DPoP                DPoPMode      `yaml:"dpop"`
	DPoPProofLifetime   time.Duration `yaml:"dpop_proof_lifetime"`
	DPoPNonce           bool          `yaml:"dpop_nonce" policy:"off|on"`
	DPoPReplayCacheSize int           `yaml:"dpop_replay_cache_size"`
}

// Rule is one entry of rules: the first whose path and methods match decides.
type Rule struct {
	Name    string   `yaml:"name"` // rules[i] and the path unless the file names it
	Path    string   `yaml:"path"`
	Methods []string `yaml:"methods"` // empty: every method
	Allow   Access   `yaml:"allow"`
	Roles   []string `yaml:"roles"`  // any one of these
	Scopes  []string `yaml:"scopes"` // all of these
	Line    int      `yaml:"-"`      // where it is in the file, for messages

	pattern []string
	lines   map[string]int // line of each field ("path", "methods[1]"), from NoteLine
}

// NoteLine records the file line of one of the rule's fields ("path", "methods[1]"), so the
// errors Validate finds later point into the file. The YAML reader (policyfile) calls it; this
// package does not parse YAML so that the Worker's wasm does not link a YAML parser.
func (r *Rule) NoteLine(field string, line int) {
	if r.lines == nil {
		r.lines = map[string]int{}
	}
	r.lines[field] = line
}

// lineOf is the line of one of the rule's fields, else of the rule.
func (r *Rule) lineOf(field string) int {
	if l, ok := r.lines[field]; ok {
		return l
	}
	return r.Line
}

// Forward maps an identity header sent to the origin to a claim path.
type Forward struct {
	Header string // canonical header name
	Claim  string
}

// Defaults applied by Validate.
const (
	DefaultLeeway     = 30 * time.Second
	DefaultRolesClaim = "roles"
	DefaultCacheTTL   = 5 * time.Minute
	DefaultCacheSize  = 10000
	MaxLeeway         = 5 * time.Minute
)

// Validate checks the policy and fills defaults. policyfile.Parse calls it; NewEngine calls it for a
// policy built in code.
func (p *Policy) Validate() error {
	if err := p.validateIdentity(); err != nil {
		return err
	}
	setDefault(&p.Leeway, DefaultLeeway)
	setDefault(&p.CacheTTL, DefaultCacheTTL)
	if p.Leeway > MaxLeeway {
		return &PolicyError{Field: "leeway", Msg: fmt.Sprintf("at most %s", MaxLeeway)}
	}
	if p.CacheSize <= 0 {
		p.CacheSize = DefaultCacheSize
	}
	if err := p.validateDPoP(); err != nil {
		return err
	}
	if p.MaxTokenBytes <= 0 {
		p.MaxTokenBytes = jose.DefaultMaxTokenBytes
	}
	if p.RequestIDHeader == "" {
		p.RequestIDHeader = "X-Request-Id"
	}
	if !ValidHeaderName(p.RequestIDHeader) {
		return &PolicyError{Field: "request_id_header", Msg: fmt.Sprintf("%q is not a valid header name", p.RequestIDHeader)}
	}
	p.RequestIDHeader = CanonicalHeaderKey(p.RequestIDHeader)
	// A rule with roles must have somewhere to read them: an unset roles_claim would make every
	// such rule deny silently. "roles" is what PingOne and PingFederate mappings usually use.
	if p.RolesClaim == "" {
		p.RolesClaim = DefaultRolesClaim
	}
	if p.TokenTypes == nil {
		p.TokenTypes = jose.DefaultTypes
	}
	switch p.Default {
	case "":
		p.Default = AccessDeny
	case AccessDeny, AccessAuthenticated:
	default:
		return &PolicyError{Field: "default", Msg: fmt.Sprintf("%q: use deny or authenticated", p.Default)}
	}
	for i := range p.Rules {
		if err := p.Rules[i].compile(i); err != nil {
			return err
		}
	}
	return p.validateForward()
}

func (p *Policy) validateIdentity() error {
	if p.Issuer == "" {
		return &PolicyError{Field: "issuer", Msg: "required"}
	}
	// The one URL rule (jose.CheckURL), the same as login's and doctor's: https, or http only
	// on a loopback host, so keys are never fetched in clear text off the machine.
	if err := jose.CheckIssuerURL(p.Issuer); err != nil {
		return &PolicyError{Field: "issuer", Msg: err.Error()}
	}
	if len(p.Audience) == 0 {
		return &PolicyError{Field: "audience", Msg: "required (a string or a list)"}
	}
	if p.JWKSURI != "" {
		if err := jose.CheckURL(p.JWKSURI); err != nil {
			return &PolicyError{Field: "jwks_uri", Msg: err.Error()}
		}
	}
	for i, a := range p.Audience {
		if a == "" {
			return &PolicyError{Field: fmt.Sprintf("audience[%d]", i), Msg: "must not be empty"}
		}
	}
	for i, a := range p.Algorithms {
		if _, err := jose.CheckAlg(string(a), nil); err != nil {
			return &PolicyError{Field: fmt.Sprintf("algorithms[%d]", i), Msg: err.Error()}
		}
	}
	if p.TokenHeader != "" && !ValidHeaderName(p.TokenHeader) {
		return &PolicyError{Field: "token_header", Msg: "not a valid header name"}
	}
	return nil
}

func (p *Policy) validateForward() error {
	for i, f := range p.Forward {
		// No fmt on the success path (see compile): the Worker validates in every cold isolate.
		field := "forward[" + strconv.Itoa(i) + "]"
		if !ValidHeaderName(f.Header) {
			return &PolicyError{Field: field, Msg: fmt.Sprintf("%q is not a valid header name", f.Header)}
		}
		canon := CanonicalHeaderKey(f.Header)
		if canon == "Authorization" || canon == "Host" || canon == "Cookie" || canon == CanonicalHeaderKey(p.TokenHeader) {
			return &PolicyError{Field: field, Msg: fmt.Sprintf("%s cannot carry identity", canon)}
		}
		if f.Claim == "" {
			return &PolicyError{Field: field, Msg: "needs a claim"}
		}
		p.Forward[i].Header = canon
	}
	return nil
}

func (r *Rule) compile(i int) error {
	// No fmt on the success path: in the Worker this runs in every cold isolate, and fmt's
	// first call there cost more than the rest of the policy's start-up (docs/performance.md).
	field := "rules[" + strconv.Itoa(i) + "]"
	pat, err := compilePattern(r.Path)
	if err != nil {
		return &PolicyError{Line: r.lineOf("path"), Field: field + ".path", Msg: err.Error()}
	}
	r.pattern = pat
	for j, m := range r.Methods {
		if !validMethod(m) {
			return &PolicyError{Line: r.lineOf(fmt.Sprintf("methods[%d]", j)), Field: fmt.Sprintf("%s.methods[%d]", field, j), Msg: fmt.Sprintf("unknown method %q", m)}
		}
	}
	switch r.Allow {
	case "":
		r.Allow = AccessAuthenticated
	case AccessAnyone, AccessDeny:
		if len(r.Roles)+len(r.Scopes) > 0 {
			return &PolicyError{Line: r.lineOf("allow"), Field: field + ".allow", Msg: fmt.Sprintf("%s cannot be combined with roles or scopes", r.Allow)}
		}
	case AccessAuthenticated:
	default:
		return &PolicyError{Line: r.lineOf("allow"), Field: field + ".allow", Msg: fmt.Sprintf("%q: use anyone, authenticated or deny", r.Allow)}
	}
	if r.Name == "" {
		r.Name = field + " " + r.Path
	}
	return nil
}

var knownMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}

func validMethod(m string) bool { return jose.ContainsString(knownMethods, m) }

// ValidHeaderName reports whether h may name a header in a policy: letters, digits and '-',
// a strict subset of an RFC 9110 §5.1 field name.
func ValidHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// PolicyError names where a policy is wrong: the line (when it came from a file) and the field.
type PolicyError struct {
	Line  int
	Field string
	Msg   string
}

func (e *PolicyError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("policy line %d: %s: %s", e.Line, e.Field, e.Msg)
	}
	return fmt.Sprintf("policy: %s: %s", e.Field, e.Msg)
}

// StripHeaders is the request headers a decision removes before the request goes on: the token's
// carriers and every client-sent copy of a forwarded identity header.
func (p *Policy) StripHeaders() []string {
	out := []string{"Authorization"}
	if p.TokenHeader != "" {
		out = append(out, CanonicalHeaderKey(p.TokenHeader))
	}
	for _, f := range p.Forward {
		if !jose.ContainsString(out, f.Header) {
			out = append(out, f.Header)
		}
	}
	if !p.KeepMethodOverride {
		out = append(out, MethodOverrideHeaders()...)
	}
	if p.DPoPEnabled() {
		// The proof was for the edge (RFC 9449 §4.3): the origin, its logs and anything behind
		// it have no use for it, and a copy is one more thing to replay at another replica.
		out = append(out, "Dpop")
	}
	// IIS's descriptions of the original URL: Symfony and Zend serve the path named there
	// instead of the request's own, which the policy never saw.
	return append(out, "X-Original-Url", "X-Rewrite-Url")
}

// MethodOverrideHeaders are the headers frameworks (Rails, Laravel, Symfony, Express
// method-override, ASP.NET) read to treat a POST as another method. The policy decided on the
// request line's method, so an origin honouring one would run a DELETE the policy saw as a
// POST (or a GET on an anyone rule); they are stripped unless method_override: keep.
func MethodOverrideHeaders() []string {
	return []string{"X-Http-Method-Override", "X-Method-Override", "X-Http-Method"}
}

// upper is strings.ToUpper for method names without allocating when already upper case.
func upper(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'a' && s[i] <= 'z' {
			return strings.ToUpper(s)
		}
	}
	return s
}

// setDefault sets *d to v when it is unset (zero or negative).
func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}
