package verify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// FetchResult is what a Fetcher got back.
type FetchResult struct {
	Status int
	Header http.Header // Cache-Control is read from here
	Body   []byte
}

// Fetcher performs an HTTP GET. It is an interface so the Cloudflare Worker can plug in the
// runtime's fetch(); HTTPFetcher is the net/http default. Implementations must bound the body
// they read (MaxJWKSBytes plus one byte is enough to detect an oversized document).
type Fetcher interface {
	Fetch(ctx context.Context, url string) (*FetchResult, error)
}

// HTTPFetcher fetches with net/http.
type HTTPFetcher struct {
	Client  *http.Client  // nil: a client with a 10 s timeout
	Timeout time.Duration // per fetch; 0 means 10 s
}

// Fetch implements Fetcher. It reads at most MaxJWKSBytes+1 bytes.
func (f *HTTPFetcher) Fetch(ctx context.Context, url string) (*FetchResult, error) {
	timeout := f.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	client := f.Client
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: read body: %w", url, err)
	}
	return &FetchResult{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}
