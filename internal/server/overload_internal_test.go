package server

import (
	"bytes"
	"log/slog"
	"strings"
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
// pending (never under the floor); one with CPU to spare adds one, or
// after a second of them makes room for half as much again as is pending,
// never over twice what is pending (at least idleSetupLimit and twice the
// floor).
func TestNextSetupLimit(t *testing.T) {
	for _, tc := range []struct {
		limit, pending int
		busy           bool
		quiet, floor   int
		want           int
	}{
		{maxPendingSetups, 200, true, 50, minSetupLimit, 140},
		{maxPendingSetups, 0, true, 0, minSetupLimit, minSetupLimit},
		{50, 200, true, 0, minSetupLimit, 35}, // pending over the limit: from the limit
		{10, 10, true, 0, minSetupLimit, minSetupLimit},
		{minSetupLimit, 3, false, 0, minSetupLimit, minSetupLimit + 1},
		{minSetupLimit, 30, false, quietSamples - 1, minSetupLimit, minSetupLimit + 1}, // between busy samples: one by one
		{minSetupLimit, 30, false, quietSamples, minSetupLimit, 45},                    // slow webhooks, the CPU spare: room at once
		{300, 300, false, quietSamples, minSetupLimit, maxPendingSetups},
		{maxPendingSetups, 3, false, 0, minSetupLimit, idleSetupLimit}, // few in setup: a flood cannot pile up
		{maxPendingSetups, 100, false, 0, minSetupLimit, 200},
		{minSetupLimit, 3, false, 0, 20, 20},    // 2,000 setups/s: never under the floor
		{maxPendingSetups, 3, false, 0, 30, 60}, // room for twice the floor
		{50, 25, true, 0, 20, 20},               // the CPU short: down to the floor
	} {
		if got := nextSetupLimit(tc.limit, tc.pending, tc.busy, tc.quiet, tc.floor, idleSetupLimit); got != tc.want {
			t.Errorf("nextSetupLimit(%d, %d, %v, %d, %d, %d) = %d, want %d", tc.limit, tc.pending, tc.busy, tc.quiet, tc.floor, idleSetupLimit, got, tc.want)
		}
	}
}

// A sample counts as the CPU short only with the processors busy (over a few
// samples), enough waits, and their p90 over maxSchedLatency; then calls in setup at the new
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
		o.busy = 1 // after a busy spell
		o.sampleSched(nil)
		if l := o.setupLimit(); l != 2*pending {
			t.Fatalf("after %+v with %d pending: limit %d, want %d", quiet, pending, l, 2*pending)
		}
	}
	// One busy sample is a spike; a spell of them is the CPU short.
	wait, waits, busy = 5*time.Millisecond, 1000, 1
	o.busy = 0
	o.sampleSched(nil)
	if l := o.setupLimit(); l < 2*pending {
		t.Fatalf("one busy sample with %d pending: limit %d, want %d", pending, l, 2*pending)
	}
	for range quietSamples {
		if o.sampleSched(nil); o.setupLimit() < 2*pending {
			break
		}
	}
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

// maxCommitDelay is the --commit-delay of these tests.
const maxCommitDelay = 3 * time.Millisecond

func TestCommitDelayFor(t *testing.T) {
	for _, tc := range []struct {
		busy float64
		want time.Duration
	}{
		{0, 0},
		{commitDelayFrom, 0},
		{(commitDelayFrom + commitDelayFull) / 2, maxCommitDelay / 2},
		{commitDelayFull, maxCommitDelay},
		{1, maxCommitDelay},
	} {
		if got := commitDelayFor(tc.busy, maxCommitDelay); got != tc.want {
			t.Errorf("commitDelayFor(%v) = %v, want %v", tc.busy, got, tc.want)
		}
	}
}

// Each sample of the scheduler tells the store its commit delay, from the
// busy share smoothed over the samples: one busy sample after quiet ones
// does not hold the store's writes for long, a busy spell does, and the
// delay goes away once the processors are idle again.
func TestSchedSamplesSetTheCommitDelay(t *testing.T) {
	var busy float64
	var delays []time.Duration
	o := &overload{clock: clock.NewFake(time.Unix(0, 0)),
		sched:       func() (time.Duration, uint64, float64) { return 0, 0, busy },
		commitDelay: func(d time.Duration) { delays = append(delays, d) }, maxCommitDelay: maxCommitDelay}
	sample := func(b float64) time.Duration {
		t.Helper()
		busy = b
		o.sampleSched(nil)
		if len(delays) == 0 {
			t.Fatal("a sample did not set the commit delay")
		}
		return delays[len(delays)-1]
	}
	if d := sample(0.3); d != 0 {
		t.Fatalf("processors 30 %% busy: commit delay %v, want none", d)
	}
	if d := sample(1); d >= maxCommitDelay/2 {
		t.Fatalf("one busy sample after a quiet one: commit delay %v, want under %v", d, maxCommitDelay/2)
	}
	if d := sample(1); d <= 0 {
		t.Fatalf("two busy samples: no commit delay")
	}
	for range 20 {
		sample(1)
	}
	if d := delays[len(delays)-1]; d != maxCommitDelay {
		t.Fatalf("after 2 s busy: commit delay %v, want %v", d, maxCommitDelay)
	}
	for range 20 {
		sample(0.2)
	}
	if d := delays[len(delays)-1]; d != 0 {
		t.Fatalf("after 2 s idle: commit delay %v, want none", d)
	}
}

