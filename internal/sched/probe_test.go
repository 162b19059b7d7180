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
