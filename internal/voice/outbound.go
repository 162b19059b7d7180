package voice

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// dial connects an outbound call: it waits its turn under the account's
// calls-per-second limit (queued), places the call (initiated), reports the
// far end ringing (ringing) and its answer (in-progress), or records how it
// failed (busy, no-answer, failed, canceled). It reports whether the call was
// answered.
func (r *run) dial(ctx context.Context) bool {
	r.setDialing(true)
	defer r.setDialing(false)

	// A <Dial> rings its legs at once: only calls placed through the API
	// wait their turn.
	for wait := r.rateWait(); wait > 0; wait = r.rateStart() {
		waited := false
		r.step(ctx, func(sctx context.Context) {
			t := r.in.cfg.Clock.NewTimer(wait)
			defer t.Stop()
			select {
			case <-t.C():
				waited = true
			case <-sctx.Done():
			}
		})
		if !waited {
			r.notConnected(ctx, nil)
			return false
		}
	}
	r.update(ctx, "initiated", "dialing", func(c *store.Call) { c.StartTime = c.DateUpdated })

	leg, err := r.dialLeg(ctx)
	if err != nil {
		r.notConnected(ctx, err)
		return false
	}
	r.connected(leg)
	if r.call.Status == store.CallQueued {
		// Answered without a ringing response seen first (a 200 right
		// behind the 180, or none): the call still rang, as Twilio reports.
		r.update(ctx, string(store.CallRinging), "ringing", func(c *store.Call) { c.Status = store.CallRinging })
	}
	if r.spec.MachineDetection != "" {
		// Twilio has no code for this: switchboard has no detector (yet).
		r.notify(ctx, logWarning, 0, "MachineDetection: answering machine detection is not available; AnsweredBy is unknown", nil)
	}
	r.update(ctx, string(store.CallInProgress), "answered", func(c *store.Call) {
		c.Status = store.CallInProgress
		c.AnsweredAt = c.DateUpdated
		if r.spec.MachineDetection != "" {
			c.AnsweredBy = "unknown"
		}
	})
	if o := r.spec.Record; o != nil {
		rec, err := r.startCallRecording(ctx, *o, store.SourceOutboundAPI)
		if err != nil {
			r.notify(ctx, logError, errcode.RecordLengthOutOfRange, "Record: cannot record the call: "+err.Error(), nil)
		}
		r.recorded = rec
	}
	if d := r.spec.SendDigits; d != "" {
		if err := r.leg.Media().SendDTMF(ctx, d); err != nil && ctx.Err() == nil {
			r.notify(ctx, logWarning, errcode.PlayInvalidDigits, "SendDigits: "+err.Error(), nil)
		}
	}
	return true
}

// dialLeg places the call and returns its leg once answered. The SIP side
// dials on a goroutine of its own, so that saving the ringing status (a
// store write, which may queue under load) never holds up the SIP exchange:
// the answer is acknowledged at once whatever the store does. The call's
// record is still written only here, on the call's goroutine.
func (r *run) dialLeg(ctx context.Context) (Leg, error) {
	type answer struct {
		leg Leg
		err error
	}
	var leg Leg
	var err error
	r.step(ctx, func(sctx context.Context) {
		ringing := make(chan struct{}, 1)
		req := r.spec.Dial
		req.OnRinging = func() {
			select {
			case ringing <- struct{}{}:
			default:
			}
		}
		if a := r.attempt; a != nil {
			req.OnEarlyMedia = func(m Media) { a.events <- legEvent{a: a, kind: legEarly, early: m} }
		}
		done := make(chan answer, 1)
		go func() {
			l, e := r.in.cfg.Dialer.Dial(sctx, req)
			done <- answer{l, e}
		}()
		rang := func() {
			if r.call.Status == store.CallQueued {
				r.update(ctx, string(store.CallRinging), "ringing", func(c *store.Call) { c.Status = store.CallRinging })
			}
		}
		for {
			select {
			case <-ringing:
				rang()
			case a := <-done:
				// A ringing response reported before the end is not lost
				// (it was sent before the answer was).
				select {
				case <-ringing:
					rang()
				default:
				}
				leg, err = a.leg, a.err
				return
			}
		}
	})
	return leg, err
}

