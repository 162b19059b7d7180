package voice

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/store"
)

const thanks = `<Response><Say>thanks</Say></Response>`

// gathered checks the action request of a <Gather>.
func gathered(t *testing.T, r appRequest, sid, digits, finishedOn string) {
	t.Helper()
	if r.Method != http.MethodPost {
		t.Errorf("action method %s", r.Method)
	}
	if _, ok := r.Params["Digits"]; !ok || r.Params.Get("Digits") != digits {
		t.Errorf("Digits = %q (present %v), want %q", r.Params.Get("Digits"), ok, digits)
	}
	if _, ok := r.Params["FinishedOnKey"]; !ok || r.Params.Get("FinishedOnKey") != finishedOn {
		t.Errorf("FinishedOnKey = %q, want %q", r.Params.Get("FinishedOnKey"), finishedOn)
	}
	if r.Params.Get("CallSid") != sid || r.Params.Get("CallStatus") != "in-progress" {
		t.Errorf("action params %v", r.Params)
	}
}

func TestGatherBargeInAndFinishOnKey(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/g", thanks)
	ic := h.runDoc(`<Response><Gather action="/g" timeout="5"><Say>prompt</Say><Say>second prompt</Say></Gather><Say>fallthrough</Say></Response>`)
	ic.m.waitPlaying(t, 1)
	ic.m.tickN(3)
	ic.m.press(t, "1")
	waitFor(t, "the prompt to stop at the key press", func() bool { return !ic.m.playing() })
	ic.m.press(t, "2#")
	r := h.waitRequest("/g")
	gathered(t, r, ic.sid(), "12", "#")
	ic.finish(100)
	heard := ic.m.heardPCM()
	if got := toneFrames(heard, toneSay); got != 3+10 {
		t.Errorf("heard %d frames of speech, want 3 of the prompt and the action's 10", got)
	}
	if got := h.tts.texts(); !slices.Equal(got, []string{"prompt", "thanks"}) {
		t.Errorf("spoke %q: the prompts stop at the first key and the action's document runs", got)
	}
}

