package voice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/tones"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// A <Dial> runs on the caller's goroutine in three phases:
//
//  1. ring: every noun becomes a leg of its own, an outbound-dial call
//     with its own goroutine, record and status callbacks (dialleg.go),
//     rung all at once or, with sequential, one after another. The caller
//     hears the ring tone (or, with answerOnBridge, is not answered yet and
//     hears the callee's early media). The first leg to answer (and pass
//     its screening document, if any) wins; the others are canceled.
//  2. bridge: the two legs' audio is joined (bridge.go) until either side
//     hangs up, the caller presses * (hangupOnStar), the time limit passes
//     or a command moves either call elsewhere.
//  3. action: the app hears how it went (DialCallStatus...) and the caller
//     goes on with the action's document, or the next verb.
//
// The caller's goroutine and each leg's talk only through the events channel
// (leg → caller) and the dialAttempt's channels (caller → leg).

// dialTarget is one party a <Dial> rings: a <Number> or a <Sip>.
type dialTarget struct {
	sip bool
	// to is what the leg reports as To: the E.164 number, or the SIP URI
	// without its headers.
	to string
	// req is what the Dialer is asked to call (the SIP URI with headers).
	req                  DialRequest
	url, method          string // the screening document, run on the callee
	sendDigits           string
	statusCallback       string
	statusCallbackMethod string
	statusCallbackEvents []string
	region               string
}

// dialOutcome is how a <Dial> went, for its action.
type dialOutcome struct {
	status   store.CallStatus // completed, busy, no-answer, failed, canceled
	callSID  string           // the leg that answered, or the last one tried
	bridged  bool
	duration time.Duration // how long the bridge lasted
	sip      bool          // the leg reported was a <Sip>
	sipCode  int
	sipInfo  SIPInfo
	rec      *callRecording
	queueSID string // a <Dial><Queue>'s queue
}

// dialVerb executes a <Dial>.
func (r *run) dialVerb(ctx context.Context, v *twiml.Dial) (*webhook.Response, *twiml.Response, error) {
	if r.spec.Direction == store.DirectionOutboundDial {
		// A dialled leg (its screening document, or one it was moved to)
		// cannot dial in turn.
		r.notify(ctx, logError, errcode.DialFromDialSegment, "Dial: a dialled call cannot <Dial> in turn", nil)
		return nil, nil, r.hangup(ctx)
	}
	for _, n := range v.Nouns {
		if c, ok := n.(*twiml.Conference); ok {
			return r.conferenceVerb(ctx, v, c) // alone in its Dial (13000)
		}
		if q, ok := n.(*twiml.Queue); ok {
			return r.queueDial(ctx, v, q) // alone in its Dial, as a Conference
		}
	}
	targets := r.dialTargets(ctx, v)
	onBridge := v.AnswerOnBridge && r.leg == nil && r.inbound != nil
	if !onBridge {
		if err := r.answer(ctx); err != nil {
			return nil, nil, err
		}
	}
	var o dialOutcome
	if rec := dialRecording(v); rec != nil && strings.HasPrefix(v.Record, "record-from-ringing") && r.leg != nil {
		o.rec = r.startDialRecording(ctx, v, *rec)
	}
	winner := r.ring(ctx, v, targets, onBridge, &o)
	if winner != nil {
		r.bridge(ctx, v, winner, &o)
	}
	if o.rec != nil {
		r.mu.Lock()
		o.rec.row = r.stopCallRecording(ctx, o.rec)
		r.mu.Unlock()
	}
	return r.dialAction(ctx, v, o)
}

