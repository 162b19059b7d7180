package media

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// NewSession binds its sockets (several system calls) without holding a lock
// the pacer takes: while a bind is stuck, ticks are serviced and sessions end.
func TestNewSessionBindsOutsideThePacersLocks(t *testing.T) {
	h := newHarness(t)
	other := h.session()
	bind := h.e.ports.bindRTP
	entered, release := make(chan struct{}, 1), make(chan struct{})
	h.e.ports.bindRTP = func(ip netip.Addr, port int) (rtpSocket, error) {
		entered <- struct{}{}
		<-release
		return bind(ip, port)
	}
	res := make(chan error, 1)
	go func() {
		s, err := h.e.NewSession()
		if err == nil {
			s.Close()
		}
		res <- err
	}()
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer func() {
		unblock()
		<-res
	}()
	<-entered
	h.advance(2, nil) // fails (times out) if the pacer waits for the bind
	closed := make(chan struct{})
	go func() {
		other.Close() // returns its ports: the allocator is not locked either
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for another session's bind")
	}
	unblock()
	if err := <-res; err != nil {
		t.Fatalf("NewSession = %v", err)
	}
	res <- nil // for the deferred receive
}

func TestHistogramBucketsAndQuantiles(t *testing.T) {
	for _, v := range []uint64{0, 1, 7, 8, 9, 15, 16, 17, 1000, 999_999, 1 << 30, 1<<40 - 1} {
		b := histBucket(v)
		if up := uint64(histUpper(b)); up < v || (b > 0 && uint64(histUpper(b-1)) >= v) {
			t.Errorf("%d ns in bucket %d (%d..%d]", v, b, histUpper(b-1), up)
		}
		if up := uint64(histUpper(b)); v >= histSub && float64(up-v) > float64(v)/histSub {
			t.Errorf("%d ns: bucket bound %d more than 12.5 %% above", v, up)
		}
	}
	var h liveHist
	r := rand.New(rand.NewPCG(1, 2))
	var all []time.Duration
	for range 10000 {
		d := time.Duration(r.Int64N(int64(10 * time.Millisecond)))
		all = append(all, d)
		h.record(d)
	}
	slices.Sort(all)
	s := h.snapshot()
	for _, q := range []float64{0.5, 0.9, 0.99} {
		want := all[int(q*float64(len(all)))-1]
		if got := s.Quantile(q); got < want || got > want+want/histSub+1 {
			t.Errorf("p%v = %v, want %v (+12.5 %%)", q*100, got, want)
		}
	}
	if s.Count() != 10000 || s.Max() != all[len(all)-1] {
		t.Errorf("count %d max %v, want 10000 and %v", s.Count(), s.Max(), all[len(all)-1])
	}
	h.record(time.Second)
	w := h.snapshot().Sub(s)
	if w.Count() != 1 || w.Quantile(0.5) < time.Second || w.Quantile(0.5) > time.Second*9/8 {
		t.Errorf("window after a 1 s tick: count %d p50 %v", w.Count(), w.Quantile(0.5))
	}
	if testing.AllocsPerRun(100, func() { h.record(time.Millisecond) }) != 0 {
		t.Error("record allocates")
	}
}

// about reports whether d is want, give or take a histogram bucket.
func about(d, want time.Duration) bool { return d >= want && d <= want+want/histSub }

// advanceSource advances a fake clock by d on every ReadFrame: a source
// that takes d to produce a frame.
type advanceSource struct {
	h *harness
	d time.Duration
}

func (a advanceSource) ReadFrame(f []int16) error {
	clear(f)
	a.h.fake.Advance(a.d)
	return nil
}

