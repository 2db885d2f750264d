package verify

import (
	"context"
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