func TestGather(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		// drive plays the call up to the gather's input and gives it.
		drive      func(t *testing.T, h *harness, ic *inboundCall)
		action     string // path of the action request; "" none
		digits     string
		finishedOn string
		texts      []string
		codes      []int
	}{
		{
			name: "numDigits after the prompt",
			doc:  `<Response><Gather action="/g" numDigits="2" finishOnKey=""><Say>prompt</Say></Gather></Response>`,
			drive: func(t *testing.T, h *harness, ic *inboundCall) {
				ic.m.waitPlaying(t, 1)
				ic.m.playOut(t, 20)
				h.waitTimers(2)
				ic.m.press(t, "4#2")
			},
			action: "/g", digits: "4#", finishedOn: "", // '#' is a digit here; numDigits ends it
			texts: []string{"prompt", "thanks"},
		},
		{
			name: "timeout without input falls through",
			doc:  `<Response><Gather action="/g" timeout="3"><Say>prompt</Say></Gather><Say>fallthrough</Say></Response>`,
			drive: func(t *testing.T, h *harness, ic *inboundCall) {
				ic.m.waitPlaying(t, 1)
				ic.m.playOut(t, 20)
				h.waitTimers(2)
				h.advanceBefore(2999 * time.Millisecond)
				if ic.m.playCount() != 1 {
					t.Error("fell through before the timeout")
				}
				h.clk.Advance(time.Millisecond)
			},
			texts: []string{"prompt", "fallthrough"},
		},
		{
			name: "timeout after a digit",
			doc:  `<Response><Gather action="/g" timeout="3"><Say loop="0">prompt</Say></Gather><Say>fallthrough</Say></Response>`,
			drive: func(t *testing.T, h *harness, ic *inboundCall) {
				ic.m.waitPlaying(t, 1)
				ic.m.tickN(5)
				ic.m.press(t, "7")
				waitFor(t, "barge-in", func() bool { return !ic.m.playing() })
				h.waitTimers(2)
				h.advanceBefore(2999 * time.Millisecond)
				if len(h.app.requestsTo("/g")) != 0 {
					t.Error("action requested before the timeout")
				}
				h.clk.Advance(time.Millisecond)
			},
			action: "/g", digits: "7", texts: []string{"prompt", "thanks"},
		},
		{
			name: "no prompt",
			doc:  `<Response><Gather action="/g" numDigits="3"/></Response>`,
			drive: func(t *testing.T, h *harness, ic *inboundCall) {
				h.waitTimers(2)
				ic.m.press(t, "123")
			},
			action: "/g", digits: "123", texts: []string{"thanks"},
		},
		{
			name: "actionOnEmptyResult",
			doc:  `<Response><Gather action="/g" timeout="1" actionOnEmptyResult="true"/><Say>fallthrough</Say></Response>`,
			drive: func(t *testing.T, h *harness, ic *inboundCall) {
				h.waitTimers(2)
				h.clk.Advance(time.Second)
			},
			action: "/g", digits: "", texts: []string{"thanks"},
		},
		{
			name: "finishOnKey alone is no input",
			doc:  `<Response><Gather action="/g" timeout="5"/><Say>fallthrough</Say></Response>`,
			drive: func(t *testing.T, h *harness, ic *inboundCall) {
				h.waitTimers(2)
				ic.m.press(t, "#")
			},
			texts: []string{"fallthrough"},
		},
		{
			name: "keys before the gather do not count",
			doc:  `<Response><Say>before</Say><Gather action="/g" numDigits="1"/></Response>`,
			drive: func(t *testing.T, h *harness, ic *inboundCall) {
				ic.m.waitPlaying(t, 1)
				ic.m.press(t, "9")
				// No verb listens: the key waits in the leg's channel.
				if n := len(ic.m.dtmf) + len(ic.m.ear().digits); n != 1 {
					t.Fatalf("%d keys waiting, want the one pressed", n)
				}
				ic.m.playOut(t, 20)
				h.waitTimers(2)
				ic.m.press(t, "5")
			},
			action: "/g", digits: "5", texts: []string{"before", "thanks"},
		},
		{
			name: "SIP INFO digits",
			doc:  `<Response><Gather action="/g" numDigits="2"/></Response>`,
			drive: func(t *testing.T, h *harness, ic *inboundCall) {
				h.waitTimers(2)
				ic.leg.info <- media.DTMF{Digit: '*'}
				ic.leg.info <- media.DTMF{Digit: '0'}
			},
			action: "/g", digits: "*0", texts: []string{"thanks"},
		},
		{
			name: "speech only warns and gathers nothing",
			doc:  `<Response><Gather input="speech" action="/g" timeout="2"/><Say>fallthrough</Say></Response>`,
			drive: func(t *testing.T, h *harness, ic *inboundCall) {
				h.waitTimers(2)
				ic.m.press(t, "1")
				h.clk.Advance(2 * time.Second)
			},
			texts: []string{"fallthrough"}, codes: []int{13326},
		},
		{
			name: "no action posts to the document",
			doc:  `<Response><Gather numDigits="1"/></Response>`,
			drive: func(t *testing.T, h *harness, ic *inboundCall) {
				h.waitTimers(2)
				ic.m.press(t, "8")
			},
			action: "/voice", digits: "8", texts: []string{"thanks"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.app.twiml("/g", thanks)
			h.app.route("/voice", appRoute{fn: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/xml")
				if r.Form.Has("Digits") {
					w.Write([]byte(thanks))
					return
				}
				w.Write([]byte(tc.doc))
			}})
			ic := h.inbound(Call{URL: "/voice"})
			ic.answered()
			tc.drive(t, h, ic)
			ic.finish(200)
			sid := ic.sid()
			var actions []appRequest
			for _, r := range h.app.requests() {
				if r.Params.Has("Digits") {
					actions = append(actions, r)
				}
			}
			switch {
			case tc.action == "" && len(actions) > 0:
				t.Errorf("action requested: %v", actions[0].Params)
			case tc.action != "" && len(actions) != 1:
				t.Errorf("%d action requests", len(actions))
			case tc.action != "":
				if actions[0].Path != tc.action {
					t.Errorf("action to %s, want %s", actions[0].Path, tc.action)
				}
				gathered(t, actions[0], sid, tc.digits, tc.finishedOn)
			}
			if got := h.tts.texts(); !slices.Equal(got, tc.texts) {
				t.Errorf("spoke %q, want %q", got, tc.texts)
			}
			if got := h.st.codes(sid); !slices.Equal(got, tc.codes) {
				t.Errorf("notifications %v, want %v", got, tc.codes)
			}
		})
	}
}

// TestGatherInbandDTMF: a caller without telephone-event is heard through
// the tones in its audio.
func TestGatherInbandDTMF(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/g", thanks)
	h.app.twiml("/voice", `<Response><Gather action="/g" numDigits="2"/></Response>`)
	ic := h.inbound(Call{URL: "/voice"}, func(ic *inboundCall) { ic.m.remote.EventPT = 0 })
	h.waitTimers(2)
	sayTones(t, ic, "58")
	ic.m.tickUntil(t, "the action", 100, func() bool { return len(h.app.requestsTo("/g")) > 0 })
	gathered(t, h.waitRequest("/g"), ic.sid(), "58", "")
	ic.finish(100)
}

