//go:build unix

package tunnel

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
	"github.com/pingedge/pingedge/internal/secret"
)

// startBenchTunnel serves a tunnel to target with the given DPoP signer (nil: Bearer).
func startBenchTunnel(b *testing.B, target *url.URL, signer *dpopkey.Signer) string {
	src := staticSource{secret.AccessToken{Value: secret.String(strings.Repeat("t", 900)), Expiry: time.Now().Add(time.Hour), IssuedAt: time.Now()}}
	t, err := New(Options{Source: src, Routes: []Route{{Prefix: "/", Target: target}}, DPoP: signer})
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

// BenchmarkTunnelDPoPVsBearer interleaves rounds of the same tunnel with and without DPoP
// against one upstream (which checks that a DPoP request carries a proof), and reports the
// median per-round throughput ratio DPoP / Bearer (issue 14's goal: >= 0.9) and the CPU per
// request of each. A token of JWT size (900 bytes) makes ath's hash realistic.
func BenchmarkTunnelDPoPVsBearer(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("Authorization"), "DPoP ") && r.Header.Get("DPoP") == "" {
			w.WriteHeader(401)
			return
		}
		_, _ = w.Write([]byte(`{"items":[1,2,3],"next":null}`))
	}))
	b.Cleanup(up.Close)
	target, _ := url.Parse(up.URL)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := dpopkey.NewSigner(key)
	bearer, dpop := startBenchTunnel(b, target, nil), startBenchTunnel(b, target, signer)
	client := benchClient()
	const round = 100
	var tb, td, cb, cd time.Duration
	var ratios []float64
	for i, done := 0, 0; done < b.N; i, done = i+1, done+round {
		n := min(round, b.N-done)
		var wb, wd, xb, xd time.Duration
		if i%2 == 0 {
			wb, xb = timeRound(b, client, bearer, n)
			wd, xd = timeRound(b, client, dpop, n)
		} else {
			wd, xd = timeRound(b, client, dpop, n)
			wb, xb = timeRound(b, client, bearer, n)
		}
		tb, td, cb, cd = tb+wb, td+wd, cb+xb, cd+xd
		ratios = append(ratios, wb.Seconds()/wd.Seconds())
	}
	sort.Float64s(ratios)
	b.ReportMetric(float64(b.N)/tb.Seconds(), "bearer-req/s")
	b.ReportMetric(float64(b.N)/td.Seconds(), "dpop-req/s")
	b.ReportMetric(ratios[len(ratios)/2], "dpop/bearer")
	b.ReportMetric(float64(cb.Microseconds())/float64(b.N), "bearer-cpu-µs/req")
	b.ReportMetric(float64(cd.Microseconds())/float64(b.N), "dpop-cpu-µs/req")
}
