package server

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/media"
)

// Overload: new calls are refused up front (503 with Retry-After, before any
// media or handler exists; sip.Config.Admit) while the server is behind, so
// that the calls in progress keep clean audio and the server recovers by
// itself. Behind means any of:
//   - the media pacer: a tick dropped, or ticks starting late (p99 above
//     maxTickLate), in two sampling windows in a row (one stall, a garbage
//     collection or the machine busy for a moment, does not refuse calls);
//   - call setup: more INVITEs waiting for their handler's answer than
//     maxPendingSetups (the webhook fetches, the store writes of setups).
//
// The pacer is sampled every overloadSample on the clock; the pending setups
// are read at each INVITE. A refusal asks the caller to come back after
// retryAfter.

const (
	overloadSample   = 250 * time.Millisecond
	maxTickLate      = 40 * time.Millisecond
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
	return w.Dropped > 0 || (w.Late.Count() > 0 && w.Late.Quantile(0.99) > maxTickLate)
}

// run samples the pacer until ctx ends.
func (o *overload) run(ctx context.Context) {
	if o.ticks == nil {
		return
	}
	t := o.clock.NewTicker(overloadSample)
	defer t.Stop()
	prev := o.ticks()
	wasLate := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		cur := o.ticks()
		late := behind(cur.Sub(prev))
		if late && wasLate {
			o.until.Store(o.clock.Now().Add(overloadHold).UnixNano())
		}
		prev, wasLate = cur, late
	}
}
