//go:build !js && !wasip1

package keyset

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// defaultFetcher is what a key set uses when none is given. In the Worker (GOOS=js) there is
// none: the bridge passes its JS fetch, and net/http stays out of the wasm module.
func defaultFetcher() Fetcher { return &HTTPFetcher{} }

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
	body, err := io.ReadAll(io.LimitReader(resp.Body, jose.MaxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: read body: %w", url, err)
	}
	return &FetchResult{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}
