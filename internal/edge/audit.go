package edge

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pingedge/pingedge/internal/verify"
)

// auditFlushEvery bounds how long an audit line may sit in the buffer.
const auditFlushEvery = 100 * time.Millisecond

// auditSink writes one JSON line per decision. Lines are buffered and flushed every
// auditFlushEvery and at shutdown, so a busy gateway does not pay a write(2) per request; a
// line is never split because each record is written whole under the lock.
type auditSink struct {
	mu      sync.Mutex
	w       *bufio.Writer
	scratch []byte // one line, reused under mu
	log     *slog.Logger
}

func newAuditSink(w io.Writer, log *slog.Logger) *auditSink {
	if w == nil {
		return nil
	}
	return &auditSink{w: bufio.NewWriterSize(w, 64<<10), log: log}
}

func (a *auditSink) write(rec verify.AuditRecord) {
	if a == nil {
		return
	}
	a.mu.Lock()
	a.scratch = append(rec.AppendJSON(a.scratch[:0]), '\n')
	_, err := a.w.Write(a.scratch)
	a.mu.Unlock()
	if err != nil {
		a.log.Error("audit write failed", "err", err)
	}
}

// Flush writes out buffered lines.
func (a *auditSink) Flush() {
	if a == nil {
		return
	}
	a.mu.Lock()
	err := a.w.Flush()
	a.mu.Unlock()
	if err != nil {
		a.log.Error("audit flush failed", "err", err)
	}
}

// loop flushes periodically until ctx ends.
func (a *auditSink) loop(ctx context.Context) {
	if a == nil {
		return
	}
	t := time.NewTicker(auditFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.Flush()
		}
	}
}
