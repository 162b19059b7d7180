package server

import (
	"runtime/metrics"
	"time"
)

// schedProbe reads, from the Go runtime, how busy the process's processors
// were over a window and how long goroutines waited, runnable, for one
// (/sched/latencies:seconds): the process's own queue for the CPU. A process
// with room to spare runs a woken goroutine within microseconds; one that
// cannot keep up makes every step of every call wait, which a caller sees as
// a slow answer. The waits alone can mislead: a media pacer tick of a few
// milliseconds delays what wakes meanwhile on a processor otherwise half
// idle. So both count.
type schedProbe struct {
	samples         []metrics.Sample // waits, idle CPU, total CPU
	prev, delta     []uint64         // the waits histogram at the last window, and since
	idlePrev, total float64
}

func newSchedProbe() *schedProbe {
	p := &schedProbe{samples: []metrics.Sample{
		{Name: "/sched/latencies:seconds"},
		{Name: "/cpu/classes/idle:cpu-seconds"},
		{Name: "/cpu/classes/total:cpu-seconds"},
	}}
	metrics.Read(p.samples)
	if p.samples[0].Value.Kind() != metrics.KindFloat64Histogram ||
		p.samples[1].Value.Kind() != metrics.KindFloat64 || p.samples[2].Value.Kind() != metrics.KindFloat64 {
		return nil // not in this runtime
	}
	h := p.samples[0].Value.Float64Histogram()
	p.prev = append([]uint64(nil), h.Counts...)
	p.delta = make([]uint64, len(h.Counts))
	p.idlePrev, p.total = p.samples[1].Value.Float64(), p.samples[2].Value.Float64()
	return p
}

// window returns, since the last call, the q quantile of the waits, how many
// waits there were, and the share of the processors' time that was not
// idle (0 to 1).
func (p *schedProbe) window(q float64) (wait time.Duration, n uint64, busy float64) {
	metrics.Read(p.samples)
	idle, total := p.samples[1].Value.Float64(), p.samples[2].Value.Float64()
	if dt := total - p.total; dt > 0 {
		busy = min(1, max(0, 1-(idle-p.idlePrev)/dt))
	}
	p.idlePrev, p.total = idle, total
	h := p.samples[0].Value.Float64Histogram()
	if len(h.Counts) != len(p.prev) {
		p.prev = append(p.prev[:0], h.Counts...)
		p.delta = make([]uint64, len(h.Counts))
		return 0, 0, busy
	}
	for i, c := range h.Counts {
		p.delta[i] = c - p.prev[i]
		n += p.delta[i]
	}
	copy(p.prev, h.Counts)
	want := uint64(q * float64(n))
	var acc uint64
	for i, c := range p.delta {
		acc += c
		if n > 0 && acc > want {
			// The bucket's upper bound (the last is +Inf: its lower one).
			b := h.Buckets[i+1]
			if b > 1e9 {
				b = h.Buckets[i]
			}
			return time.Duration(b * float64(time.Second)), n, busy
		}
	}
	return 0, n, busy
}
