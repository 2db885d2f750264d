//go:build js && wasm

// Command wasm is the Go half of pingedge's Cloudflare Worker: compiled with GOOS=js
// GOARCH=wasm, it builds one verification engine per isolate from the policy the shim passes
// in (go.env PINGEDGE_POLICY, precompiled: bridge.DecodePolicy) and registers globalThis.__pingedgeDecide, which the shim calls
// once per request (decider.go says how an answer gets back without a Promise per request).
package main

import (
	"context"
	"log/slog"
	"os"
	"syscall/js"
	"time"

	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/keyset"
	"github.com/pingedge/pingedge/worker/bridge"
)

func main() {
	host := js.Global().Get("__pingedgeHost")
	eng, err := newEngine(host)
	if err != nil {
		msg := js.ValueOf("pingedge worker: the policy did not load: " + err.Error())
		js.Global().Set("__pingedgeDecide", js.FuncOf(func(js.Value, []js.Value) any { return msg }))
	} else {
		d := newDecider(host.Get("settle"), func(in string) []byte { return bridge.DecideWire(context.Background(), eng, in) })
		js.Global().Set("__pingedgeDecide", js.FuncOf(func(_ js.Value, args []js.Value) any {
			return d.start(args[0].String())
		}))
	}
	select {} // keep the Go runtime alive for the isolate's lifetime
}

func newEngine(host js.Value) (*verify.Engine, error) {
	p, err := bridge.DecodePolicy(os.Getenv("PINGEDGE_POLICY")) // precompiled by edge worker build
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(consoleWriter{host}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	kv := os.Getenv("PINGEDGE_KV") == "1"
	keys := keyset.NewRemoteKeySet(p.JWKSURI, keyset.RemoteOptions{
		Issuer: p.Issuer, Fetcher: newFetcher(host, kv), Logger: log, Cooldown: cooldown(),
	})
	opts := verify.EngineOptions{KeySet: keys, Logger: log}
	if kv {
		// Only with a binding: without one every in-memory miss would cost a trip to JS.
		opts.ResultStore = bridge.ResultStore{KV: jsKV{host}, Log: func(m string) { host.Call("log", m) }}
	}
	return verify.NewEngine(p, opts)
}

// cooldown is the key set's refetch cooldown: verify's default (the gateway's) unless the
// PINGEDGE_JWKS_COOLDOWN variable says otherwise; tests shorten it because workerd's clock
// cannot be faked.
func cooldown() time.Duration {
	d, err := time.ParseDuration(os.Getenv("PINGEDGE_JWKS_COOLDOWN"))
	if err != nil || d <= 0 {
		return 0 // verify's default
	}
	return d
}

// consoleWriter sends the engine's log lines (JSON, never a token) to the shim's logger,
// which writes them with console.error so they land in Workers Logs next to the audit lines.
type consoleWriter struct{ host js.Value }

func (w consoleWriter) Write(b []byte) (int, error) {
	w.host.Call("log", string(b))
	return len(b), nil
}
