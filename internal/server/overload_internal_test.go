package server

import (
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/media"
)

// The overload decision: too many setups pending refuses at once; a pacer
// alarm refuses until it ends; a window of pacer statistics is behind only
// past maxDropped dropped ticks (a short stall is taken in stride).
func TestOverloadAdmit(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	pending := 0
	o := &overload{clock: clk, pending: func() int { return pending }}
	if d := o.admit(); d != 0 {
		t.Fatalf("idle: admit = %v, want 0", d)
	}
	pending = maxPendingSetups + 1
	if d := o.admit(); d != retryAfter {
		t.Fatalf("%d setups pending: admit = %v, want %v", pending, d, retryAfter)
	}
	pending = 0
	o.until.Store(clk.Now().Add(overloadHold).UnixNano())
	clk.Advance(overloadHold / 2)
	if d := o.admit(); d != retryAfter {
		t.Errorf("within a pacer alarm: admit = %v", d)
	}
	clk.Advance(overloadHold)
	if d := o.admit(); d != 0 {
		t.Errorf("after the alarm: admit = %v, want 0", d)
	}
	if behind(media.TickStats{Dropped: maxDropped}) {
		t.Errorf("%d dropped ticks in a second count as behind", maxDropped)
	}
	if !behind(media.TickStats{Dropped: maxDropped + 1}) {
		t.Errorf("%d dropped ticks in a second do not count as behind", maxDropped+1)
	}
}
