package tunnel

import (
	"net/http"
	"strings"
)

// Cookies do not cross the tunnel by default. Browsers do not isolate cookies by port (RFC 6265
// §8.5), so the cookies a browser holds for localhost belong to every local development server
// the engineer runs, and forwarding them would hand those sessions to the upstream. The other way
// round, a cookie the upstream sets through the tunnel lands in that shared localhost jar and is
// then sent to every other local server. The tunnel authenticates with the bearer token; cookies
// flow only with Options.ForwardCookies (--forward-cookies), and even then a Set-Cookie
// Domain=localhost attribute, which widens the cookie to every *.localhost name as well, is
// removed so the cookie stays host-only.

// filterSetCookie applies the cookie rule to an upstream response.
func (t *Tunnel) filterSetCookie(h http.Header) {
	sc, ok := h["Set-Cookie"]
	if !ok {
		return
	}
	if !t.opts.ForwardCookies {
		delete(h, "Set-Cookie")
		if t.cookieWarned.CompareAndSwap(false, true) {
			t.log.Warn("the upstream set a cookie; it was not passed to the browser (localhost cookies are shared by every local port): add --forward-cookies if the upstream needs its cookies")
		}
		return
	}
	for i, c := range sc {
		sc[i] = withoutLocalhostDomain(c)
	}
}

// withoutLocalhostDomain removes Domain attributes naming localhost or a *.localhost name from
// one Set-Cookie value (RFC 6265 §5.2.3: a leading dot is ignored, the name is case-insensitive).
func withoutLocalhostDomain(c string) string {
	parts := strings.Split(c, ";")
	kept := parts[:1]
	for _, p := range parts[1:] {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(name), "domain") && isLocalhostName(value) {
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == len(parts) {
		return c
	}
	return strings.Join(kept, ";")
}

func isLocalhostName(domain string) bool {
	d := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(domain), "."), "."))
	return d == "localhost" || strings.HasSuffix(d, ".localhost")
}
