package server

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/media"
)

// The overload decision: too many setups pending refuses at once; pacer
// ticks dropped in two windows in a row refuse for overloadHold (one window
// alone does not), then calls are taken again.
func TestOverloadAdmit(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	pending := 0
	var dropped atomic.Uint64
	sampled := make(chan struct{}, 1)
	o := &overload{
		clock:   clk,
		pending: func() int { return pending },
		ticks: func() media.TickStats {
			st := media.TickStats{Dropped: dropped.Load()}
			select {
			case sampled <- struct{}{}:
			default:
			}
			return st
		},
	}
	if d := o.admit(); d != 0 {
		t.Fatalf("idle: admit = %v, want 0", d)
	}
	pending = maxPendingSetups + 1
	if d := o.admit(); d != retryAfter {
		t.Fatalf("%d setups pending: admit = %v, want %v", pending, d, retryAfter)
	}
	pending = 0

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { o.run(ctx); close(done) }()
	<-sampled // the first sample, before the ticker
	dropped.Store(3)
	clk.Advance(overloadSample)
	<-sampled // one window with drops
	clk.Advance(overloadSample)
	<-sampled // none in the next
	if d := o.admit(); d != 0 {
		t.Errorf("one window with dropped ticks: admit = %v, want 0", d)
	}
	for o.admit() == 0 { // two windows in a row with drops
		dropped.Add(1)
		clk.Advance(overloadSample)
		<-sampled
	}
	clk.Advance(overloadHold / 2)
	if d := o.admit(); d != retryAfter {
		t.Errorf("within the hold after a dropped tick: admit = %v", d)
	}
	cancel()
	<-done
	clk.Advance(overloadHold)
	if d := o.admit(); d != 0 {
		t.Errorf("after the hold: admit = %v, want 0", d)
	}
}
