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
//   - call setup: more INVITEs waiting for their handler's answer than
//     maxPendingSetups (the webhook fetches, the store writes of setups).
//
// The pacer is sampled every overloadSample on the clock; the pending setups
// are read at each INVITE. A refusal asks the caller to come back after
// retryAfter.

const (
	overloadSample   = 250 * time.Millisecond
	overloadWindow   = 8 // samples: the pacer is judged over the last two seconds
	maxTickLate      = 2 * media.FrameDuration
	maxDropped       = 10 // ticks (200 ms) in the window
	maxPendingSetups = 400
	overloadHold     = time.Second // how long a pacer alarm lasts
	retryAfter       = time.Second
)

// overload decides whether a new call is taken.
type overload struct {
	pending func() int             // INVITEs not answered yet
	ticks   func() media.TickStats // the media pacer's
	clock   clock.Clock
	// until is when the last pacer alarm ends (UnixNano; 0: none).
	until atomic.Int64
}

// admit is sip.Config.Admit: 0 takes the call, anything else refuses it
// with that Retry-After.
func (o *overload) admit() time.Duration {
	if o.pending != nil && o.pending() > maxPendingSetups {
		return retryAfter
	}
	if u := o.until.Load(); u != 0 && o.clock.Now().UnixNano() < u {
		return retryAfter
	}
	return 0
}

// behind reports whether a window of pacer statistics shows it falling
// behind.
func behind(w media.TickStats) bool {
	return w.Dropped > maxDropped || (w.Late.Count() > 0 && w.Late.Quantile(0.5) > maxTickLate)
}

// run samples the pacer until ctx ends.
func (o *overload) run(ctx context.Context, log *slog.Logger) {
	if o.ticks == nil {
		return
	}
	t := o.clock.NewTicker(overloadSample)
	defer t.Stop()
	var ring [overloadWindow]media.TickStats
	for i := range ring {
		ring[i] = o.ticks()
	}
	for k := 0; ; k++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
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
