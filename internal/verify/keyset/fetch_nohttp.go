//go:build js || wasip1

package keyset

import (
	"context"
	"errors"
)

// defaultFetcher under GOOS=js and wasip1 refuses: the host must pass a Fetcher (the Worker passes its JS
// fetch), because net/http would more than double the wasm module.
func defaultFetcher() Fetcher { return noFetcher{} }

type noFetcher struct{}

func (noFetcher) Fetch(context.Context, string) (*FetchResult, error) {
	return nil, errors.New("no Fetcher configured: pass EngineOptions.Fetcher (GOOS=js and wasip1 have no net/http default)")
}
