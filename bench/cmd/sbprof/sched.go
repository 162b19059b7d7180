package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sched"
)

// logSchedLatency logs, every interval until ctx ends, the quantiles of the
// time goroutines waited runnable for a processor over that interval, and
// how busy the processors were (internal/sched): how far the process is
// behind its own work.
func logSchedLatency(ctx context.Context, log *slog.Logger, interval time.Duration) {
	p := sched.New()
	if p == nil {
		log.Error("sched latency: the runtime lacks the metrics")
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w := p.Window()
		log.Info("sched latency", "n", w.Waits, "p50", w.Wait(0.5), "p90", w.Wait(0.9), "p99", w.Wait(0.99), "busy", w.Busy)
	}
}
