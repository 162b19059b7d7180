package server

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/media"
)

// Overload: new calls are refused up front (503 with Retry-After, before any
// media or handler exists; sip.Config.Admit) while the server is behind, so
// that the calls in progress keep clean audio and the server recovers by
// itself. Behind means any of:
//   - the media pacer: over the last two seconds, more than maxDropped
//     ticks dropped, or half the ticks starting more than maxTickLate late.
//     A short stall, a garbage collection or a burst of setups (a hundred
//     agents dialling at once) does not refuse calls: a pacer that cannot
//     keep up does. A tick a whole period late is still on time for the
//     far end's jitter buffer, and is what a garbage collection of a large
//     heap does to the pacer on one core: only two periods count;
//   - call setup: as many INVITEs waiting for their handler's answer (the
//     webhook fetches, the store writes of setups) as the setup limit.
//     Calls in setup are what a burst piles up, and a setup queued behind
//     hundreds of others is answered seconds late; by Little's law a limit
//     bounds the setup time to limit / rate (12 setups at 1,000 calls/s:
//     12 ms), and the calls over it are refused at once instead. With the
//     CPU spare the limit is twice what is pending, at least idleSetupLimit
//     (cappedSetupLimit while the rate ceiling refuses calls) and twice the
//     floor, and at most maxPendingSetups: room for slow
//     webhooks, but not for a sudden flood to pile up before the next
//     sample. When the CPU is short (the processors minSchedBusy busy,
//     smoothed over the last samples so that a spike of a hundred
//     milliseconds does not count, over the sample goroutines waited over
//     maxSchedLatency, p90, for one: internal/sched; and setups queue: as
//     many pending as the floor), the limit drops to 70 % of what is
//     pending, down to the floor. It grows back by one per sample, and once
//     the CPU has been spare for quietSamples in a row, at once to half as
//     much again as is pending. Slow webhooks alone do not lower it: they
//     leave the processors idle. The floor is what minSetupWait of setups
//     at the rate of the last second is (Little's law again), at least
//     minSetupLimit: at 2,000 calls/s, 20. Below it the setups wait too
//     little for a limit to shorten their wait: a core 95 % busy while few
//     setups are pending is busy with the calls in progress, and a
//     garbage collection or a burst there passes; the calls refused would
//     only be lost.
//
// With --commit-delay (none by default: the delay adds to call setup), a
// busy server spends less on its store: the busier the processors (smoothed
// over samples), the longer the store may hold writes to commit many at once
// (store.CommitDelayer; commitDelayFor), up to that delay. Below
// commitDelayFrom busy, writes commit at once.
//
// The pacer and the scheduler are sampled every overloadSample on the clock;
// the pending setups are read at each INVITE. A refusal asks the caller to
// come back after retryAfter. The refusals are counted by cause and, when
// there were any, logged at most every refusalReport (report).

const (
	overloadSample   = 100 * time.Millisecond
	overloadWindow   = 20 // samples: the pacer is judged over the last two seconds
	maxTickLate      = 2 * media.FrameDuration
	maxDropped       = 10 // ticks (200 ms) in the window
	maxPendingSetups = 400
	overloadHold     = time.Second // how long a pacer alarm lasts
	retryAfter       = time.Second

	maxSchedLatency = 500 * time.Microsecond // p90 over a sample
	minSchedWaits   = 20                     // waits in a sample for its p90 to count
	minSchedBusy    = 0.95                   // share of the processors' time busy
	minSetupLimit   = 12
	minSetupWait    = 10 * time.Millisecond // the setups the floor lets pending: this long of them
	// idleSetupLimit is the limit with the CPU spare and few calls in setup:
	// a step from idle to 2,000 calls/s took 11-16 ms per setup in its first
	// 100 ms (a cold server), 22-32 pending, where 32 refused some.
	idleSetupLimit = 48
	// While --max-call-rate refuses calls (in the last quietSamples), a
	// setup refused leaves its place under the ceiling to a later call:
	// refusing the calls that pile up in a stall costs no answered call and
	// keeps the setups short. So the rules are then the stricter ones: the
	// idle limit cappedSetupLimit, the CPU short from cappedSchedBusy
	// whatever is pending, the floor minSetupLimit (at 2× a ceiling of
	// 1,200 calls/s the answered calls' p99 was 15-19 ms with these,
	// 22-40 ms with the others).
	cappedSetupLimit = 32
	cappedSchedBusy  = 0.9
	quietSamples     = 10 // a second with the CPU spare: the limit may jump

	refusalReport = 10 * time.Second

	commitDelayFrom = 0.55 // busy share from which the store's commits wait
	commitDelayFull = 0.8  // busy share from which they wait the most
	busyWeight      = 0.3  // of a sample in the smoothed busy share
)

