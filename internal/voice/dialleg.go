package voice

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// dialAttempt links a <Dial> (the caller's goroutine) with one leg it rings
// (the leg's goroutine). The fields are set before the leg's goroutine
// starts and never change; the channels carry the rest.
type dialAttempt struct {
	target dialTarget
	sid    string
	// cancel ends the leg's ringing (CANCEL), screening or bridge; the leg
	// then hangs up and ends.
	cancel context.CancelCauseFunc
	// events is where the leg reports to the caller (legEvent).
	events chan<- legEvent
	// chosen is closed by the caller when the leg won: it is bridged, and
	// peer is the caller's media (written before the close).
	chosen chan struct{}
	peer   Media
	// unbridged is closed by the leg when it leaves the bridge (it hung up,
	// or a command moved it); release by the caller once the bridge is torn
	// down: only then may the leg's media be used by anyone else.
	unbridged, release chan struct{}
	// moved is set by the leg, before it closes unbridged, when a command
	// took it out of the bridge to run another document.
	moved atomic.Bool
	// over is closed once the leg's final status is stored.
	over chan struct{}
	// keep: the leg is a queued caller, not a dialled call: it goes on
	// with its own TwiML after the bridge, and is never hung up by it.
	keep bool
}

// legEventKind says what a dialled leg reports.
type legEventKind int

const (
	legEarly    legEventKind = iota // early media started: early
	legAccepted                     // answered (and screened): leg, answeredAt, info
	legEnded                        // ended without being bridged: status, sipCode, info
)

// legEvent is a dialled leg's report to the caller. Each kind is sent at
// most once per leg, on a channel with room for all of them: the leg never
// blocks on the caller.
type legEvent struct {
	a          *dialAttempt
	kind       legEventKind
	early      Media
	leg        Leg
	answeredAt time.Time
	status     store.CallStatus
	sipCode    int
	info       SIPInfo
}

// startDialLeg records a leg of a <Dial> as an outbound-dial call of its own
// and rings it on a goroutine of its own.
func (r *run) startDialLeg(ctx context.Context, v *twiml.Dial, t dialTarget, events chan<- legEvent) (*dialAttempt, error) {
	in := r.in
	c := Call{
		Account: r.account, Direction: store.DirectionOutboundDial,
		From: t.req.From, To: t.to, ParentCallSID: r.sid,
		URL: t.url, Method: t.method,
		StatusCallback: t.statusCallback, StatusCallbackMethod: t.statusCallbackMethod,
		StatusCallbackEvents: t.statusCallbackEvents,
		Dial:                 t.req, SendDigits: t.sendDigits,
	}
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil, fmt.Errorf("dial: %w", ErrClosed)
	}
	in.wg.Add(1)
	in.mu.Unlock()
	cause := "dial"
	if t.region != "" {
		cause += " region " + t.region
	}
	leg, err := in.start(ctx, c, store.CallQueued, cause, false)
	if err != nil {
		in.wg.Done()
		return nil, err
	}
	lctx, cancel := context.WithCancelCause(in.ctx)
	a := &dialAttempt{
		target: t, sid: leg.sid, cancel: cancel, events: events,
		chosen: make(chan struct{}), unbridged: make(chan struct{}), release: make(chan struct{}),
		over: make(chan struct{}),
	}
	leg.attempt = a
	go func() {
		defer in.wg.Done()
		defer in.end(leg)
		defer cancel(nil)
		defer close(a.over)
		leg.executeDialLeg(lctx)
	}()
	return a, nil
}