// Refused calls are counted by cause (the setup limit with the CPU spare,
// the limit after a CPU short, a pacer alarm) and logged at most every
// refusalReport, only when there were some.
func TestOverloadReportsRefusals(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	pending := 2 * maxPendingSetups
	var busy float64
	o := &overload{clock: clk, pending: func() int { return pending },
		sched: func() (time.Duration, uint64, float64) { return 5 * time.Millisecond, 1000, busy }}
	sample := func() {
		clk.Advance(overloadSample)
		o.sampleSched(nil)
		o.report(log, clk.Now())
	}
	sample()
	o.admit()
	o.admit() // two at the idle limit
	busy = 1
	for i := 0; !o.short.Load(); i++ {
		if i == 2*quietSamples {
			t.Fatalf("%d samples with the CPU busy: not judged short", i)
		}
		sample()
	}
	o.admit() // one at the limit the CPU short lowered
	pending = 0
	o.until.Store(clk.Now().Add(overloadHold).UnixNano())
	o.admit() // one in a pacer alarm
	if buf.Len() != 0 {
		t.Fatalf("a report within %v: %s", refusalReport, buf.String())
	}
	for range refusalReport / overloadSample {
		sample()
	}
	line := buf.String()
	for _, want := range []string{"setup_limit=2 ", "setup_limit_cpu_short=1 ", "pacer=1 "} {
		if !strings.Contains(line, want) {
			t.Fatalf("report %q lacks %q", line, want)
		}
	}
	buf.Reset()
	for range 2 * refusalReport / overloadSample {
		sample()
	}
	if buf.Len() != 0 {
		t.Fatalf("a report without refusals: %s", buf.String())
	}
}

// The floor of the setup limit follows the rate of setups (minSetupWait of
// them): at 3,000 a second, a core busy while fewer than 30 setups are
// pending is not short for them, and the limit does not go under 30 when
// they queue; at 500 a second the floor is minSetupLimit.
func TestSetupFloorFollowsTheRate(t *testing.T) {
	var admitted uint64
	pending := 10
	o := &overload{clock: clock.NewFake(time.Unix(0, 0)), pending: func() int { return pending },
		admitted: func() uint64 { return admitted },
		sched:    func() (time.Duration, uint64, float64) { return 5 * time.Millisecond, 1000, 1 }}
	o.busy = 1
	run := func(samples int, perSample uint64) {
		for range samples {
			admitted += perSample
			o.sampleSched(nil)
		}
	}
	run(3*quietSamples, 300)
	if l := o.setupLimit(); o.short.Load() || l != 60 {
		t.Fatalf("3,000 setups/s, %d pending, the core busy: short %v, limit %d; want not short, limit 60", pending, o.short.Load(), l)
	}
	pending = 50
	run(5, 300)
	if l := o.setupLimit(); !o.short.Load() || l != 30 {
		t.Fatalf("3,000 setups/s, %d pending, the core busy: short %v, limit %d; want short, limit 30", pending, o.short.Load(), l)
	}
	run(3*quietSamples, 50)
	if l := o.setupLimit(); l != minSetupLimit {
		t.Fatalf("500 setups/s, %d pending, the core busy: limit %d, want %d", pending, l, minSetupLimit)
	}
}

// While the rate ceiling refuses calls, the idle setup limit is
// cappedSetupLimit, and a core 90 % busy lowers the limit whatever is
// pending, down to minSetupLimit; from a second after the ceiling's last
// refusal the other rules hold again, and the limit grows back to
// idleSetupLimit, one a sample.
func TestSetupLimitUnderTheRateCeiling(t *testing.T) {
	var refused, admitted uint64
	var busy float64
	o := &overload{clock: clock.NewFake(time.Unix(0, 0)), pending: func() int { return 3 },
		rateRefused: func() uint64 { return refused }, admitted: func() uint64 { return admitted },
		sched: func() (time.Duration, uint64, float64) { return 5 * time.Millisecond, 1000, busy }}
	sample := func(refusing bool) {
		if refusing {
			refused += 100
		}
		admitted += 300 // 3,000 setups/s: a floor of 30 without the ceiling
		o.sampleSched(nil)
	}
	for range 3 {
		sample(true)
	}
	if l := o.setupLimit(); l != cappedSetupLimit {
		t.Fatalf("the ceiling refusing calls: limit %d, want %d", l, cappedSetupLimit)
	}
	busy, o.busy = cappedSchedBusy, cappedSchedBusy
	for range quietSamples {
		sample(true)
	}
	if l := o.setupLimit(); l != minSetupLimit {
		t.Fatalf("the ceiling refusing calls, the core 90 %% busy, 3 pending: limit %d, want %d", l, minSetupLimit)
	}
	for range quietSamples {
		sample(false)
	}
	if l := o.setupLimit(); l >= 60 {
		t.Fatalf("a second after the ceiling's last refusal: limit %d already", l)
	}
	for range 60 {
		sample(false) // 90 % busy with 3 pending: not short without the ceiling
	}
	if l := o.setupLimit(); l != 60 {
		t.Fatalf("without the ceiling, 3,000 setups/s: limit %d, want 60 (twice the floor)", l)
	}
}
