package main

import (
	"context"
	"log/slog"
	"runtime/metrics"
	"time"
)

// logSchedLatency logs, every interval until ctx ends, the quantiles of the
// time goroutines waited runnable for a processor (runtime/metrics
// /sched/latencies:seconds) over that interval: how far the process is
// behind its own work.
func logSchedLatency(ctx context.Context, log *slog.Logger, interval time.Duration) {
	s := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(s)
	prev := append([]uint64(nil), s[0].Value.Float64Histogram().Counts...)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(s)
		h := s[0].Value.Float64Histogram()
		var total uint64
		d := make([]uint64, len(h.Counts))
		for i, c := range h.Counts {
			d[i] = c - prev[i]
			total += d[i]
		}
		copy(prev, h.Counts)
		q := func(f float64) time.Duration {
			want := uint64(f * float64(total))
			var acc uint64
			for i, c := range d {
				acc += c
				if acc > want {
					return time.Duration(h.Buckets[i+1] * 1e9)
				}
			}
			return 0
		}
		log.Info("sched latency", "n", total, "p50", q(0.5), "p90", q(0.9), "p99", q(0.99))
	}
}
