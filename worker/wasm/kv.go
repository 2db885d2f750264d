//go:build js && wasm

package main

import (
	"context"
	"syscall/js"
)

// jsKV is bridge.KV on the shim's kvGet and kvPut, which reach the PINGEDGE_KV binding.
type jsKV struct{ host js.Value }

func (k jsKV) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := await(ctx, k.host.Call("kvGet", key))
	if err != nil || v.IsNull() || v.IsUndefined() {
		return "", false, err
	}
	return v.String(), true, nil
}

func (k jsKV) Put(ctx context.Context, key, value string, ttlSeconds int) error {
	_, err := await(ctx, k.host.Call("kvPut", key, value, ttlSeconds))
	return err
}
