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

// The setup limit: a sample with the CPU short cuts it to 70 % of what is
// pending (never under minSetupLimit); one with CPU to spare adds one, or
// after a second of them makes room for half as much again as is pending,
// never over twice what is pending (at least idleSetupLimit).
func TestNextSetupLimit(t *testing.T) {
	for _, tc := range []struct {
		limit, pending int
		busy           bool
		quiet          int
		want           int
	}{
		{maxPendingSetups, 200, true, 50, 140},
		{maxPendingSetups, 0, true, 0, minSetupLimit},
		{50, 200, true, 0, 35}, // pending over the limit: from the limit
		{10, 10, true, 0, minSetupLimit},
		{minSetupLimit, 3, false, 0, minSetupLimit + 1},
		{minSetupLimit, 30, false, quietSamples - 1, minSetupLimit + 1}, // between busy samples: one by one
		{minSetupLimit, 30, false, quietSamples, 45},                    // slow webhooks, the CPU spare: room at once
		{300, 300, false, quietSamples, maxPendingSetups},
		{maxPendingSetups, 3, false, 0, idleSetupLimit}, // few in setup: a flood cannot pile up
		{maxPendingSetups, 100, false, 0, 200},
	} {
		if got := nextSetupLimit(tc.limit, tc.pending, tc.busy, tc.quiet); got != tc.want {
			t.Errorf("nextSetupLimit(%d, %d, %v, %d) = %d, want %d", tc.limit, tc.pending, tc.busy, tc.quiet, got, tc.want)
		}
	}
}

// A sample counts as the CPU short only with the processors busy, enough
// waits, and their p90 over maxSchedLatency; then calls in setup at the new
// limit are refused, and the limit grows back sample by sample.
func TestSchedSamplesMoveTheSetupLimit(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	pending := 100
	var wait time.Duration
	var waits uint64
	var busy float64
	o := &overload{clock: clk, pending: func() int { return pending },
		sched: func() (time.Duration, uint64, float64) { return wait, waits, busy }}
	if l := o.setupLimit(); l != idleSetupLimit {
		t.Fatalf("at start: limit %d, want %d", l, idleSetupLimit)
	}
	o.limit.Store(300)
	for _, quiet := range []struct {
		wait  time.Duration
		waits uint64
		busy  float64
	}{
		{50 * time.Millisecond, 1000, 0.5},            // long waits, processors half idle (a pacer tick)
		{50 * time.Millisecond, minSchedWaits - 1, 1}, // too few waits to tell
		{maxSchedLatency, 1000, 1},                    // at the line
	} {
		wait, waits, busy = quiet.wait, quiet.waits, quiet.busy
		o.sampleSched(nil)
		if l := o.setupLimit(); l != 2*pending {
			t.Fatalf("after %+v with %d pending: limit %d, want %d", quiet, pending, l, 2*pending)
		}
	}
	wait, waits, busy = 5*time.Millisecond, 1000, 0.95
	o.sampleSched(nil)
	if l := o.setupLimit(); l != 70 {
		t.Fatalf("CPU short with 100 pending: limit %d, want 70", l)
	}
	if d := o.admit(); d != retryAfter {
		t.Fatalf("100 pending over a limit of 70: admit = %v", d)
	}
	pending = 69
	if d := o.admit(); d != 0 {
		t.Fatalf("69 pending under a limit of 70: admit = %v", d)
	}
	wait, pending = 100*time.Microsecond, 300
	for i := range quietSamples {
		o.sampleSched(nil)
		if l := o.setupLimit(); l != 71+i {
			t.Fatalf("quiet sample %d: limit %d, want %d", i+1, l, 71+i)
		}
	}
	o.sampleSched(nil)
	if l := o.setupLimit(); l != maxPendingSetups {
		t.Fatalf("after a second of quiet samples with 300 pending: limit %d, want %d", l, maxPendingSetups)
	}
}
