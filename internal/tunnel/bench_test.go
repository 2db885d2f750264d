//go:build unix

package tunnel

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/secret"
)

// staticSource hands out one long-lived token: the benchmark measures the proxy, not refreshes.
type staticSource struct{ tok secret.AccessToken }

func (s staticSource) Token(context.Context, time.Duration) (secret.AccessToken, error) {
	return s.tok, nil
}

func (s staticSource) Refresh(context.Context, secret.String) (secret.AccessToken, error) {
	return s.tok, nil
}

// benchProxies starts one upstream and, in front of it, the tunnel and a bare
// httputil.ReverseProxy that sets a fixed Authorization header, both with the same transport
// settings and copy-buffer pool; the tunnel writes its access log to a file. It returns their base URLs.
func benchProxies(b *testing.B) (bare, tun string) {
	b.Helper()
	body := []byte(`{"items":[1,2,3],"next":null}`)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(up.Close)
	target, _ := url.Parse(up.URL)

	bareTr, _ := NewTransport(TransportOptions{})
	bareProxy := &httputil.ReverseProxy{Transport: bareTr, BufferPool: newBufferPool(), Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Header.Set("Authorization", "Bearer fixed-token-of-similar-length-0123456789")
	}}
	bareSrv := httptest.NewServer(bareProxy)
	b.Cleanup(bareSrv.Close)

	src := staticSource{secret.AccessToken{Value: "fixed-token-of-similar-length-0123456789", Expiry: time.Now().Add(time.Hour), IssuedAt: time.Now()}}
	// The access log is on and goes to a file, as when an engineer redirects stdout.
	logFile, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
	if err != nil {
		b.Fatal(err)
	}
	alog := NewAccessLog(logFile, AccessLogOptions{})
	b.Cleanup(func() { _ = alog.Close(); _ = logFile.Close() })
	return bareSrv.URL, serveBenchTunnel(b, Options{Source: src, Routes: []Route{{Prefix: "/", Target: target}}, AccessLog: alog.Log})
}

// serveBenchTunnel serves a tunnel with opts on a loopback port until the benchmark ends and
// returns its base URL.
func serveBenchTunnel(b *testing.B, opts Options) string {
	b.Helper()
	t, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- t.Serve(ctx, ln) }()
	b.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

const benchWorkers = 16

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * benchWorkers}}
}

func doRequest(c *http.Client, u string) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// BenchmarkProxy measures each proxy alone (ns/op is per request, with 16 concurrent clients).
func BenchmarkProxy(b *testing.B) {
	bare, tun := benchProxies(b)
	for _, c := range []struct{ name, url string }{{"bare", bare}, {"tunnel", tun}} {
		b.Run(c.name, func(b *testing.B) {
			client := benchClient()
			b.SetParallelism(max(1, benchWorkers/runtime.GOMAXPROCS(0))) // goroutines = GOMAXPROCS * p
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := doRequest(client, c.url+"/api/items"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkTunnelVsBare interleaves rounds of the bare proxy and the tunnel against the same
// upstream, alternating which goes first, so both see the same machine load. It reports total
// throughput of each and the median of the per-round throughput ratios (goal >= 0.95), which
// a burst of load from other processes cannot skew the way it skews totals.
func BenchmarkTunnelVsBare(b *testing.B) {
	bare, tun := benchProxies(b)
	interleave(b, benchClient(), bare, tun, "bare", "tunnel")
}

// interleave times rounds of 100 requests through base and other in turn (alternating which goes
// first, so both see the same machine load) and reports each one's total requests/s, the
// median of the per-round throughput ratios other/base, and CPU per request of each.
func interleave(b *testing.B, client *http.Client, base, other, baseName, otherName string) {
	const round = 100
	var baseTime, otherTime, baseCPU, otherCPU time.Duration
	var ratios []float64
	for i, done := 0, 0; done < b.N; i, done = i+1, done+round {
		n := min(round, b.N-done)
		var tb, to, cb, co time.Duration
		if i%2 == 0 {
			tb, cb = timeRound(b, client, base, n)
			to, co = timeRound(b, client, other, n)
		} else {
			to, co = timeRound(b, client, other, n)
			tb, cb = timeRound(b, client, base, n)
		}
		baseTime, otherTime, baseCPU, otherCPU = baseTime+tb, otherTime+to, baseCPU+cb, otherCPU+co
		ratios = append(ratios, tb.Seconds()/to.Seconds())
	}
	sort.Float64s(ratios)
	b.ReportMetric(float64(b.N)/baseTime.Seconds(), baseName+"-req/s")
	b.ReportMetric(float64(b.N)/otherTime.Seconds(), otherName+"-req/s")
	b.ReportMetric(ratios[len(ratios)/2], otherName+"/"+baseName)
	// CPU per request (client, proxy and upstream together, all in this process) is what bounds
	// throughput on a busy machine, and is far less disturbed by other jobs than wall time.
	b.ReportMetric(float64(baseCPU.Microseconds())/float64(b.N), baseName+"-cpu-µs/req")
	b.ReportMetric(float64(otherCPU.Microseconds())/float64(b.N), otherName+"-cpu-µs/req")
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timeRound sends n requests from benchWorkers goroutines and returns the wall and CPU time.
func timeRound(b *testing.B, c *http.Client, u string, n int) (wall, cpu time.Duration) {
	var wg sync.WaitGroup
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	start, cpu0 := time.Now(), cpuTime()
	for range benchWorkers {
		wg.Go(func() {
			for range next {
				if err := doRequest(c, u+"/api/items"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), cpuTime() - cpu0
}
