package voice

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// dialedLeg returns the SID of the i-th leg a call dialled.
func (h *harness) dialedLeg(parent string, i int) string {
	h.t.Helper()
	var sid string
	waitFor(h.t, "a dialled leg", func() bool {
		h.st.mu.Lock()
		defer h.st.mu.Unlock()
		var kids []store.Call
		for _, c := range h.st.calls {
			if c.ParentCallSID == parent {
				kids = append(kids, c)
			}
		}
		if len(kids) <= i {
			return false
		}
		slices.SortFunc(kids, func(a, b store.Call) int { return a.DateCreated.Compare(b.DateCreated) })
		sid = kids[i].SID
		return true
	})
	return sid
}

// The bridge ends at the <Dial>'s timeLimit on the injected clock, not a
// moment before: the callee is hung up and the action reports the bridge's
// length.
func TestDialTimeLimit(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Dial timeLimit="5" action="/after"><Sip>sip:bob@example.com</Sip></Dial></Response>`)
	h.app.twiml("/after", `<Response><Hangup/></Response>`)
	ic := h.inbound(Call{URL: "/voice"})
	leg := h.outboundLeg(0)
	// The caller's and the leg's time limits, and the bridge's.
	h.waitTimers(3)
	h.advanceBefore(5*time.Second - time.Millisecond)
	if leg.hangupCount() != 0 {
		t.Fatal("the callee was hung up before the time limit")
	}
	h.clk.Advance(time.Millisecond)
	r := h.waitRequest("/after")
	if leg.hangupCount() != 1 {
		t.Errorf("callee hung up %d times", leg.hangupCount())
	}
	p := r.Params
	if p.Get("DialCallStatus") != "completed" || p.Get("DialCallDuration") != "5" || p.Get("DialBridged") != "true" ||
		p.Get("DialCallSid") == "" {
		t.Errorf("action %v", p)
	}
	ic.wait()
	kid := h.st.call(p.Get("DialCallSid"))
	if kid.Status != store.CallCompleted || kid.Duration != 5 || kid.Direction != store.DirectionOutboundDial || kid.ParentCallSID != ic.sid() {
		t.Errorf("leg %+v", kid)
	}
}

// How a leg that is not answered ends becomes the DialCallStatus, as
// Twilio maps SIP finals; a <Sip> that fails gets warning 32011.
func TestDialStatusFromFinal(t *testing.T) {
	for _, c := range []struct {
		err    error
		status store.CallStatus
	}{
		{&DialError{Code: 486, Reason: "Busy Here"}, store.CallBusy},
		{&DialError{Code: 603, Reason: "Decline"}, store.CallBusy},
		{&DialError{Code: 480, Reason: "Temporarily Unavailable"}, store.CallNoAnswer},
		{&DialError{Code: 408, NoAnswer: true, Err: errors.New("ring timeout")}, store.CallNoAnswer},
		{&DialError{Code: 404, Reason: "Not Found", CallID: "abc", Headers: []Header{{"X-Why", "gone"}}}, store.CallFailed},
		{&DialError{Code: 503, Unreachable: true}, store.CallFailed},
	} {
		t.Run(string(c.status)+c.err.Error(), func(t *testing.T) {
			h := newHarness(t)
			h.dialer.setScript(failDial(c.err))
			h.app.twiml("/voice", `<Response><Dial action="/after"><Sip>sip:bob@example.com</Sip></Dial></Response>`)
			h.app.twiml("/after", `<Response><Hangup/></Response>`)
			ic := h.inbound(Call{URL: "/voice"})
			p := h.waitRequest("/after").Params
			ic.wait()
			var de *DialError
			errors.As(c.err, &de)
			if p.Get("DialCallStatus") != string(c.status) || p.Get("DialBridged") != "false" || p.Has("DialCallDuration") ||
				p.Get("DialSipResponseCode") != itoa(de.Code) {
				t.Errorf("action %v", p)
			}
			if de.CallID != "" && (p.Get("DialSipCallId") != de.CallID || p.Get("DialSipHeader_X-Why") != "gone") {
				t.Errorf("SIP details of the final: %v", p)
			}
			kid := h.st.call(p.Get("DialCallSid"))
			if kid.Status != c.status {
				t.Errorf("leg status %s", kid.Status)
			}
			warned := slices.Contains(h.st.codes(kid.SID), errcode.SIPCommunication)
			if warned != (c.status == store.CallFailed) {
				t.Errorf("warning 32011: %v for %s", warned, c.status)
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// A dialled leg cannot <Dial> in turn (13201): its screening document is
// refused, the leg hung up, and the caller's Dial ends no-answer.
func TestDialFromScreeningRefused(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Dial action="/after"><Sip url="/screen">sip:bob@example.com</Sip></Dial></Response>`)
	h.app.twiml("/screen", `<Response><Dial>+15550100999</Dial></Response>`)
	h.app.twiml("/after", `<Response><Hangup/></Response>`)
	ic := h.inbound(Call{URL: "/voice"})
	leg := h.outboundLeg(0)
	p := h.waitRequest("/after").Params
	ic.wait()
	if p.Get("DialCallStatus") != "no-answer" {
		t.Errorf("action %v", p)
	}
	if leg.hangupCount() != 1 {
		t.Errorf("callee hung up %d times", leg.hangupCount())
	}
	if codes := h.st.codes(p.Get("DialCallSid")); !slices.Contains(codes, errcode.DialFromDialSegment) {
		t.Errorf("leg notifications %v", codes)
	}
}

