package tunnel

import (
	"io"
	"strconv"
	"sync"
	"time"
)

// AccessLog writes one line per request (text, or JSON lines) to an output that is usually a
// terminal or a file. Lines are formatted by appending into one buffer (no per-request
// allocation, no styling library) and written every FlushEvery and on Close, so a busy tunnel
// does not pay a write(2) per request, nor serialise its requests on one; it is what kept the
// tunnel at 0.6× a bare proxy before (docs/performance.md). A buffer that passes maxPending is
// written at once, so a slow reader slows requests down instead of growing memory.
type AccessLog struct {
	w    io.Writer
	opts AccessLogOptions

	mu    sync.Mutex // guards buf and the time stamp cache
	buf   []byte
	sec   int64  // the Unix second stamp holds
	stamp []byte // "15:04:05" of sec in the entry's location (text) or "2006-01-02T15:04:05" UTC (JSON)

	wmu sync.Mutex // one write at a time, in order; guards out
	out []byte

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// AccessLogOptions choose the format.
type AccessLogOptions struct {
	JSON       bool
	Colors     Palette       // ANSI sequences for the text format; the zero value is plain text
	FlushEvery time.Duration // default 100 ms
}

// Palette holds the escape sequences that colour parts of a text line; Reset ends each.
type Palette struct {
	Dim, OK, Warn, Fail, Reset string
}

const maxPending = 64 << 10

// NewAccessLog starts the periodic flush; Close stops it and writes what is left.
func NewAccessLog(w io.Writer, o AccessLogOptions) *AccessLog {
	if o.FlushEvery <= 0 {
		o.FlushEvery = 100 * time.Millisecond
	}
	l := &AccessLog{w: w, opts: o, buf: make([]byte, 0, 8<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go l.flushLoop()
	return l
}

// Log records one request.
func (l *AccessLog) Log(e Entry) {
	l.mu.Lock()
	if l.opts.JSON {
		l.buf = l.appendJSONEntry(l.buf, e)
	} else {
		l.buf = l.appendText(l.buf, e)
	}
	full := len(l.buf) >= maxPending
	l.mu.Unlock()
	if full {
		_ = l.Flush()
	}
}

// Flush writes the buffered lines.
func (l *AccessLog) Flush() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	l.buf, l.out = l.out[:0], l.buf
	l.mu.Unlock()
	if len(l.out) == 0 {
		return nil
	}
	_, err := l.w.Write(l.out)
	return err
}

// Close stops the periodic flush and writes what is left. It is safe to call more than once.
func (l *AccessLog) Close() error {
	l.once.Do(func() { close(l.stop); <-l.done })
	return l.Flush()
}

func (l *AccessLog) flushLoop() {
	defer close(l.done)
	t := time.NewTicker(l.opts.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			_ = l.Flush()
		}
	}
}

// appendText: "15:04:05 GET    /path 200 1.2ms /api → host", the refusal reason instead of the
// route when the tunnel refused the request itself.
func (l *AccessLog) appendText(b []byte, e Entry) []byte {
	c := l.opts.Colors
	b = append(b, c.Dim...)
	if sec := e.Time.Unix(); sec != l.sec || l.stamp == nil {
		l.sec, l.stamp = sec, e.Time.AppendFormat(l.stamp[:0], "15:04:05")
	}
	b = append(b, l.stamp...)
	b = append(b, c.Reset...)
	b = append(b, ' ')
	n := len(b)
	b = AppendEscaped(b, e.Method)
	for len(b)-n < 6 {
		b = append(b, ' ')
	}
	b = append(b, ' ')
	b = AppendEscaped(b, e.Path)
	b = append(b, ' ')
	b = append(b, statusColor(c, e.Status)...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	if statusColor(c, e.Status) != "" {
		b = append(b, c.Reset...)
	}
	b = append(b, ' ')
	b = append(b, c.Dim...)
	b = appendLatency(b, e.Latency)
	b = append(b, ' ')
	switch {
	case e.Refused != "" && e.Refused != "token":
		b = append(b, "refused: "...)
		b = AppendEscaped(b, e.Refused)
	case e.Upstream != "":
		b = AppendEscaped(b, e.Route)
		b = append(b, " → "...)
		b = AppendEscaped(b, e.Upstream)
	default:
		b = AppendEscaped(b, e.Route)
	}
	b = append(b, c.Reset...)
	return append(b, '\n')
}

func statusColor(c Palette, code int) string {
	switch {
	case code >= 500:
		return c.Fail
	case code >= 400:
		return c.Warn
	case code >= 200 && code < 300:
		return c.OK
	}
	return ""
}

// appendJSONEntry writes the fields of encoding/json's rendering of the old accessJSON struct,
// in the same order: time (UTC, RFC 3339 with nanoseconds), method, path, status, bytes,
// latency_ms, route, then upstream and refused when set.
func (l *AccessLog) appendJSONEntry(b []byte, e Entry) []byte {
	b = append(b, `{"time":"`...)
	b = l.appendRFC3339Nano(b, e.Time.UTC())
	b = append(b, `","method":`...)
	b = AppendJSONString(b, e.Method)
	b = append(b, `,"path":`...)
	b = AppendJSONString(b, e.Path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, e.Bytes, 10)
	b = append(b, `,"latency_ms":`...)
	b = strconv.AppendFloat(b, float64(e.Latency.Microseconds())/1000, 'f', -1, 64)
	b = append(b, `,"route":`...)
	b = AppendJSONString(b, e.Route)
	if e.Upstream != "" {
		b = append(b, `,"upstream":`...)
		b = AppendJSONString(b, e.Upstream)
	}
	if e.Refused != "" {
		b = append(b, `,"refused":`...)
		b = AppendJSONString(b, e.Refused)
	}
	return append(b, "}\n"...)
}

// appendLatency writes d rounded to 100 µs the way time.Duration.String does ("0s", "300µs",
// "1.2ms", "2.5s"), without the allocation String costs per request.
func appendLatency(b []byte, d time.Duration) []byte {
	d = d.Round(100 * time.Microsecond)
	switch {
	case d <= 0 || d >= time.Minute:
		return append(b, d.String()...)
	case d < time.Millisecond:
		return append(strconv.AppendInt(b, int64(d/time.Microsecond), 10), "µs"...)
	case d < time.Second:
		return appendFrac(b, int64(d/(100*time.Microsecond)), 1, "ms")
	}
	return appendFrac(b, int64(d/(100*time.Microsecond)), 4, "s")
}

// appendFrac writes n / 10^digits with trailing zeros of the fraction dropped, then unit.
func appendFrac(b []byte, n int64, digits int, unit string) []byte {
	div := int64(1)
	for range digits {
		div *= 10
	}
	b = strconv.AppendInt(b, n/div, 10)
	if frac := n % div; frac != 0 {
		for frac%10 == 0 {
			frac, div = frac/10, div/10
		}
		b = append(b, '.')
		at := len(b)
		b = strconv.AppendInt(b, div+frac, 10) // the leading 1 keeps the fraction's leading zeros
		b = append(b[:at], b[at+1:]...)
	}
	return append(b, unit...)
}

// appendRFC3339Nano is time.RFC3339Nano for a UTC time, with the date and time of day formatted
// once per second: the fraction is all that changes from one request to the next.
func (l *AccessLog) appendRFC3339Nano(b []byte, t time.Time) []byte {
	if sec := t.Unix(); sec != l.sec || l.stamp == nil {
		l.sec, l.stamp = sec, t.AppendFormat(l.stamp[:0], "2006-01-02T15:04:05")
	}
	b = append(b, l.stamp...)
	if ns := t.Nanosecond(); ns != 0 {
		b = append(b, '.')
		at := len(b)
		b = strconv.AppendInt(b, int64(ns)+1e9, 10) // a leading 1 keeps the fraction's leading zeros
		b = append(b[:at], b[at+1:]...)
		for b[len(b)-1] == '0' { // RFC3339Nano drops trailing zeros
			b = b[:len(b)-1]
		}
	}
	return append(b, 'Z')
}