// executeDialLeg runs a dialled leg: it rings, runs the screening document
// on the callee once answered, offers itself to the caller, stays bridged
// for as long as the bridge lasts, then ends (or runs the document a command
// moved it to).
func (r *run) executeDialLeg(parent context.Context) {
	a := r.attempt
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	r.callCtx, r.cancel = ctx, cancel
	// The caller ending the dial ends the leg's call context too.
	stop := context.AfterFunc(parent, func() { cancel(context.Cause(parent)) })
	defer stop()
	ended := func() {
		a.events <- legEvent{a: a, kind: legEnded, status: r.call.Status, sipCode: r.sipCode, info: r.sipInfo}
	}
	if !r.dial(ctx) {
		if a.target.sip && r.call.Status == store.CallFailed {
			// Twilio's warning for a SIP endpoint that could not be reached
			// or answered with an error.
			r.notify(ctx, logWarning, errcode.SIPCommunication, fmt.Sprintf("Dial: %s: %s", a.target.to, r.failCause), nil)
		}
		r.finish(parent)
		ended()
		return
	}
	if info, ok := r.leg.(interface{ SIPInfo() SIPInfo }); ok {
		r.sipInfo = info.SIPInfo()
		r.addSIPParams()
	}
	if !r.screen(ctx) {
		r.finish(parent)
		ended()
		return
	}
	a.events <- legEvent{a: a, kind: legAccepted, leg: r.leg, answeredAt: r.call.AnsweredAt, info: r.sipInfo}
	select {
	case <-a.chosen:
	case <-ctx.Done():
		r.finish(parent)
		ended()
		return
	}
	r.bridged(ctx, a)
	close(a.unbridged)
	<-a.release
	if ctx.Err() == nil {
		r.follow(ctx, nil, nil) // a command that took the leg out of the bridge
	}
	r.finish(parent)
}

// addSIPParams adds the parameters of an answered <Sip> leg to its requests
// (001_*: SipCallId, SipDomain, SipHeader_X-*).
func (r *run) addSIPParams() {
	if !r.attempt.target.sip {
		return
	}
	if r.extra == nil {
		r.extra = map[string][]string{}
	}
	if r.sipInfo.CallID != "" {
		r.extra.Set("SipCallId", r.sipInfo.CallID)
	}
	if d := sipDomain(r.attempt.target.to); d != "" {
		r.extra.Set("SipDomain", d)
	}
	for _, h := range r.sipInfo.Headers {
		r.extra.Add("SipHeader_"+h.Name, h.Value)
	}
}

// sipDomain is the host of a SIP URI.
func sipDomain(uri string) string {
	s := uri
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	s, _, _ = strings.Cut(s, ";")
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i > 0 {
			return s[:i+1]
		}
	}
	s, _, _ = strings.Cut(s, ":")
	return s
}

// screen runs the leg's screening document (Twilio's url on <Number> and
// <Sip>) on the callee, and reports whether the callee took the call: the
// document ran to its end without a <Hangup> and the callee is still there.
// A leg without one takes the call at once.
func (r *run) screen(ctx context.Context) bool {
	if r.spec.URL != "" {
		var doc *twiml.Response
		resp := r.screenDoc(ctx, &doc)
		if resp == nil {
			return false
		}
		r.follow(ctx, doc, resp)
	}
	if r.hungUp || r.stopCmd != nil || ctx.Err() != nil {
		return false
	}
	select {
	case <-r.leg.Done():
		return false
	default:
		return true
	}
}

// screenDoc fetches the screening document; nil when it cannot be had (the
// callee hears the application error).
func (r *run) screenDoc(ctx context.Context, doc **twiml.Response) (resp *webhook.Response) {
	r.step(ctx, func(sctx context.Context) {
		d, rs := r.first(sctx)
		*doc, resp = d, rs
	})
	return resp
}

// bridged keeps a chosen leg in the bridge until the caller releases it, it
// hangs up, or a command moves it; the callee's key presses go to the
// caller meanwhile.
func (r *run) bridged(ctx context.Context, a *dialAttempt) {
	relay := newDigitRelay(ctx, a.peer)
	defer relay.close()
	r.ear.listen()
	defer r.ear.unlisten()
	r.step(ctx, func(sctx context.Context) {
		for {
			select {
			case d := <-r.ear.digits:
				if !r.ear.inband { // in-band tones pass as audio
					relay.push(d)
				}
			case <-a.release:
				return
			case <-r.leg.Done():
				return
			case <-sctx.Done():
				// A command moves the leg: it interrupts this step, or an
				// enclosing one (an <Enqueue> whose member an agent took)
				// if it came before this step began.
				if len(r.mailbox) > 0 && (ctx.Err() == nil || errors.Is(context.Cause(ctx), errInterrupted)) {
					a.moved.Store(true)
				}
				return
			}
		}
	})
}