// The pacer times each tick's phases on the engine's clock: hooks and a
// source that take time (they move the fake clock) show in their phase, per
// shard and per group, and ticks serviced late show as lateness.
func TestTickStats(t *testing.T) {
	h := newHarness(t, func(c *EngineConfig) { c.Shards = 2 })
	g := &Group{e: h.e, sh: h.e.shards[1]}
	unhook1 := g.AddTickHook(func(uint64) { h.fake.Advance(3 * time.Millisecond) })
	unhook2 := h.e.AddTickHook(func(uint64) { h.fake.Advance(time.Millisecond) })
	src, err := (&Group{e: h.e, sh: h.e.shards[0]}).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	play := playAsync(src, context.Background(), advanceSource{h, 2 * time.Millisecond})
	waitUntil(t, func() bool { src.playMu.Lock(); defer src.playMu.Unlock(); return src.play != nil }, "play")

	// Ten ticks, every other one started 7 ms after it was due.
	const n = 10
	for k := 1; k <= n; k++ {
		at := time.Duration(k) * FrameDuration
		if k%2 == 0 {
			at += 7 * time.Millisecond
		}
		h.fake.Advance(h.e.start.Add(at).Sub(h.fake.Now()))
		waitUntil(t, func() bool { return h.e.processed.Load() >= uint64(k) }, "tick")
	}
	st := h.e.TickStats()
	if st.Ticks != n || st.Dropped != 0 {
		t.Fatalf("ticks %d dropped %d, want %d and 0", st.Ticks, st.Dropped, n)
	}
	if c, p50, p99, m := st.Late.Count(), st.Late.Quantile(0.5), st.Late.Quantile(0.99), st.Late.Max(); c != n || p50 != 0 || !about(p99, 7*time.Millisecond) || m != 7*time.Millisecond {
		t.Errorf("lateness: %d ticks, p50 %v p99 %v max %v; want p50 0, p99 and max 7 ms", c, p50, p99, m)
	}
	checks := []struct {
		what string
		h    Histogram
		n    uint64
		want time.Duration
	}{
		{"tick", st.Tick, n, 6 * time.Millisecond},
		{"engine hooks", st.EngineHooks, n, time.Millisecond},
		{"shard 1 hooks", st.Shards[1].Hooks, n, 3 * time.Millisecond},
		{"group hooks", g.HookStats(), n, 3 * time.Millisecond},
		{"shard 0 send", st.Shards[0].Send, n, 2 * time.Millisecond},
	}
	for _, c := range checks {
		tm := c.h.Timing()
		if tm.Count != c.n || !about(tm.P50, c.want) || !about(tm.P99, c.want) || tm.Max != c.want {
			t.Errorf("%s: %+v, want %d counts of %v", c.what, tm, c.n, c.want)
		}
	}
	if st.Shards[0].Hooks.Count() != 0 || st.Receive.Count() != 2*n || st.Shards[0].Sessions != 1 {
		t.Errorf("shard 0 hooks counted %d, receive phases %d (want 0 and %d), sessions %d",
			st.Shards[0].Hooks.Count(), st.Receive.Count(), 2*n, st.Shards[0].Sessions)
	}

	// A stall of a second (nothing moves the clock in the ticks any more):
	// the ticks given up are counted.
	unhook1()
	unhook2()
	src.Close()
	<-play
	st = h.e.TickStats()
	h.fake.Advance(h.e.start.Add((n + 50) * FrameDuration).Sub(h.fake.Now()))
	waitUntil(t, func() bool { return h.e.processed.Load() >= n+50 }, "catch-up")
	w := h.e.TickStats().Sub(st)
	if w.Ticks != 50 || w.Dropped != 50-maxCatchUp || w.Tick.Count() != maxCatchUp {
		t.Errorf("after a 1 s stall: window of %d ticks, %d dropped, %d serviced; want 50, %d, %d",
			w.Ticks, w.Dropped, w.Tick.Count(), 50-maxCatchUp, maxCatchUp)
	}
	if m := w.Late.Quantile(1); m < 80*time.Millisecond {
		t.Errorf("after a 1 s stall the latest tick started %v late, want 80 ms or more", m)
	}
}
