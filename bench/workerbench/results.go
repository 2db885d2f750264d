package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// results keeps every figure by target and metric, in the order measured.
type results struct {
	v map[string]map[string][]float64
}

func newResults() *results { return &results{v: map[string]map[string][]float64{}} }

func (r *results) add(target, metric string, x float64) {
	if r.v[target] == nil {
		r.v[target] = map[string][]float64{}
	}
	r.v[target][metric] = append(r.v[target][metric], x)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func span(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f–%.2f", slices.Min(xs), slices.Max(xs))
}

// pairwise is f applied to the i-th figure of a and of b (figures measured in the same round).
func pairwise(a, b []float64, f func(x, y float64) float64) []float64 {
	var out []float64
	for i := range min(len(a), len(b)) {
		out = append(out, f(a[i], b[i]))
	}
	return out
}

func (r *results) print(w io.Writer, ts []*target) {
	fmt.Fprintln(w, "== result (medians of rounds) ==")
	fmt.Fprintf(w, "%-12s %10s %10s %10s %12s\n", "worker", "req/s", "p50 ms", "p99 ms", "cold ms")
	for _, t := range ts {
		name := t.name
		m := r.v[name]
		if m == nil {
			continue
		}
		f := func(metric, format string) string {
			if len(m[metric]) == 0 {
				return "-"
			}
			return fmt.Sprintf(format, median(m[metric]))
		}
		fmt.Fprintf(w, "%-12s %10s %10s %10s %12s\n", name, f("rps", "%.0f"), f("p50", "%.3f"), f("p99", "%.3f"), f("cold", "%.1f"))
	}
	ratio := func(x, y float64) float64 { return x / y }
	diff := func(x, y float64) float64 { return x - y }
	j, f := r.v["jose"], r.v["passthrough"]
	for _, t := range ts {
		p := r.v[t.name]
		if p == nil || j == nil || t.name == "jose" || t.name == "passthrough" || len(p["rps"]) == 0 {
			continue
		}
		rs := pairwise(p["rps"], j["rps"], ratio)
		fmt.Fprintf(w, "warm throughput %s / jose = %.2fx (median of per-round ratios %s; goal >= 1.00x)\n", t.name, median(rs), span(rs))
		p50 := pairwise(p["p50"], j["p50"], ratio)
		fmt.Fprintf(w, "p50 latency %s / jose     = %.2fx (%s)\n", t.name, median(p50), span(p50))
	}
	for _, t := range ts {
		name := t.name
		if name == "passthrough" || r.v[name] == nil || f == nil || len(r.v[name]["cold"]) == 0 {
			continue
		}
		d := pairwise(r.v[name]["cold"], f["cold"], diff)
		goal := ""
		if strings.HasPrefix(name, "pingedge") || name == "go-floor" {
			goal = "; goal <= +50 ms"
		}
		fmt.Fprintf(w, "cold start %-11s - passthrough = %+.1f ms (median of paired starts, %s ms%s)\n", name, median(d), span(d), goal)
	}
}
