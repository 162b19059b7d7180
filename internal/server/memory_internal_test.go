package server

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// The janitor returns memory once the calls have stopped for quietFor,
// once per quiet spell, and never while calls keep starting.
func TestJanitorFreesOnceWhenQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var started, frees atomic.Uint64
		j := &janitor{clock: clock.Real, started: started.Load, free: func() { frees.Add(1) }}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); j.run(ctx, nil) }()
		step := func(calls uint64) {
			started.Add(calls)
			time.Sleep(janitorEvery)
			synctest.Wait()
		}

		for range 12 { // two minutes of calls: never freed under load
			step(100)
		}
		if n := frees.Load(); n != 0 {
			t.Fatalf("freed %d times while calls kept starting", n)
		}
		for range quietFor/janitorEvery - 1 {
			step(0)
		}
		if n := frees.Load(); n != 0 {
			t.Fatalf("freed %d times before %v of quiet", n, quietFor)
		}
		step(0)
		if n := frees.Load(); n != 1 {
			t.Fatalf("freed %d times after %v of quiet, want 1", n, quietFor)
		}
		for range 30 { // five quiet minutes more: nothing more to return
			step(0)
		}
		if n := frees.Load(); n != 1 {
			t.Fatalf("freed %d times over a long quiet, want 1", n)
		}
		step(5) // a call, then quiet again: freed again
		for range quietFor / janitorEvery {
			step(0)
		}
		if n := frees.Load(); n != 2 {
			t.Fatalf("freed %d times after a second quiet spell, want 2", n)
		}
		cancel()
		<-done
	})
}
