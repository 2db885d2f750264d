//go:build js && wasm

package main

import "syscall/js"

// decider hands requests to long-lived goroutines and answers through host.settle(id, answer).
//
// Why not a Promise per request, as before: each call then built a js.Func executor and a
// Promise, started a fresh goroutine whose 8 KiB stack grew (morestack, copystack: a stack
// unwind per growth, slow in wasm) on every request, and resolved through a microtask. In a
// CPU profile of the cached-token path that was most of the time spent in Go.
//
// How an answer gets back synchronously: when a js.Func returns, Go's js/wasm scheduler runs
// every runnable goroutine before handing control back to JavaScript (runtime.handleEvent
// waits "until all goroutines are idle"). A decision that needs no I/O — a cached token, a
// refusal — therefore finishes, and calls settle, before __pingedgeDecide has returned to the
// shim, which then finds the answer ready. A decision that waits on fetch or KV parks its
// goroutine on a JS Promise; control returns to the shim with no answer yet, the shim waits,
// and settle is called when the goroutine finishes. Handing work to a goroutine, rather than
// deciding inside the js.Func, is what makes waiting legal: a js.Func that blocks on JS I/O
// deadlocks the runtime.
type decider struct {
	settle js.Value
	decide func(in string) []byte
	jobs   chan job // idle workers receive here
	next   int
}

type job struct {
	id int
	in string
}

func newDecider(settle js.Value, decide func(string) []byte) *decider {
	return &decider{settle: settle, decide: decide, jobs: make(chan job)}
}

// start queues one request and returns its id. Workers are reused, so their grown stacks
// are too; a new one starts only when every worker waits on I/O.
func (d *decider) start(in string) int {
	d.next++
	j := job{id: d.next, in: in}
	select {
	case d.jobs <- j:
	default:
		go d.work(j)
	}
	return j.id
}

func (d *decider) work(j job) {
	for {
		d.settle.Invoke(j.id, string(d.decide(j.in)))
		j = <-d.jobs
	}
}
