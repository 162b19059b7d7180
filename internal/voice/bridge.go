package voice

import (
	"context"
	"errors"
	"sync"

	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// bridge joins the caller to the leg that answered, both ways, until either
// hangs up, the caller presses * (hangupOnStar), the <Dial>'s time limit
// passes, or a command moves either call elsewhere. Each leg becomes the
// other's consumer through a pair of pipes; taps (the ears, the recorders)
// keep listening to both. The caller's key presses are relayed to the callee
// here, the callee's to the caller by the leg's own goroutine.
//
// The pipes carry linear PCM from one leg's jitter buffer to the other's
// encoder. Between legs of one codec that is no transcoding: G.711 decoding
// then encoding gives back the very byte (g711.TestCodeRoundTrip), so the
// callee gets what the caller sent; between PCMU and PCMA it is the
// conversion.
func (r *run) bridge(ctx context.Context, v *twiml.Dial, w *legEvent, o *dialOutcome) {
	a := w.a
	if r.leg == nil { // answerOnBridge: the caller is answered now
		if err := r.answer(ctx); err != nil {
			a.cancel(errDialEnded) // the leg, not chosen yet, hangs up
			o.status = store.CallNoAnswer
			return
		}
	}
	if rec := dialRecording(v); rec != nil && o.rec == nil {
		o.rec = r.startDialRecording(ctx, v, *rec)
	}
	caller, callee := r.leg.Media(), w.leg.Media()
	if g, ok := r.in.cfg.Ticks.(grouper); ok {
		adopt(g.NewGroup(), caller, callee) // both legs on one pacer shard
	}
	a.peer = caller
	close(a.chosen)

	bctx, stop := context.WithCancel(ctx)
	up, down := media.NewPipe(), media.NewPipe() // caller → callee, callee → caller
	caller.SetSink(up)
	callee.SetSink(down)
	var plays sync.WaitGroup
	plays.Add(2)
	go func() { defer plays.Done(); _ = callee.Play(bctx, up) }()
	go func() { defer plays.Done(); _ = caller.Play(bctx, down) }()
	relay := newDigitRelay(bctx, callee)
	r.ear.listen()
	if v.HangupOnStar && r.ear.inband {
		r.ear.collect(true) // * may come as a tone
	}
	limit := secs(v.TimeLimit)
	if v.TimeLimit <= 0 {
		limit = DefaultTimeLimit
	}
	timer := r.in.cfg.Clock.NewTimer(limit)
	start := r.in.cfg.Clock.Now()
	o.bridged, o.status = true, store.CallCompleted
	r.log.Info("bridged", "leg", a.sid)
wait:
	for {
		select {
		case d := <-r.ear.digits:
			if d == '*' && v.HangupOnStar {
				r.log.Info("hangupOnStar: the caller left the bridge")
				break wait
			}
			if !r.ear.inband { // in-band tones pass as audio
				relay.push(d)
			}
		case <-timer.C():
			r.log.Info("dial time limit reached")
			break wait
		case <-a.unbridged:
			break wait
		case <-w.leg.Done():
			break wait
		case <-r.leg.Done():
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	timer.Stop()
	o.duration = r.in.cfg.Clock.Now().Sub(start)
	r.ear.collect(false)
	r.ear.unlisten()
	stop()
	relay.close()
	plays.Wait()
	caller.SetSink(nil)
	callee.SetSink(nil)
	up.Close()
	down.Close()
	// A leg that a command moved elsewhere goes on with its new document;
	// any other is hung up, and its end stored before the caller's TwiML
	// goes on, as Twilio reports it (the action sees a completed leg).
	moved := false
	select {
	case <-a.unbridged:
		moved = a.moved.Load()
	default:
	}
	if moved || a.keep {
		close(a.release)
		return
	}
	a.cancel(errDialEnded)
	close(a.release)
	t := r.in.cfg.Clock.NewTimer(hangupTimeout + storeTimeout)
	defer t.Stop()
	select {
	case <-a.over:
	case <-t.C():
		r.log.Warn("the dialled leg did not end in time", "leg", a.sid)
	}
}

// dialRecording returns the recording a <Dial> asks for (nil: none).
func dialRecording(v *twiml.Dial) *CallRecordingOptions {
	switch v.Record {
	case "", "do-not-record", "false":
		return nil
	}
	o := &CallRecordingOptions{
		StatusCallback: v.RecordingStatusCallback, StatusCallbackMethod: v.RecordingStatusCallbackMethod,
		StatusCallbackEvent: v.RecordingStatusCallbackEvent, Trim: v.Trim, Track: v.RecordingTrack,
	}
	if v.Record == "record-from-answer-dual" || v.Record == "record-from-ringing-dual" {
		o.Channels = 2
	}
	return o
}

// startDialRecording starts the recording of a <Dial> on the caller's leg:
// what the caller says and what they hear (the callee, once bridged).
func (r *run) startDialRecording(ctx context.Context, v *twiml.Dial, o CallRecordingOptions) *callRecording {
	if o.StatusCallback != "" {
		target, err := webhook.Resolve(r.docURL, o.StatusCallback)
		if err != nil {
			r.notify(ctx, logWarning, errcode.InvalidURL, "Dial: invalid recordingStatusCallback "+o.StatusCallback+": "+err.Error(), nil)
		}
		o.StatusCallback = target
	}
	rec, err := r.startCallRecording(ctx, o, store.SourceDialVerb)
	if err != nil {
		if !errors.Is(err, ErrCallNotAnswered) {
			r.notify(ctx, logError, errcode.RecordLengthOutOfRange, "Dial: cannot record the call: "+err.Error(), nil)
		}
		return nil
	}
	return rec
}

// digitRelay sends key presses to a leg, in order, without blocking whoever
// pushes them (a digit takes a tenth of a second or more to send).
type digitRelay struct {
	digits chan byte
	done   chan struct{}
}

func newDigitRelay(ctx context.Context, to Media) *digitRelay {
	d := &digitRelay{digits: make(chan byte, digitBuffer), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		for {
			select {
			case c, ok := <-d.digits:
				if !ok {
					return
				}
				if err := to.SendDTMF(ctx, string(c)); err != nil && ctx.Err() != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return d
}

// push queues a digit; a burst beyond the buffer is dropped.
func (d *digitRelay) push(c byte) {
	select {
	case d.digits <- c:
	default:
	}
}

// close stops the relay once the digits queued are sent (or its context
// ends) and waits for it.
func (d *digitRelay) close() {
	close(d.digits)
	<-d.done
}