// The caller hangs up while the legs ring: they are canceled, and the
// action is still requested (its answer cannot run), as Twilio does.
func TestDialCallerHangsUpWhileRinging(t *testing.T) {
	h := newHarness(t)
	h.dialer.setScript(blockDial)
	h.app.twiml("/voice", `<Response><Dial action="/after"><Sip>sip:a@example.com</Sip><Number>+15550100777</Number></Dial></Response>`)
	h.app.twiml("/after", `<Response><Say>never heard</Say></Response>`)
	ic := h.inbound(Call{URL: "/voice"})
	ic.answered()
	h.outboundLeg(1)
	ic.leg.remoteHangup()
	p := h.waitRequest("/after").Params
	ic.wait()
	if p.Get("DialCallStatus") != "no-answer" || p.Get("CallStatus") != "completed" {
		t.Errorf("action %v", p)
	}
	parent := ic.sid()
	for i := range 2 {
		kid := h.waitStatus(h.dialedLeg(parent, i), store.CallCanceled)
		if kid.Direction != store.DirectionOutboundDial {
			t.Errorf("leg %+v", kid)
		}
		if !h.dialer.returned(t, i).canceled {
			t.Errorf("dial %d not canceled", i)
		}
	}
	if n := len(h.tts.texts()); n != 0 {
		t.Errorf("the action's document ran: %v", h.tts.texts())
	}
	var tos []string
	for i := range 2 {
		d := h.dialer.dial(i)
		tos = append(tos, d.req.To)
		if d.req.From != ic.from || d.req.Timeout != 30*time.Second {
			t.Errorf("dial request %+v", d.req)
		}
	}
	slices.Sort(tos)
	if !slices.Equal(tos, []string{"+15550100777", "sip:a@example.com"}) {
		t.Errorf("dialled %v", tos)
	}
}