// sayTones has the caller key digits as in-band DTMF tones in its audio.
func sayTones(t *testing.T, ic *inboundCall, digits string) {
	t.Helper()
	src, err := dsp.DTMFSource(digits, 100*time.Millisecond, 100*time.Millisecond, -10)
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := readAll(src, 8000)
	if err != nil {
		t.Fatal(err)
	}
	ic.m.say(pcm)
}

// TestEarTapsOnlyWhileCollecting: listening for tones costs the media pacer
// only while a verb takes keys: the ear is a tap of the call's media during
// the <Gather>, not during the <Say> before it nor after it.
func TestEarTapsOnlyWhileCollecting(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/g", thanks)
	h.app.twiml("/voice", `<Response><Say>before</Say><Gather action="/g" numDigits="1"/></Response>`)
	ic := h.inbound(Call{URL: "/voice"}, func(ic *inboundCall) { ic.m.remote.EventPT = 0 })
	ic.m.waitPlaying(t, 1)
	if n := ic.m.tapCount(); n != 0 {
		t.Errorf("%d taps while saying", n)
	}
	ic.m.playOut(t, 50)
	h.waitTimers(2)
	if n := ic.m.tapCount(); n != 1 {
		t.Errorf("%d taps while gathering, want the ear", n)
	}
	sayTones(t, ic, "7")
	ic.m.tickUntil(t, "the action", 100, func() bool { return len(h.app.requestsTo("/g")) > 0 })
	gathered(t, h.waitRequest("/g"), ic.sid(), "7", "")
	ic.m.waitPlaying(t, 2)
	if n := ic.m.tapCount(); n != 0 {
		t.Errorf("%d taps after the gather", n)
	}
	ic.finish(100)
}

// TestGatherCallerHangsUp: no action request for a caller who hung up.
func TestGatherCallerHangsUp(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/g", thanks)
	ic := h.runDoc(`<Response><Gather action="/g" actionOnEmptyResult="true"><Say loop="0">prompt</Say></Gather><Say>never</Say></Response>`)
	ic.m.waitPlaying(t, 1)
	ic.m.tickN(10)
	ic.leg.remoteHangup()
	ic.wait()
	if n := len(h.app.requestsTo("/g")); n != 0 {
		t.Errorf("%d action requests after the caller hung up", n)
	}
	if rec := ic.record(); rec.Status != store.CallCompleted {
		t.Errorf("status %s", rec.Status)
	}
	if got := h.tts.texts(); !slices.Equal(got, []string{"prompt"}) {
		t.Errorf("spoke %q", got)
	}
}

// The ear relays the leg's RFC 4733 and SIP INFO digits only while a verb
// listens (no goroutine per live call otherwise): a key pressed before waits
// in the leg's channel, comes through once a verb listens, and waits again
// once the last verb is done; flush discards it where it waits.
func TestEarRelaysOnlyWhileListening(t *testing.T) {
	leg := newFakeLeg(clock.NewFake(time.Unix(0, 0)))
	m := leg.Media().(*fakeMedia)
	e := newEar(leg, InbandNever)
	defer e.close()
	key := func(ch <-chan byte) byte {
		t.Helper()
		select {
		case d := <-ch:
			return d
		case <-time.After(5 * time.Second):
			t.Fatal("no key came through")
			return 0
		}
	}
	m.press(t, "1")
	leg.info <- media.DTMF{Digit: '2'}
	if len(m.dtmf) != 1 || len(leg.info) != 1 || len(e.digits) != 0 {
		t.Fatalf("no verb listening: %d and %d keys in the leg, %d relayed; want 1, 1, 0", len(m.dtmf), len(leg.info), len(e.digits))
	}
	e.listen()
	e.listen() // nested
	got := string([]byte{key(e.digits), key(e.digits)})
	if got != "12" && got != "21" {
		t.Fatalf("relayed %q, want 1 and 2", got)
	}
	e.unlisten()
	m.press(t, "3")
	if d := key(e.digits); d != '3' {
		t.Fatalf("relayed %q with one verb still listening, want 3", d)
	}
	e.unlisten()
	m.press(t, "4")
	if len(m.dtmf) != 1 || len(e.digits) != 0 {
		t.Fatalf("after the last verb: %d keys in the leg, %d relayed; want 1, 0", len(m.dtmf), len(e.digits))
	}
	e.flush()
	if len(m.dtmf) != 0 {
		t.Fatalf("flush left %d keys in the leg", len(m.dtmf))
	}
}