// dialTargets turns the nouns of a <Dial> into the legs to ring. Nouns that
// cannot be rung here are reported and skipped.
func (r *run) dialTargets(ctx context.Context, v *twiml.Dial) []dialTarget {
	timeout := secs(v.Timeout)
	if v.Timeout <= 0 {
		timeout = 30 * time.Second
	}
	callerID := v.CallerID
	if callerID == "" {
		callerID = r.call.From
	}
	number := func(raw string) (dialTarget, bool) {
		n, ok := dialNumber(raw)
		if !ok {
			r.notify(ctx, logError, errcode.DialInvalidPhoneNumber, fmt.Sprintf("Dial: %q is not a phone number", raw), nil)
			return dialTarget{}, false
		}
		return dialTarget{to: n, req: DialRequest{To: n}}, true
	}
	var out []dialTarget
	if v.Number != "" {
		if t, ok := number(v.Number); ok {
			out = append(out, t)
		}
	}
	for _, n := range v.Nouns {
		var t dialTarget
		switch n := n.(type) {
		case *twiml.Number:
			var ok bool
			if t, ok = number(n.PhoneNumber); !ok {
				continue
			}
			t.url, t.method, t.sendDigits = n.URL, n.Method, n.SendDigits
			t.statusCallback, t.statusCallbackMethod, t.statusCallbackEvents = n.StatusCallback, n.StatusCallbackMethod, n.StatusCallbackEvent
		case *twiml.Sip:
			base, headers, _ := strings.Cut(strings.TrimSpace(n.URI), "?")
			if utf8.RuneCountInString(base) > twiml.MaxSipURI || utf8.RuneCountInString(headers) > twiml.MaxSipHeaders {
				// Reported when the document was parsed (13243, 13253).
				r.log.Info("Dial: SIP URI over the limits: skipped", "length", len(base), "headers", len(headers))
				continue
			}
			t = dialTarget{sip: true, to: base, req: DialRequest{To: n.URI, Username: n.Username, Password: n.Password}}
			t.region = uriParam(t.to, "region")
			t.url, t.method = n.URL, n.Method
			t.statusCallback, t.statusCallbackMethod, t.statusCallbackEvents = n.StatusCallback, n.StatusCallbackMethod, n.StatusCallbackEvent
		default:
			// <Client> needs a registrar, <Conference> and <Queue> come next.
			r.notify(ctx, logWarning, errcode.SchemaValidationWarning, fmt.Sprintf("Dial: <%s> is not supported yet: skipped", n.TagName()), nil)
			continue
		}
		out = append(out, t)
	}
	if len(out) > twiml.MaxDialNouns {
		out = out[:twiml.MaxDialNouns] // the rest was reported when parsed (12200)
	}
	for i := range out {
		out[i].req.From = callerID
		out[i].req.Timeout = timeout
		if out[i].url != "" {
			ref, err := webhook.Resolve(r.docURL, strings.TrimSpace(out[i].url))
			if err != nil {
				r.notify(ctx, logWarning, errcode.InvalidURL, "Dial: invalid screening url "+out[i].url+": "+err.Error(), nil)
				ref = ""
			}
			out[i].url = ref
		}
		if cb := out[i].statusCallback; cb != "" {
			if ref, err := webhook.Resolve(r.docURL, strings.TrimSpace(cb)); err == nil {
				out[i].statusCallback = ref
			}
		}
	}
	return out
}

