package voice

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/tts"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// verb executes one verb. It returns the next document when the verb moved
// the call elsewhere, errHangup when the call is over.
func (r *run) verb(ctx context.Context, v twiml.Verb) (*webhook.Response, *twiml.Response, error) {
	switch v := v.(type) {
	case *twiml.Say:
		r.redirects = 0
		return nil, nil, r.say(ctx, v)
	case *twiml.Play:
		r.redirects = 0
		return nil, nil, r.play(ctx, v)
	case *twiml.Pause:
		r.redirects = 0
		return nil, nil, r.pause(ctx, v)
	case *twiml.Hangup:
		return nil, nil, r.hangup(ctx)
	case *twiml.Reject:
		return nil, nil, r.reject(ctx, v)
	case *twiml.Redirect:
		method := v.Method
		if method == "" {
			method = http.MethodPost
		}
		return r.fetchNext(ctx, strings.TrimSpace(v.URL), method, r.params())
	case *twiml.Record:
		r.redirects = 0
		return r.record(ctx, v)
	case *twiml.Gather:
		r.redirects = 0
		return r.gather(ctx, v)
	case *twiml.Dial:
		r.redirects = 0
		return r.dialVerb(ctx, v)
	case *twiml.Enqueue:
		r.redirects = 0
		return r.enqueueVerb(ctx, v)
	case *twiml.Leave:
		return nil, nil, nil // outside a queue's wait music, nothing to leave
	default:
		r.notify(ctx, logWarning, errcode.SchemaValidationWarning, fmt.Sprintf("<%s> is not supported yet: skipped", v.TagName()), nil)
		return nil, nil, nil
	}
}

// say speaks a <Say>.
func (r *run) say(ctx context.Context, v *twiml.Say) error {
	if err := r.answer(ctx); err != nil {
		return err
	}
	req := tts.Request{Voice: v.Voice, Language: v.Language}
	if hasMarkup(v.Content) {
		ssml, err := tts.BuildSSML(innerXML(v.Content))
		if err != nil {
			r.notify(ctx, logWarning, tts.TwilioCode(err), "Say: "+err.Error(), nil)
			req.Text = v.Text()
		} else {
			req.SSML = ssml
		}
	} else {
		req.Text = v.Text()
	}
	path, err := r.in.cfg.Speech.Get(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return errHangup
		}
		code := tts.TwilioCode(err)
		if code == 0 {
			code = errcode.SayInvalidText
		}
		r.notify(ctx, logWarning, code, "Say: "+err.Error(), nil)
		return nil // Twilio skips a Say it cannot speak
	}
	pcm, err := r.in.pcm.file(path)
	if err != nil {
		r.notify(ctx, logWarning, errcode.SayInvalidText, "Say: "+err.Error(), nil)
		return nil
	}
	return r.playPCM(ctx, pcm, loops(v.Loop))
}

// play plays a <Play>: an audio URL, or DTMF digits.
func (r *run) play(ctx context.Context, v *twiml.Play) error {
	if err := r.answer(ctx); err != nil {
		return err
	}
	if v.Digits != "" {
		if err := r.leg.Media().SendDTMF(ctx, v.Digits); err != nil {
			if ctx.Err() != nil {
				return errHangup
			}
			r.notify(ctx, logWarning, errcode.PlayInvalidDigits, "Play: cannot send digits: "+err.Error(), nil)
		}
		if strings.TrimSpace(v.URL) == "" {
			return nil
		}
	}
	ref := strings.TrimSpace(v.URL)
	target, err := webhook.Resolve(r.docURL, ref)
	if err != nil {
		r.notify(ctx, logWarning, errcode.InvalidURL, "Play: invalid URL "+ref+": "+err.Error(), nil)
		return nil
	}
	pcm, code, err := r.in.fetchAudio(ctx, target)
	if err != nil {
		if ctx.Err() != nil {
			return errHangup
		}
		r.notify(ctx, logWarning, code, "Play: "+err.Error(), &webhook.Error{URL: target, Method: http.MethodGet})
		return nil // Twilio moves on to the next verb
	}
	return r.playPCM(ctx, pcm, loops(v.Loop))
}

// pause waits. Before the call is answered it delays the answer, as Twilio
// does for a <Pause> that comes first.
func (r *run) pause(ctx context.Context, v *twiml.Pause) error {
	if v.Length <= 0 {
		return nil
	}
	if r.leg == nil && r.inbound != nil {
		r.inbound.Ringing()
	}
	t := r.in.cfg.Clock.NewTimer(secs(v.Length))
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done(): // the call ended, or a command interrupted it
		return errHangup
	}
}

// hangup ends the call.
func (r *run) hangup(ctx context.Context) error {
	if r.leg == nil {
		// Twilio answers a call whose first verb is <Hangup> and ends it.
		if err := r.answer(ctx); err != nil {
			return err
		}
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hangupTimeout)
	defer cancel()
	r.hungUp = true
	r.leg.Hangup(hctx)
	return errHangup // finish records the end, once recordings are closed
}

// reject refuses a call not yet answered (busy: 486 and status busy;
// rejected: 603 and status no-answer, as Twilio reports them). After the
// answer it just hangs up.
func (r *run) reject(ctx context.Context, v *twiml.Reject) error {
	if r.leg != nil || r.inbound == nil {
		return r.hangup(ctx)
	}
	code, reason, status := 603, "Decline", store.CallNoAnswer
	if v.Reason == "busy" {
		code, reason, status = 486, "Busy Here", store.CallBusy
	}
	if err := r.inbound.Reject(code, reason); err != nil {
		r.log.Warn("reject failed", "err", err)
	}
	r.setFinal(ctx, status, "rejected")
	return errHangup
}

// playPCM plays audio n times (n < 0: until the call ends).
func (r *run) playPCM(ctx context.Context, pcm []int16, n int) error {
	if err := r.leg.Media().Play(ctx, &pcmSource{pcm: pcm, loops: n}); err != nil {
		if ctx.Err() != nil {
			return errHangup
		}
		select {
		case <-r.leg.Done():
			return errHangup
		default:
		}
		return fmt.Errorf("play: %w", err)
	}
	return nil
}

// loops turns a loop attribute into a play count: 0 means until the call
// ends.
func loops(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// hasMarkup reports whether a <Say> has SSML elements.
func hasMarkup(cs []twiml.Content) bool {
	for _, c := range cs {
		if _, ok := c.(*twiml.Element); ok {
			return true
		}
	}
	return false
}

// innerXML writes SSML content back as XML text.
func innerXML(cs []twiml.Content) string {
	var b strings.Builder
	var walk func([]twiml.Content)
	walk = func(cs []twiml.Content) {
		for _, c := range cs {
			switch c := c.(type) {
			case twiml.Text:
				xmlEscape(&b, string(c))
			case *twiml.Element:
				b.WriteString("<" + c.Name)
				for _, a := range c.Attrs {
					b.WriteString(" " + a.Name + `="`)
					xmlEscape(&b, a.Value)
					b.WriteString(`"`)
				}
				if len(c.Children) == 0 {
					b.WriteString("/>")
					continue
				}
				b.WriteString(">")
				walk(c.Children)
				b.WriteString("</" + c.Name + ">")
			}
		}
	}
	walk(cs)
	return b.String()
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func xmlEscape(b *strings.Builder, s string) { xmlEscaper.WriteString(b, s) }
