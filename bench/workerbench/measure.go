package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func get(ctx context.Context, c *http.Client, url, token string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/api/items", nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func expect200(ctx context.Context, url, token string) error {
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	st, err := get(ctx, c, url, token)
	if err == nil && st != 200 {
		err = fmt.Errorf("status %d, want 200", st)
	}
	return err
}

// throughput runs conns keep-alive connections against url for d and returns requests/s.
func throughput(ctx context.Context, url, token string, conns int, d time.Duration) (float64, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var n atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				st, err := get(ctx, c, url, token)
				if err == nil && st != 200 {
					err = fmt.Errorf("status %d", st)
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

// latency sends n requests one after another on one connection and returns p50 and p99 in ms.
func latency(ctx context.Context, url, token string, n int) (p50, p99 float64, err error) {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ds := make([]float64, 0, n)
	for range n {
		t0 := time.Now()
		st, err := get(ctx, c, url, token)
		if err == nil && st != 200 {
			err = fmt.Errorf("status %d", st)
		}
		if err != nil {
			return 0, 0, err
		}
		ds = append(ds, float64(time.Since(t0).Microseconds())/1000)
	}
	slices.Sort(ds)
	return ds[len(ds)/2], ds[len(ds)*99/100], nil
}

// coldStart spawns a workerd serving t alone and returns the time from the spawn to the
// first verified 200.
func (e *env) coldStart(ctx context.Context, t *target) (time.Duration, error) {
	p, err := e.startWorkerd(ctx, filepath.Join(e.dir, "cold", t.ident()), []*target{t})
	if err != nil {
		return 0, err
	}
	defer p.stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.done: // workerd gave up (a bad config): do not wait for the client's timeout
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := expect200(ctx, p.url[t.name], e.token); err != nil {
		return 0, fmt.Errorf("%s: %w\n%s", t.name, err, p.logs)
	}
	return time.Since(p.started), nil
}

// coldNote says, for a KV-bound target, whether its cold start was answered from KV without
// starting Go (the shim logs once when it starts the core).
func (e *env) coldNote(t *target) string {
	if t.kv == "" {
		return ""
	}
	if strings.Contains(logFile(filepath.Join(e.dir, "cold", t.ident(), "workerd.log")).String(), "starting the pingedge core") {
		return " (Go started)"
	}
	return " (answered from KV, Go not started)"
}

// pieces is how many parts a round's throughput run is cut into, taken in turn for every
// target, so a neighbour's burst on this shared machine hits all targets alike.
const pieces = 4

func warmRound(ctx context.Context, e *env, o options, round int, res *results) error {
	ts := rotate(e.targets, round)
	sum := map[string]float64{}
	for s := range pieces {
		for _, t := range rotate(ts, s) {
			rps, err := throughput(ctx, e.warm.url[t.name], e.token, o.conns, o.duration/pieces)
			if err != nil {
				return fmt.Errorf("%s throughput: %w", t.name, err)
			}
			sum[t.name] += rps / pieces
		}
	}
	for _, t := range ts {
		res.add(t.name, "rps", sum[t.name])
		fmt.Printf("round %d  %-12s %8.0f req/s (%d connections)\n", round, t.name, sum[t.name], o.conns)
	}
	for _, t := range ts {
		p50, p99, err := latency(ctx, e.warm.url[t.name], e.token, o.latencyN)
		if err != nil {
			return fmt.Errorf("%s latency: %w", t.name, err)
		}
		res.add(t.name, "p50", p50)
		res.add(t.name, "p99", p99)
		fmt.Printf("round %d  %-12s p50 %.3f ms  p99 %.3f ms (1 connection)\n", round, t.name, p50, p99)
	}
	return nil
}

func coldRound(ctx context.Context, e *env, o options, round int, res *results) error {
	for i := range o.cold {
		for _, t := range rotate(e.cold, round+i) {
			d, err := e.coldStart(ctx, t)
			if err != nil {
				return err
			}
			ms := float64(d.Microseconds()) / 1000
			res.add(t.name, "cold", ms)
			fmt.Printf("round %d  %-12s cold start %.1f ms%s\n", round, t.name, ms, e.coldNote(t))
		}
	}
	return nil
}

// rotate changes which target goes first from round to round, so none always follows another.
func rotate(ts []*target, k int) []*target {
	if len(ts) == 0 {
		return nil
	}
	k %= len(ts)
	return append(append([]*target{}, ts[k:]...), ts[:k]...)
}
