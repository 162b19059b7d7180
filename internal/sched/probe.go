package sched

import (
	"runtime"
	"runtime/metrics"
	"time"
)

// A Probe reads the runtime's figures since its last Window. A process with
// room to spare runs a woken goroutine within microseconds; one that cannot
// keep up makes every step of every call wait, which a caller sees as a slow
// answer. The waits alone can mislead: a media pacer tick of a few
// milliseconds delays what wakes meanwhile on a processor otherwise half
// idle. So both count. One goroutine uses a Probe.
//
// The busy share is the process's CPU time (getrusage) over the window's
// wall time and GOMAXPROCS. The runtime's /cpu/classes figures, used where
// getrusage is missing, only move when a garbage collection ends: a window
// without one reads as idle, however busy.
type Probe struct {
	samples         []metrics.Sample // waits, idle CPU, total CPU
	prev            []uint64         // the waits histogram at the last window
	idlePrev, total float64
	w               Window

	// The sources of the busy share, and their values at the last window.
	cpu     func() (time.Duration, bool)
	now     func() time.Time
	procs   func() int
	cpuPrev time.Duration
	at      time.Time
}

// A Window is what a Probe read over one window; valid until the next.
type Window struct {
	Waits   uint64  // how many times a goroutine waited to run
	Busy    float64 // the share of the processors' time not idle, 0 to 1
	counts  []uint64
	buckets []float64
}

// New returns a probe whose first window starts now, or nil if the runtime
// lacks the metrics.
func New() *Probe {
	p := &Probe{samples: []metrics.Sample{
		{Name: "/sched/latencies:seconds"},
		{Name: "/cpu/classes/idle:cpu-seconds"},
		{Name: "/cpu/classes/total:cpu-seconds"},
	}, cpu: processCPU, now: time.Now, procs: func() int { return runtime.GOMAXPROCS(0) }}
	metrics.Read(p.samples)
	if p.samples[0].Value.Kind() != metrics.KindFloat64Histogram ||
		p.samples[1].Value.Kind() != metrics.KindFloat64 || p.samples[2].Value.Kind() != metrics.KindFloat64 {
		return nil
	}
	h := p.samples[0].Value.Float64Histogram()
	p.prev = append([]uint64(nil), h.Counts...)
	p.w.counts = make([]uint64, len(h.Counts))
	p.idlePrev, p.total = p.samples[1].Value.Float64(), p.samples[2].Value.Float64()
	p.cpuPrev, _ = p.cpu()
	p.at = p.now()
	return p
}

// Window ends the current window, returns what it saw, and starts the next.
func (p *Probe) Window() *Window {
	metrics.Read(p.samples)
	w := &p.w
	idle, total := p.samples[1].Value.Float64(), p.samples[2].Value.Float64()
	if cpu, ok := p.cpu(); ok {
		// A window of no time keeps the last window's share.
		at := p.now()
		if wall := at.Sub(p.at) * time.Duration(max(1, p.procs())); wall > 0 {
			w.Busy = min(1, max(0, float64(cpu-p.cpuPrev)/float64(wall)))
			p.cpuPrev, p.at = cpu, at
		}
	} else {
		w.Busy = 0
		if dt := total - p.total; dt > 0 {
			w.Busy = min(1, max(0, 1-(idle-p.idlePrev)/dt))
		}
	}
	p.idlePrev, p.total = idle, total
	h := p.samples[0].Value.Float64Histogram()
	w.buckets = h.Buckets
	w.Waits = 0
	if len(h.Counts) != len(p.prev) {
		p.prev = append(p.prev[:0], h.Counts...)
		w.counts = make([]uint64, len(h.Counts))
		return w
	}
	for i, c := range h.Counts {
		w.counts[i] = c - p.prev[i]
		w.Waits += w.counts[i]
	}
	copy(p.prev, h.Counts)
	return w
}

// Wait returns the q quantile (0 to 1) of the window's waits; 0 without any.
func (w *Window) Wait(q float64) time.Duration {
	want := uint64(q * float64(w.Waits))
	var acc uint64
	for i, c := range w.counts {
		acc += c
		if w.Waits > 0 && acc > want {
			// The bucket's upper bound (the last is +Inf: its lower one).
			b := w.buckets[i+1]
			if b > 1e9 {
				b = w.buckets[i]
			}
			return time.Duration(b * float64(time.Second))
		}
	}
	return 0
}
