package sched

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// The probe reads the runtime's own figures: goroutines that woke count as
// waits, the busy share is a share, and each window counts only its own.
func TestProbe(t *testing.T) {
	p := New()
	if p == nil {
		t.Fatal("the runtime has no /sched/latencies:seconds or /cpu/classes metrics")
	}
	var wg sync.WaitGroup
	for range 2000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.Gosched()
		}()
	}
	wg.Wait()
	w := p.Window()
	n, p90, p99 := w.Waits, w.Wait(0.9), w.Wait(0.99)
	if n == 0 || p90 <= 0 || p99 < p90 || w.Busy < 0 || w.Busy > 1 {
		t.Fatalf("after 2,000 goroutines: %d waits, p90 %v, p99 %v, busy %v", n, p90, p99, w.Busy)
	}
	if n2 := p.Window().Waits; n2 >= n {
		t.Errorf("a second window counts %d waits, the first %d: not a window", n2, n)
	}
}

// Wait over a window without waits is 0; the quantiles come from the
// histogram's bucket bounds.
func TestWindowWait(t *testing.T) {
	w := Window{counts: []uint64{0, 0, 0}, buckets: []float64{0, 0.001, 0.002, 0.004}}
	if d := w.Wait(0.9); d != 0 {
		t.Errorf("no waits: p90 %v", d)
	}
	w.counts, w.Waits = []uint64{5, 4, 1}, 10
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.1, time.Millisecond}, {0.5, 2 * time.Millisecond}, {0.95, 4 * time.Millisecond}} {
		if d := w.Wait(tc.q); d != tc.want {
			t.Errorf("Wait(%v) = %v, want %v", tc.q, d, tc.want)
		}
	}
}

// The busy share is the process's CPU time over the window's wall time on
// GOMAXPROCS processors, between 0 and 1, whether or not a garbage
// collection ended in the window.
func TestProbeBusyIsCPUTime(t *testing.T) {
	p := New()
	if p == nil {
		t.Fatal("the runtime has no /sched/latencies:seconds or /cpu/classes metrics")
	}
	var cpu time.Duration
	at, procs := time.Unix(0, 0), 1
	p.cpu = func() (time.Duration, bool) { return cpu, true }
	p.now = func() time.Time { return at }
	p.procs = func() int { return procs }
	p.cpuPrev, p.at = cpu, at
	for _, tc := range []struct {
		cpu, wall time.Duration
		procs     int
		want      float64
	}{
		{75 * time.Millisecond, 100 * time.Millisecond, 1, 0.75},
		{75 * time.Millisecond, 100 * time.Millisecond, 2, 0.375},
		{0, 100 * time.Millisecond, 1, 0},
		{150 * time.Millisecond, 100 * time.Millisecond, 1, 1}, // rounding: at most all
		{time.Millisecond, 0, 1, 1},                            // no time passed: the share of the last window
	} {
		cpu += tc.cpu
		at = at.Add(tc.wall)
		procs = tc.procs
		if got := p.Window().Busy; got != tc.want {
			t.Errorf("%v of CPU in %v on %d processors: busy %v, want %v", tc.cpu, tc.wall, tc.procs, got, tc.want)
		}
	}
}

// processCPU reads the real CPU time: it grows with work done.
func TestProcessCPU(t *testing.T) {
	before, ok := processCPU()
	if !ok {
		t.Skip("no process CPU time on this system")
	}
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for after := before; after <= before; after, _ = processCPU() {
		if time.Now().After(deadline) {
			t.Fatalf("CPU time still %v after 10 s of work", after)
		}
		for i := range 1_000_000 {
			x += i
		}
	}
	_ = x
}
