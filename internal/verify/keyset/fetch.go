package keyset

import (
	"context"
	"strings"
)

// FetchResult is what a Fetcher got back.
type FetchResult struct {
	Status int
	Header map[string][]string // an http.Header; Cache-Control is read from here
	Body   []byte
}

// Fetcher performs an HTTP GET. It is an interface so the Cloudflare Worker can plug in the
// runtime's fetch(); HTTPFetcher is the net/http default. Implementations must bound the body
// they read (MaxJWKSBytes plus one byte is enough to detect an oversized document).
type Fetcher interface {
	Fetch(ctx context.Context, url string) (*FetchResult, error)
}

const statusOK = 200

// headerGet returns the first value of a response header, matched case-insensitively (RFC 9110
// §5.1): net/http keys headers in canonical form, the Worker's fetch in lower case.
func headerGet(h map[string][]string, key string) string {
	if v, ok := h[key]; ok && len(v) > 0 {
		return v[0]
	}
	for k, v := range h {
		if strings.EqualFold(k, key) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
