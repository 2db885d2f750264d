package tunnel

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"sort"
	"strings"
)

// Route sends requests whose path is under Prefix to Target. The request path is kept and
// appended to Target's path (httputil.ProxyRequest.SetURL), so /api/users with the route
// /api=https://h/base goes to https://h/base/api/users.
type Route struct {
	Prefix string
	Target *url.URL
}

// ParseRoute parses "/prefix=URL", the form of --route.
func ParseRoute(s string) (Route, error) {
	prefix, raw, ok := strings.Cut(s, "=")
	if !ok {
		return Route{}, fmt.Errorf("route %q: want /prefix=URL, for example /api=https://api.example.com", s)
	}
	return NewRoute(prefix, raw)
}

// NewRoute validates a prefix and an absolute http(s) upstream URL.
func NewRoute(prefix, rawURL string) (Route, error) {
	if !strings.HasPrefix(prefix, "/") {
		return Route{}, fmt.Errorf("route prefix %q must start with /", prefix)
	}
	if strings.ContainsAny(prefix, "?#") {
		return Route{}, fmt.Errorf("route prefix %q must be a path, without ? or #", prefix)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return Route{}, fmt.Errorf("route %s: upstream %q is not an absolute http or https URL", prefix, rawURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Route{}, fmt.Errorf("route %s: upstream %q must not carry user info, a query or a fragment", prefix, rawURL)
	}
	if prefix != "/" {
		prefix = strings.TrimSuffix(prefix, "/")
	}
	return Route{Prefix: prefix, Target: u}, nil
}

// routeTable matches the longest prefix on a path-segment boundary: /api matches /api and
// /api/x but not /apix.
type routeTable []Route

func newRouteTable(routes []Route) (routeTable, error) {
	if len(routes) == 0 {
		return nil, fmt.Errorf("no upstream: give at least one route")
	}
	t := append(routeTable(nil), routes...)
	sort.SliceStable(t, func(i, j int) bool { return len(t[i].Prefix) > len(t[j].Prefix) })
	for i := 1; i < len(t); i++ {
		if t[i].Prefix == t[i-1].Prefix {
			return nil, fmt.Errorf("route %s is given twice: keep one", t[i].Prefix)
		}
	}
	return t, nil
}

func (t routeTable) match(path string) (*Route, bool) {
	for i := range t {
		if prefixMatches(t[i].Prefix, path) {
			return &t[i], true
		}
	}
	return nil, false
}

func prefixMatches(prefix, path string) bool {
	if prefix == "/" {
		return true
	}
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/'
}

// MergeRoutes layers route sets, lowest precedence first (saved profile routes, then the
// profile's or the command line's "/" upstream, then command-line routes): a route replaces an
// earlier one with the same prefix and keeps that one's position, so the banner lists routes in
// the order the engineer wrote them.
func MergeRoutes(layers ...[]Route) []Route {
	var out []Route
	at := map[string]int{}
	for _, layer := range layers {
		for _, r := range layer {
			if i, seen := at[r.Prefix]; seen {
				out[i] = r
				continue
			}
			at[r.Prefix] = len(out)
			out = append(out, r)
		}
	}
	return out
}

// ErrCleartextUpstream refuses an http:// upstream on another machine: every request would carry
// the engineer's bearer token in clear text across the network.
var ErrCleartextUpstream = errors.New("upstream is plain http on another machine")

// Cleartext reports whether requests to this route leave the machine unencrypted: http to a host
// that is not loopback. Only "localhost" itself and loopback addresses count as loopback; other
// names, *.localhost included, may be resolved by DNS to anywhere.
func (r Route) Cleartext() bool {
	if r.Target.Scheme != "http" {
		return false
	}
	host := r.Target.Hostname()
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err != nil || !ip.Unmap().IsLoopback()
}

// CheckCleartext refuses cleartext routes unless allow.
func CheckCleartext(routes []Route, allow bool) error {
	if allow {
		return nil
	}
	for _, r := range routes {
		if r.Cleartext() {
			return fmt.Errorf("%w: route %s goes to %s, so your bearer token would cross the network unencrypted; use https",
				ErrCleartextUpstream, r.Prefix, r.Target.Redacted())
		}
	}
	return nil
}