// overload decides whether a new call is taken.
type overload struct {
	pending     func() int             // INVITEs not answered yet
	admitted    func() uint64          // INVITEs taken into setup since the start (nil: floor minSetupLimit)
	rateRefused func() uint64          // INVITEs refused for the rate ceiling since the start (nil: none)
	ticks       func() media.TickStats // the media pacer's
	// sched returns, since its last call, the p90 of the scheduler's waits,
	// how many there were, and the processors' busy share
	// (sched.Probe); nil: not judged.
	sched func() (time.Duration, uint64, float64)
	clock clock.Clock
	// until is when the last pacer alarm ends (UnixNano; 0: none).
	until atomic.Int64
	// limit is the setup limit; 0 stands for idleSetupLimit.
	limit atomic.Int64
	// commitDelay, if set, is given the store's commit delay, up to
	// maxCommitDelay, after each sample of the scheduler
	// (store.CommitDelayer.SetCommitDelay).
	commitDelay    func(time.Duration)
	maxCommitDelay time.Duration
	// quiet counts the samples in a row without the CPU short, and busy is
	// the processors' busy share smoothed over the samples (only the
	// sampling goroutine uses them).
	quiet int
	busy  float64
	// admissions holds admitted at the last quietSamples samples, a ring
	// (sampled counts them), for the rate of setups.
	admissions [quietSamples]uint64
	sampled    int
	// capped counts down the samples left in which the rate ceiling
	// refused calls lately; lastRateRefused is rateRefused at the last.
	capped          int
	lastRateRefused uint64

	// The refusals since the start, by cause (admit): at the setup limit
	// with the CPU spare, at the setup limit within quietSamples of a
	// sample with the CPU short (short tells which), and in a pacer alarm.
	refusedSetup, refusedShort, refusedPacer atomic.Uint64
	short                                    atomic.Bool
	// What the last report counted, and when it was (the sampling
	// goroutine's).
	reported   [3]uint64
	reportedAt time.Time
}

// commitDelayFor is the store's commit delay with the processors busy
// (a share, 0 to 1): none below commitDelayFrom, then growing in
// proportion up to most at commitDelayFull.
func commitDelayFor(busy float64, most time.Duration) time.Duration {
	if busy <= commitDelayFrom {
		return 0
	}
	f := min(1, (busy-commitDelayFrom)/(commitDelayFull-commitDelayFrom))
	return time.Duration(f * float64(most)).Round(10 * time.Microsecond)
}

// setupLimit is how many calls may be in setup at once now.
func (o *overload) setupLimit() int {
	if l := o.limit.Load(); l > 0 {
		return int(l)
	}
	return idleSetupLimit
}

// nextSetupLimit is the setup limit after a sample in which the CPU was
// (busy) or was not short, with pending calls in setup, quiet samples in a
// row before it without the CPU short, the floor (setupFloor) and the
// idle limit (idleSetupLimit or cappedSetupLimit).
func nextSetupLimit(limit, pending int, busy bool, quiet, floor, idle int) int {
	if busy {
		return max(floor, min(limit, pending)*7/10)
	}
	next := max(floor, limit+1)
	if quiet >= quietSamples {
		next = max(next, pending*3/2)
	}
	return min(maxPendingSetups, next, max(idle, 2*floor, 2*pending))
}

// ceilingRefusing samples rateRefused and reports whether the rate ceiling
// refused calls within the last quietSamples samples.
func (o *overload) ceilingRefusing() bool {
	if o.rateRefused != nil {
		if n := o.rateRefused(); n != o.lastRateRefused {
			o.lastRateRefused, o.capped = n, quietSamples
		} else if o.capped > 0 {
			o.capped--
		}
	}
	return o.capped > 0
}

// setupFloor samples admitted and returns the floor of the setup limit:
// minSetupWait of setups at the rate of the last quietSamples samples, at
// least minSetupLimit (until there are that many samples, minSetupLimit).
func (o *overload) setupFloor() int {
	if o.admitted == nil {
		return minSetupLimit
	}
	cur := o.admitted()
	i := o.sampled % len(o.admissions)
	floor := minSetupLimit
	if o.sampled >= len(o.admissions) {
		window := time.Duration(len(o.admissions)) * overloadSample
		floor = max(floor, int(cur-o.admissions[i])*int(minSetupWait)/int(window))
	}
	o.admissions[i] = cur
	o.sampled++
	return floor
}

