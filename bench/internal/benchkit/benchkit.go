// Package benchkit is what the benchmark helper programs (bench/edgebench, bench/tunnelbench)
// share: the process entry with signal handling, a plain HTTP server, and the 32 KiB copy-buffer
// pool the baselines get so that buffer reuse is not what a comparison measures.
package benchkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// Main runs run with the program's arguments until it returns or SIGINT/SIGTERM; an error is
// printed after name and exits 1.
func Main(name string, run func(ctx context.Context, args []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		stop()
		os.Exit(1)
	}
}

// Serve serves h on addr until ctx ends.
func Serve(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// BufferPool is an httputil.BufferPool of 32 KiB buffers, as the gateway and the tunnel use.
type BufferPool struct{ p sync.Pool }

// NewBufferPool returns an empty pool.
func NewBufferPool() *BufferPool {
	return &BufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (bp *BufferPool) Get() []byte  { return *bp.p.Get().(*[]byte) }
func (bp *BufferPool) Put(b []byte) { bp.p.Put(&b) }
