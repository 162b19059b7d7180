package voice

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// gather runs a <Gather> (https://www.twilio.com/docs/voice/twiml/gather):
// its nested <Say>, <Play> and <Pause> play until the first key press
// (barge-in); then digits are collected until finishOnKey, numDigits, or
// timeout seconds without a key (counted from the end of the prompts, then
// from each digit). With digits (or actionOnEmptyResult) the action URL is
// requested with Digits and FinishedOnKey and its document runs next;
// without, execution falls through to the next verb, as on Twilio.
//
// Only DTMF is collected: input="speech" alone gathers nothing (there is no
// speech recognizer), which is Twilio's outcome for a caller who says nothing.
func (r *run) gather(ctx context.Context, g *twiml.Gather) (*webhook.Response, *twiml.Response, error) {
	if err := r.answer(ctx); err != nil {
		return nil, nil, err
	}
	dtmf := len(g.Input) == 0 || slices.Contains(g.Input, "dtmf")
	if !dtmf {
		r.notify(ctx, logWarning, errcode.GatherInvalidInput, "Gather: speech input is not available (no speech recognizer); no input collected", nil)
	}
	r.ear.flush() // keys pressed before the <Gather> do not count
	r.ear.collect(true)
	defer r.ear.collect(false)
	r.ear.listen()
	defer r.ear.unlisten()

	var digits strings.Builder
	finishedOn := ""
	done := false
	take := func(d byte) {
		if g.FinishOnKey != "" && strings.IndexByte(g.FinishOnKey, d) >= 0 {
			finishedOn, done = string(d), true
			return
		}
		digits.WriteByte(d)
		if g.NumDigits > 0 && digits.Len() >= g.NumDigits {
			done = true
		}
	}

	// The prompts, interrupted by the first key press.
	if len(g.Verbs) > 0 {
		pctx, stopPrompts := context.WithCancel(ctx)
		prompts := make(chan error, 1)
		go func() {
			for _, v := range g.Verbs {
				if _, _, err := r.verb(pctx, v); err != nil {
					prompts <- err
					return
				}
			}
			prompts <- nil
		}()
		var perr error
	wait:
		for {
			select {
			case perr = <-prompts:
				break wait
			case d := <-r.digitsIf(dtmf):
				take(d)
				stopPrompts()
				perr = <-prompts
				if ctx.Err() == nil && !r.ended() {
					perr = nil // interrupted by the caller, not ended
				}
				break wait
			}
		}
		stopPrompts()
		if perr != nil {
			return nil, nil, errHangup
		}
	}

	// Digits until a finish condition or the timeout.
	if !done && g.Timeout > 0 {
		t := r.in.cfg.Clock.NewTimer(secs(g.Timeout))
		defer t.Stop()
	collect:
		for !done {
			select {
			case d := <-r.digitsIf(dtmf):
				take(d)
				t.Stop()
				t.Reset(secs(g.Timeout))
			case <-t.C():
				break collect
			case <-ctx.Done():
				return nil, nil, errHangup
			}
		}
	}
	if r.ended() || ctx.Err() != nil {
		return nil, nil, errHangup // a caller who hangs up gets no action request
	}

	if digits.Len() == 0 && !g.ActionOnEmptyResult {
		return nil, nil, nil // no input: the next verb runs
	}
	params := r.params()
	params.Set("Digits", digits.String())
	params.Set("FinishedOnKey", finishedOn)
	action := g.Action
	if action == "" {
		action = r.docURL
	}
	method := g.Method
	if method == "" {
		method = http.MethodPost
	}
	return r.fetchNext(ctx, action, method, params)
}

// digitsIf is the digit stream when DTMF is being collected, else a channel
// that never delivers.
func (r *run) digitsIf(dtmf bool) <-chan byte {
	if !dtmf {
		return nil
	}
	return r.ear.digits
}

// ended reports whether the answered call is over.
func (r *run) ended() bool {
	if r.leg == nil {
		return false
	}
	select {
	case <-r.leg.Done():
		return true
	default:
		return false
	}
}
