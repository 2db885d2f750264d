package tunnel

import (
	"fmt"
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