// admit is sip.Config.Admit: 0 takes the call, anything else refuses it
// with that Retry-After.
func (o *overload) admit() time.Duration {
	if o.pending != nil && o.pending() >= o.setupLimit() {
		if o.short.Load() {
			o.refusedShort.Add(1)
		} else {
			o.refusedSetup.Add(1)
		}
		return retryAfter
	}
	if u := o.until.Load(); u != 0 && o.clock.Now().UnixNano() < u {
		o.refusedPacer.Add(1)
		return retryAfter
	}
	return 0
}

// report logs the calls refused since the last report, by cause, if there
// were any and refusalReport has passed since it (from the sampling
// goroutine).
func (o *overload) report(log *slog.Logger, now time.Time) {
	if o.reportedAt.IsZero() {
		o.reportedAt = now // the first sample: the first report counts from the start
	}
	if log == nil || now.Sub(o.reportedAt) < refusalReport {
		return
	}
	n := [3]uint64{o.refusedSetup.Load(), o.refusedShort.Load(), o.refusedPacer.Load()}
	if n == o.reported {
		return
	}
	log.Warn("overload: new calls refused",
		"since", o.reportedAt, "setup_limit", n[0]-o.reported[0], "setup_limit_cpu_short", n[1]-o.reported[1],
		"pacer", n[2]-o.reported[2], "limit", o.setupLimit(), "cpu_busy", o.busy)
	o.reported, o.reportedAt = n, now
}

// behind reports whether a window of pacer statistics shows it falling
// behind.
func behind(w media.TickStats) bool {
	return w.Dropped > maxDropped || (w.Late.Count() > 0 && w.Late.Quantile(0.5) > maxTickLate)
}

// run samples the pacer and the scheduler until ctx ends.
func (o *overload) run(ctx context.Context, log *slog.Logger) {
	if o.ticks == nil && o.sched == nil {
		return
	}
	t := o.clock.NewTicker(overloadSample)
	defer t.Stop()
	var ring [overloadWindow]media.TickStats
	for i := range ring {
		if o.ticks != nil {
			ring[i] = o.ticks()
		}
	}
	for k := 0; ; k++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		if o.sched != nil {
			o.sampleSched(log)
		}
		o.report(log, o.clock.Now())
		if o.ticks == nil {
			continue
		}
		cur := o.ticks()
		w := cur.Sub(ring[k%overloadWindow]) // the last overloadWindow samples
		ring[k%overloadWindow] = cur
		if behind(w) {
			if o.until.Swap(o.clock.Now().Add(overloadHold).UnixNano()) == 0 && log != nil {
				log.Warn("overload: refusing new calls while the media pacer catches up",
					"dropped", w.Dropped, "late_p50", w.Late.Quantile(0.5), "late_p99", w.Late.Quantile(0.99))
			}
		} else if u := o.until.Load(); u != 0 && o.clock.Now().UnixNano() >= u {
			o.until.Store(0)
			if log != nil {
				log.Info("overload: taking new calls again")
			}
		}
	}
}

// sampleSched moves the setup limit after a sample of the scheduler's waits.
func (o *overload) sampleSched(log *slog.Logger) {
	p90, n, util := o.sched()
	o.busy += (util - o.busy) * busyWeight
	if o.commitDelay != nil {
		o.commitDelay(commitDelayFor(o.busy, o.maxCommitDelay))
	}
	old := o.setupLimit()
	pending := 0
	if o.pending != nil {
		pending = o.pending()
	}
	floor := o.setupFloor()
	idle, short, backlog := idleSetupLimit, minSchedBusy, floor
	if o.ceilingRefusing() {
		idle, short, backlog, floor = cappedSetupLimit, cappedSchedBusy, 0, minSetupLimit
	}
	busy := o.busy >= short && n >= minSchedWaits && p90 > maxSchedLatency && pending >= backlog
	next := nextSetupLimit(old, pending, busy, o.quiet, floor, idle)
	o.limit.Store(int64(next))
	calm := o.quiet >= quietSamples
	if busy {
		o.quiet = 0
		o.short.Store(true)
	} else if o.quiet++; o.quiet >= quietSamples {
		o.short.Store(false)
	}
	if log == nil {
		return
	}
	switch {
	case busy && calm:
		log.Warn("overload: goroutines wait for the CPU; limiting the calls in setup",
			"sched_p90", p90, "cpu_busy", o.busy, "pending", pending, "limit", next, "floor", floor)
	case o.quiet == quietSamples:
		log.Info("overload: the CPU keeps up again", "limit", next)
	}
}
