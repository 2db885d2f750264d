// Command workerbench is the driver of bench/worker.sh: it runs the pingedge Worker, a jose
// Worker (bench/worker/jose.mjs) and a pass-through Worker side by side in one local workerd,
// with the same origin, token and policy, and measures warm throughput, latency at one
// connection and cold start (workerd spawned → first verified 200). It is a benchmark helper,
// not part of pingedge.
//
//	workerbench -jose bench/worker/dist/jose.mjs [-rounds 3] [-duration 5s] [-conns 16] [-cold 5]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the flags.
type options struct {
	jose, passthrough string // bundled jose Worker, pass-through Worker source
	pingedgeDir       string // a prebuilt pingedge bundle ("" builds one from this checkout)
	rounds, conns     int
	duration          time.Duration
	latencyN, cold    int
	taskset           string // CPU list workerd is pinned to ("" = none)
	only              string // comma-separated targets to run ("" = all)
	alg               string
	extra             extraFlag // more pingedge bundles to compare, name=dir
}

type extraFlag []string

func (e *extraFlag) String() string     { return fmt.Sprint(*e) }
func (e *extraFlag) Set(v string) error { *e = append(*e, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var o options
	flag.StringVar(&o.jose, "jose", "bench/worker/dist/jose.mjs", "the bundled jose Worker")
	flag.StringVar(&o.passthrough, "passthrough", "bench/worker/passthrough.mjs", "the pass-through Worker")
	flag.StringVar(&o.pingedgeDir, "pingedge", "", "a pingedge Worker bundle directory (default: build one from this checkout)")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds of every measurement")
	flag.IntVar(&o.conns, "conns", 16, "connections for the throughput runs")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of one throughput run")
	flag.IntVar(&o.latencyN, "latency-n", 400, "requests per latency run (one connection)")
	flag.IntVar(&o.cold, "cold", 3, "cold starts per Worker per round")
	flag.StringVar(&o.taskset, "cpu", "", "pin workerd to these CPUs with taskset (e.g. 0)")
	flag.StringVar(&o.only, "only", "", "run only these targets (comma-separated)")
	flag.StringVar(&o.alg, "alg", "RS256", "the issuer's signing algorithm (RS256, PS256, ES256)")
	flag.Var(&o.extra, "extra", "another pingedge Worker bundle to measure beside the others, as name=dir (repeatable)")
	flag.Parse()
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "workerbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	e, err := setup(ctx, o)
	if err != nil {
		return err
	}
	defer e.close()
	res := newResults()
	for round := 1; round <= o.rounds; round++ {
		if err := warmRound(ctx, e, o, round, res); err != nil {
			return err
		}
		if err := coldRound(ctx, e, o, round, res); err != nil {
			return err
		}
	}
	res.print(os.Stdout, e.cold)
	return nil
}
