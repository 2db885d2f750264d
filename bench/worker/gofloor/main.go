//go:build js && wasm

// Command gofloor is the smallest Go Worker core: the Go runtime, one js.Func, nothing else.
// bench/worker.sh runs it as the "go-floor" Worker (instantiated at module scope, started on
// the first request, which it then passes through) to show what Go's js/wasm port costs a
// cold isolate before any pingedge code runs.
package main

import "syscall/js"

func main() {
	js.Global().Set("__goFloor", js.FuncOf(func(js.Value, []js.Value) any { return "ok" }))
	select {}
}