// Completing the dialled leg through the API ends the bridge: the caller
// goes on with the next verb (there is no action).
func TestDialLegCompletedByAPI(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Dial><Sip>sip:bob@example.com</Sip></Dial><Say>after</Say><Hangup/></Response>`)
	ic := h.inbound(Call{URL: "/voice"})
	leg := h.outboundLeg(0)
	h.waitTimers(3) // bridged
	kid := h.dialedLeg(ic.sid(), 0)
	if err := h.in.Update(context.Background(), h.acct.SID, kid, Update{Status: store.CallCompleted}); err != nil {
		t.Fatal(err)
	}
	if leg.hangupCount() != 1 {
		t.Errorf("callee hung up %d times", leg.hangupCount())
	}
	ic.m.waitPlaying(t, 2) // ring tone, then the <Say>
	ic.m.playOut(t, 50)
	ic.wait()
	if got := h.tts.texts(); !slices.Equal(got, []string{"after"}) {
		t.Errorf("said %v", got)
	}
	if h.st.call(kid).Status != store.CallCompleted {
		t.Errorf("leg %+v", h.st.call(kid))
	}
}

// Redirecting the caller while the legs ring cancels them; the Dial's
// action is not requested and the new document runs.
func TestDialCallerRedirectedWhileRinging(t *testing.T) {
	h := newHarness(t)
	h.dialer.setScript(blockDial)
	h.app.twiml("/voice", `<Response><Dial action="/after"><Sip>sip:bob@example.com</Sip></Dial></Response>`)
	h.app.twiml("/other", `<Response><Say>moved</Say><Hangup/></Response>`)
	ic := h.inbound(Call{URL: "/voice"})
	h.outboundLeg(0)
	if err := h.in.Update(context.Background(), h.acct.SID, ic.sid(), Update{URL: h.url("/other")}); err != nil {
		t.Fatal(err)
	}
	ic.m.waitPlaying(t, 2)
	ic.m.playOut(t, 50)
	ic.wait()
	h.waitStatus(h.dialedLeg(ic.sid(), 0), store.CallCanceled)
	if len(h.app.requestsTo("/after")) != 0 {
		t.Error("the action was requested")
	}
	if got := h.tts.texts(); !slices.Equal(got, []string{"moved"}) {
		t.Errorf("said %v", got)
	}
}

// Nouns that cannot be rung here (<Client>: no registrar) are skipped with
// warning 12200; a Dial with nothing left fails, and without an action the
// caller goes on with the next verb.
func TestDialNothingToRing(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Dial><Client>alice</Client></Dial><Say>next</Say></Response>`)
	ic := h.inbound(Call{URL: "/voice"})
	ic.m.waitPlaying(t, 1)
	ic.m.playOut(t, 50)
	ic.wait()
	if got := h.tts.texts(); !slices.Equal(got, []string{"next"}) {
		t.Errorf("said %v", got)
	}
	if !slices.Contains(h.st.codes(ic.sid()), errcode.SchemaValidationWarning) || h.dialer.count() != 0 {
		t.Errorf("codes %v, %d dials", h.st.codes(ic.sid()), h.dialer.count())
	}
}