// rateWait takes the call's turn under the account's calls-per-second limit
// and returns how long to wait for it.
func (r *run) rateWait() time.Duration {
	if r.spec.Direction == store.DirectionOutboundDial {
		return 0
	}
	if w := r.in.rate.reserve(r.account.SID, r.in.cfg.Clock.Now()); w > 0 {
		return w
	}
	return r.rateStart()
}

// rateStart starts the call now when its turn came in time, or returns how
// long it still waits.
func (r *run) rateStart() time.Duration {
	return r.in.rate.start(r.account.SID, r.in.cfg.Clock.Now())
}

func (r *run) setDialing(on bool) {
	r.mu.Lock()
	r.dialing = on
	r.mu.Unlock()
}

// notConnected records why an outbound call was not answered: a command
// canceled it, the interpreter shut down, or the far end's answer (err).
func (r *run) notConnected(ctx context.Context, err error) {
	select {
	case cmd := <-r.mailbox:
		r.stopCmd = cmd
		r.setFinal(ctx, store.CallCanceled, "canceled through the API")
		return
	default:
	}
	var de *DialError
	if errors.As(err, &de) {
		r.sipCode = de.Code
		r.sipInfo = SIPInfo{CallID: de.CallID, Headers: de.Headers}
	}
	if ctx.Err() != nil {
		if errors.Is(context.Cause(ctx), errDialEnded) {
			r.setFinal(ctx, store.CallCanceled, "the dial ended")
			return
		}
		r.setFinal(ctx, store.CallFailed, "shutting down")
		return
	}
	status, cause := dialStatus(err)
	r.failCause = cause
	r.setFinal(ctx, status, cause)
}

// dialStatus maps the failure of an outbound call to its final status, as
// Twilio does: 486, 600 and 603 are busy; 408, 480, 487 and the ring timeout
// no-answer; anything else (404, 5xx, a far end that never responds) failed.
func dialStatus(err error) (store.CallStatus, string) {
	var de *DialError
	if !errors.As(err, &de) {
		return store.CallFailed, "dial failed: " + errString(err)
	}
	switch {
	case de.Unreachable:
		return store.CallFailed, "unreachable: " + de.Error()
	case de.NoAnswer:
		return store.CallNoAnswer, "no answer"
	}
	switch de.Code {
	case 486, 600, 603:
		return store.CallBusy, de.Error()
	case 408, 480, 487:
		return store.CallNoAnswer, de.Error()
	}
	return store.CallFailed, de.Error()
}

func errString(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// callRate spaces the calls each account places: at most cps per second,
// calls beyond it wait their turn (Twilio queues them; it never refuses
// them for rate).
type callRate struct {
	interval time.Duration
	// mu guards next and last.
	mu   sync.Mutex
	next map[string]time.Time // the earliest start of the account's next call
	last map[string]time.Time // when the account's last call started
}

func newCallRate(cps float64) *callRate {
	return &callRate{interval: time.Duration(float64(time.Second) / cps), next: map[string]time.Time{}, last: map[string]time.Time{}}
}

// start marks the account's call as starting now, unless the previous one
// started less than an interval ago: then it returns how long to wait
// still. A turn taken late (its goroutine stalled) so never bunches with
// the next one: the calls stay an interval apart in any window.
func (c *callRate) start(account string, now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if last, ok := c.last[account]; ok && now.Sub(last) < c.interval {
		return c.interval - now.Sub(last)
	}
	c.last[account] = now
	return 0
}

// reserve takes the account's next turn and returns how long to wait for it.
func (c *callRate) reserve(account string, now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.next[account]
	if t.Before(now) {
		t = now
	}
	c.next[account] = t.Add(c.interval)
	return t.Sub(now)
}
