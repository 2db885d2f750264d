//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall/js"
	"time"

	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/keyset"
	"github.com/pingedge/pingedge/worker/bridge"
)

// fetcher is keyset.Fetcher on the runtime's fetch(), through the shim's fetchBounded helper
// (which stops reading past the limit and times out). The cooldown and stale-if-error rules
// live in keyset.RemoteKeySet, so they are the gateway's.
//
// With a Workers KV binding, the key set is shared between isolates: the first fetch of a
// URL in an isolate is answered from KV when present (a cold isolate verifies without a trip
// to the issuer), and every network fetch that succeeds is written back with an expirationTtl
// of the response's max-age (at least 60 s, KV's minimum). Later fetches in the isolate (expiry,
// an unknown kid after a rotation) always go to the network, so KV never hides a rotation for
// longer than the cooldown.
//
// Without a binding (kv false) neither happens: no trip to JS for an empty answer, and no JSON
// encoding of the key set, which on the first request of a cold isolate was encoding/json's
// first run (docs/performance.md, "Where the time went").
type fetcher struct {
	host js.Value
	kv   bool
	mu   sync.Mutex
	seen map[string]bool
}

func newFetcher(host js.Value, kv bool) *fetcher {
	return &fetcher{host: host, kv: kv, seen: map[string]bool{}}
}

func (f *fetcher) Fetch(ctx context.Context, url string) (*keyset.FetchResult, error) {
	f.mu.Lock()
	first := !f.seen[url]
	f.seen[url] = true
	f.mu.Unlock()
	if first && f.kv {
		if res := f.fromKV(ctx, url); res != nil {
			return res, nil
		}
	}
	v, err := await(ctx, f.host.Call("fetchBounded", url, jose.MaxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	res := &keyset.FetchResult{Status: v.Get("status").Int(), Header: map[string][]string{}}
	hs := v.Get("headers")
	for i := 0; i < hs.Length(); i++ {
		k := verify.CanonicalHeaderKey(hs.Index(i).Index(0).String())
		res.Header[k] = append(res.Header[k], hs.Index(i).Index(1).String())
	}
	body := v.Get("body")
	res.Body = make([]byte, body.Length())
	js.CopyBytesToGo(res.Body, body)
	if res.Status == 200 && f.kv {
		f.toKV(ctx, url, res)
	}
	return res, nil
}

func (f *fetcher) fromKV(ctx context.Context, url string) *keyset.FetchResult {
	v, err := await(ctx, f.host.Call("kvGet", bridge.KVKeySetKey(url)))
	if err != nil || v.IsNull() || v.IsUndefined() {
		return nil
	}
	res, ok := bridge.KeySetFromKV(v.String(), time.Now())
	if !ok {
		return nil
	}
	return res
}

func (f *fetcher) toKV(ctx context.Context, url string, res *keyset.FetchResult) {
	val, ttl := bridge.KeySetToKV(res, time.Now())
	if _, err := await(ctx, f.host.Call("kvPut", bridge.KVKeySetKey(url), val, int(ttl/time.Second))); err != nil {
		f.host.Call("log", "pingedge: key set not written to KV: "+err.Error())
	}
}

// await waits for a JS Promise. It must be called from a goroutine other than the one the JS
// callback runs on, which is why __pingedgeDecide works inside promise().
func await(ctx context.Context, p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- result{v: arg(a)}
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- result{err: errors.New(jsError(arg(a)))}
		return nil
	})
	p.Call("then", then, catch)
	select {
	case r := <-ch:
		then.Release()
		catch.Release()
		return r.v, r.err
	case <-ctx.Done():
		go func() { <-ch; then.Release(); catch.Release() }() // released once JS is done with them
		return js.Undefined(), ctx.Err()
	}
}

func arg(a []js.Value) js.Value {
	if len(a) == 0 {
		return js.Undefined()
	}
	return a[0]
}

func jsError(v js.Value) string {
	if v.Type() == js.TypeObject && v.Get("message").Type() == js.TypeString {
		return v.Get("message").String()
	}
	return js.Global().Get("String").Invoke(v).String()
}