// The bridge carries each side's audio to the other, tick by tick, and the
// callee's key presses reach the caller.
func TestDialBridgeAudioAndDigits(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Dial><Sip>sip:bob@example.com</Sip></Dial></Response>`)
	ic := h.inbound(Call{URL: "/voice"})
	leg := h.outboundLeg(0)
	h.waitTimers(3) // bridged
	ic.m.say(toneSamples(toneCaller, 25*media.FrameSamples, 8000))
	leg.m.say(toneSamples(tonePlay, 25*media.FrameSamples, 8000))
	// One tick of each: what one hears in a tick, the other plays in its
	// next.
	waitFor(t, "the bridge's sources", func() bool { return ic.m.playCount() >= 2 && leg.m.playCount() >= 1 })
	for range 25 {
		ic.m.tick()
		leg.m.tick()
	}
	if n := toneFrames(leg.m.heardPCM(), toneCaller); n < 20 {
		t.Errorf("the callee heard the caller in %d frames of 25", n)
	}
	if n := toneFrames(ic.m.heardPCM(), tonePlay); n < 20 {
		t.Errorf("the caller heard the callee in %d frames of 25", n)
	}
	leg.m.press(t, "5")
	waitFor(t, "the digit relayed", func() bool { return slices.Contains(ic.m.sentDigits(), "5") })
	leg.remoteHangup()
	ic.wait()
}

// record="record-from-ringing" records from the start of the Dial: the
// recording holds the ring tone (ringTone="de": 425 Hz) the caller heard
// while the leg rang, and the action carries it.
func TestDialRecordFromRingingWithRingTone(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	h.dialer.setScript(func(ctx context.Context, r DialRequest, leg *fakeLeg) (Leg, error) {
		r.OnRinging()
		<-release
		return nil, &DialError{Code: 480, Reason: "Temporarily Unavailable"}
	})
	h.app.twiml("/voice", `<Response><Dial record="record-from-ringing" ringTone="de" action="/after"><Sip>sip:bob@example.com</Sip></Dial></Response>`)
	h.app.twiml("/after", `<Response><Hangup/></Response>`)
	ic := h.inbound(Call{URL: "/voice"})
	h.outboundLeg(0)
	ic.m.waitPlaying(t, 1)
	ic.m.tickN(50) // 1 s of ringing
	close(release)
	p := h.waitRequest("/after").Params
	ic.wait()
	if p.Get("DialCallStatus") != "no-answer" || p.Get("RecordingSid") == "" || p.Get("RecordingDuration") != "1" {
		t.Fatalf("action %v", p)
	}
	recs := h.st.recordings(ic.sid())
	if len(recs) != 1 || recs[0].Source != store.SourceDialVerb || recs[0].Status != store.RecordingCompleted {
		t.Fatalf("recordings %+v", recs)
	}
	pcm := readRecording(t, filepath.Join(h.dataDir, recs[0].File))
	if n := toneFrames(pcm, 425); n < 40 {
		t.Errorf("the recording holds the 425 Hz ring tone in %d frames of 50", n)
	}
	if de, us := dsp.GoertzelPower(pcm, 425, 8000), dsp.GoertzelPower(pcm, 480, 8000); de < 100*us {
		t.Errorf("425 Hz %.3g, 480 Hz (the US ring tone) %.3g", de, us)
	}
}

// answerOnBridge: the caller hears ringing (180) and is not answered while
// the leg rings; it is answered when the leg answers. When no leg answers,
// the caller is still there for the action's document.
func TestDialAnswerOnBridge(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	h.dialer.setScript(func(ctx context.Context, r DialRequest, leg *fakeLeg) (Leg, error) {
		r.OnRinging()
		<-release
		return leg, nil
	})
	h.app.twiml("/voice", `<Response><Dial answerOnBridge="true"><Sip>sip:bob@example.com</Sip></Dial></Response>`)
	ic := h.inbound(Call{URL: "/voice"})
	leg := h.outboundLeg(0)
	waitFor(t, "a 180 to the caller", func() bool { return ic.inb.ringCount() > 0 })
	if ic.inb.wasAnswered() {
		t.Fatal("the caller was answered while the leg rang")
	}
	close(release)
	ic.answered()
	leg.remoteHangup()
	ic.wait()

	h2 := newHarness(t)
	h2.dialer.setScript(failDial(&DialError{Code: 486, Reason: "Busy Here"}))
	h2.app.twiml("/voice", `<Response><Dial answerOnBridge="true" action="/after"><Sip>sip:bob@example.com</Sip></Dial></Response>`)
	h2.app.twiml("/after", `<Response><Say>busy</Say></Response>`)
	ic2 := h2.inbound(Call{URL: "/voice"})
	p := h2.waitRequest("/after").Params
	if p.Get("DialCallStatus") != "busy" || p.Get("CallStatus") != "ringing" {
		t.Errorf("action %v", p)
	}
	ic2.answered()
	ic2.m.waitPlaying(t, 1)
	ic2.m.playOut(t, 50)
	ic2.wait()
	if got := h2.tts.texts(); !slices.Equal(got, []string{"busy"}) {
		t.Errorf("said %v", got)
	}
}

// Canceling the ringing leg through the API ends the Dial canceled.
func TestDialLegCanceledByAPI(t *testing.T) {
	h := newHarness(t)
	h.dialer.setScript(blockDial)
	h.app.twiml("/voice", `<Response><Dial action="/after"><Sip>sip:bob@example.com</Sip></Dial></Response>`)
	h.app.twiml("/after", `<Response><Hangup/></Response>`)
	ic := h.inbound(Call{URL: "/voice"})
	h.outboundLeg(0)
	kid := h.dialedLeg(ic.sid(), 0)
	h.waitStatus(kid, store.CallRinging)
	if err := h.in.Update(context.Background(), h.acct.SID, kid, Update{Status: store.CallCanceled}); err != nil {
		t.Fatal(err)
	}
	p := h.waitRequest("/after").Params
	ic.wait()
	if p.Get("DialCallStatus") != "canceled" || p.Get("DialCallSid") != kid {
		t.Errorf("action %v", p)
	}
	if h.st.call(kid).Status != store.CallCanceled {
		t.Errorf("leg %+v", h.st.call(kid))
	}
}

// A participant's jitterBufferSize becomes its leg's playout delay.
func TestJitterBufferSize(t *testing.T) {
	for size, want := range map[string]time.Duration{"": 60 * time.Millisecond, "large": 60 * time.Millisecond,
		"medium": 40 * time.Millisecond, "small": 20 * time.Millisecond, "off": time.Second / 8000} {
		if target, max := jitterBufferSize(size); target != want || max != want {
			t.Errorf("%q: %v %v, want %v", size, target, max, want)
		}
	}
}