// dialNumber returns a phone number of a <Dial> in E.164 form: "+" and 8 to
// 15 digits once the separators people write are dropped; ten digits
// without "+" are a North American number, as Twilio reads them.
func dialNumber(raw string) (string, bool) {
	var b strings.Builder
	plus := false
	for i, c := range strings.TrimSpace(raw) {
		switch {
		case c == '+' && i == 0:
			plus = true
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	d := b.String()
	if !plus && len(d) == 10 {
		d = "1" + d
	}
	if len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return "", false
	}
	return "+" + d, true
}

// uriParam returns a URI parameter's value (";region=ie1").
func uriParam(uri, name string) string {
	for _, p := range strings.Split(uri, ";")[1:] {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// errDialEnded cancels the legs of a <Dial> that no longer need them: another
// leg answered first, the caller left, or a command moved the caller on.
var errDialEnded = errors.New("the dial ended")

// ring rings the targets and returns the leg that answered first (nil when
// none did); o receives how the others ended.
func (r *run) ring(ctx context.Context, v *twiml.Dial, targets []dialTarget, onBridge bool, o *dialOutcome) *legEvent {
	o.status = store.CallFailed
	if len(targets) == 0 {
		return nil
	}
	events := make(chan legEvent, 3*len(targets))
	var attempts []*dialAttempt
	next, live := 0, 0
	launch := func() {
		for next < len(targets) {
			t := targets[next]
			next++
			a, err := r.startDialLeg(ctx, v, t, events)
			if err != nil {
				r.log.Error("cannot place a dialled leg", "to", t.to, "err", err)
				continue
			}
			attempts = append(attempts, a)
			live++
			return
		}
	}
	cancelAll := func(except *dialAttempt) {
		for _, a := range attempts {
			if a != except {
				a.cancel(errDialEnded)
			}
		}
	}
	if v.Sequential {
		launch()
	} else {
		for next < len(targets) {
			launch()
		}
	}
	ringing := r.startRingback(ctx, v, onBridge)
	defer ringing.stop()
	for live > 0 {
		select {
		case ev := <-events:
			switch ev.kind {
			case legEarly:
				ringing.early(ctx, ev.early)
			case legAccepted:
				cancelAll(ev.a)
				o.callSID, o.sip, o.sipCode, o.sipInfo = ev.a.sid, ev.a.target.sip, 200, ev.info
				return &ev
			case legEnded:
				live--
				o.callSID, o.sip, o.sipCode, o.sipInfo = ev.a.sid, ev.a.target.sip, ev.sipCode, ev.info
				o.status = ev.status
				if ev.status == store.CallCompleted {
					// Answered but screened out (a <Hangup> in the screening
					// document): the callee did not take the call.
					o.status = store.CallNoAnswer
				}
				if v.Sequential && live == 0 {
					launch()
				}
			}
		case <-ctx.Done():
			cancelAll(nil)
			o.status = store.CallNoAnswer // the caller left before anyone answered
			return nil
		}
	}
	return nil
}

// dialAction reports the outcome of a <Dial> to its action URL and moves the
// call to the action's document. Without an action the call goes on with the
// next verb. A caller who has hung up is not brought back: the action is
// still requested, as Twilio does, and its answer ignored.
func (r *run) dialAction(ctx context.Context, v *twiml.Dial, o dialOutcome) (*webhook.Response, *twiml.Response, error) {
	// The caller is gone when its call ended (or a command moved it), hung
	// up, or gave up before being answered (answerOnBridge).
	gone := ctx.Err() != nil
	var end <-chan struct{}
	switch {
	case r.leg != nil:
		end = r.leg.Done()
	case r.inbound != nil:
		end = r.inbound.Canceled()
	}
	select {
	case <-end:
		gone = true
	default:
	}
	if v.Action == "" {
		if gone {
			return nil, nil, errHangup
		}
		return nil, nil, nil
	}
	p := r.params()
	p.Set("DialCallStatus", string(o.status))
	if o.callSID != "" {
		p.Set("DialCallSid", o.callSID)
	}
	p.Set("DialBridged", strconv.FormatBool(o.bridged))
	if o.queueSID != "" {
		p.Set("QueueSid", o.queueSID)
	}
	if o.bridged {
		p.Set("DialCallDuration", strconv.Itoa(int(o.duration.Round(time.Second)/time.Second)))
	}
	if o.sip {
		if o.sipInfo.CallID != "" {
			p.Set("DialSipCallId", o.sipInfo.CallID)
		}
		if o.sipCode != 0 {
			p.Set("DialSipResponseCode", strconv.Itoa(o.sipCode))
		}
		for _, h := range o.sipInfo.Headers {
			p.Add("DialSipHeader_"+h.Name, h.Value)
		}
	}
	if rec := o.rec; rec != nil {
		p.Set("RecordingUrl", r.recordingURL(rec.row))
		p.Set("RecordingSid", rec.row.SID)
		p.Set("RecordingDuration", strconv.Itoa(durationSeconds(rec.row.Duration)))
	}
	method := v.Method
	if method == "" {
		method = http.MethodPost
	}
	if gone {
		if errors.Is(context.Cause(ctx), errInterrupted) {
			return nil, nil, errHangup // a command moved the call on
		}
		p.Set("CallStatus", string(store.CallCompleted))
		r.notifyAction(ctx, v.Action, method, p)
		return nil, nil, errHangup
	}
	return r.fetchNext(ctx, v.Action, method, p)
}

// notifyAction requests an action whose answer cannot run (the caller hung
// up); failures are logged.
func (r *run) notifyAction(ctx context.Context, ref, method string, p url.Values) {
	target, err := webhook.Resolve(r.docURL, ref)
	if err != nil {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if _, err := r.in.cfg.Webhooks.Fetch(actx, r.request(target, method, p)); err != nil {
		r.log.Info("dial action after the caller hung up failed", "url", target, "err", err)
	}
}

// ringback is what the caller hears while the legs ring: a country's ring
// tone once answered, or, not answered yet (answerOnBridge), a 180 and the
// callee's early media.
type ringback struct {
	r      *run
	cancel context.CancelFunc
	done   chan struct{}
	pipe   *media.Pipe
	from   Media // the leg whose early media is passed on
}

func (r *run) startRingback(ctx context.Context, v *twiml.Dial, onBridge bool) *ringback {
	rb := &ringback{r: r}
	if onBridge {
		if r.inbound != nil {
			if err := r.inbound.Ringing(); err != nil {
				r.log.Debug("ringing failed", "err", err)
			}
		}
		return rb
	}
	if r.leg == nil {
		return rb
	}
	country := v.RingTone
	if country == "" {
		country = "us"
	}
	src, ok := tones.Ringback(country)
	if !ok {
		src, _ = tones.Ringback("us")
	}
	rctx, cancel := context.WithCancel(ctx)
	rb.cancel, rb.done = cancel, make(chan struct{})
	m := r.leg.Media()
	go func() {
		defer close(rb.done)
		_ = m.Play(rctx, src)
	}()
	return rb
}

// early passes a ringing leg's early media on to a caller not answered yet.
func (rb *ringback) early(ctx context.Context, from Media) {
	em, ok := rb.r.inbound.(EarlyMedia)
	if rb.r.leg != nil || !ok || rb.pipe != nil {
		return
	}
	to, err := em.EarlyMedia(ctx)
	if err != nil {
		rb.r.log.Debug("early media refused", "err", err)
		return
	}
	rctx, cancel := context.WithCancel(ctx)
	rb.cancel, rb.done, rb.pipe, rb.from = cancel, make(chan struct{}), media.NewPipe(), from
	from.SetSink(rb.pipe)
	go func() {
		defer close(rb.done)
		_ = to.Play(rctx, rb.pipe)
	}()
}

// stop ends the ring tone (or the early media).
func (rb *ringback) stop() {
	if rb.cancel == nil {
		return
	}
	if rb.from != nil {
		rb.from.SetSink(nil)
		rb.pipe.Close()
	}
	rb.cancel()
	<-rb.done
}
