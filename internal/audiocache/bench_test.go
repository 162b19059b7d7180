package audiocache_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/audiocache"
	"github.com/switchboard-voice/switchboard/internal/clock"
)

// freshCache returns a cache holding one fresh entry, and its URL.
func freshCache(tb testing.TB) (*audiocache.Cache, string) {
	clk := clock.NewFake(start)
	o := newOrigin(tb, clk)
	o.set("/hit.wav", &file{body: wavBody(16 << 10), cacheControl: "max-age=86400"})
	c, err := audiocache.New(audiocache.Options{Dir: tb.TempDir(), Clock: clk})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	u := o.url("/hit.wav")
	e, err := c.Get(context.Background(), u)
	if err != nil {
		tb.Fatal(err)
	}
	e.Release()
	clk.Advance(time.Minute)
	return c, u
}

// BenchmarkGetFreshHit measures the path every <Play> of a cached file takes:
// a Get answered from the index, and its Release.
func BenchmarkGetFreshHit(b *testing.B) {
	c, u := freshCache(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		e, err := c.Get(ctx, u)
		if err != nil || e.Outcome != audiocache.Hit {
			b.Fatalf("%v %v", e.Outcome, err)
		}
		e.Release()
	}
}

// BenchmarkGetFreshHitParallel is the same from many calls at once.
func BenchmarkGetFreshHitParallel(b *testing.B) {
	c, u := freshCache(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e, err := c.Get(ctx, u)
			if err != nil {
				b.Error(err)
				return
			}
			e.Release()
		}
	})
}

// TestFreshHitDoesNotAllocate pins the benchmark's result: a hit on a URL in
// normal form allocates nothing.
func TestFreshHitDoesNotAllocate(t *testing.T) {
	c, u := freshCache(t)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		e, err := c.Get(ctx, u)
		if err != nil || e.Outcome != audiocache.Hit {
			t.Fatalf("%v %v", e.Outcome, err)
		}
		e.Release()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per fresh hit, want 0", allocs)
	}
}
