package voice

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// runDoc serves doc at /voice and runs an incoming call to it.
func (h *harness) runDoc(doc string) *inboundCall {
	h.app.twiml("/voice", doc)
	return h.inbound(Call{URL: "/voice"})
}

// finish ticks the call, from its answer, until it is over.
func (ic *inboundCall) finish(max int) {
	ic.h.t.Helper()
	waitFor(ic.h.t, "the answer or the end", func() bool {
		return ic.ended() || (ic.inb.wasAnswered() && !ic.record().AnsweredAt.IsZero())
	})
	ic.m.playUntil(ic.h.t, "end of the call", max, ic.ended)
}

func TestSay(t *testing.T) {
	for _, tc := range []struct {
		name   string
		doc    string
		frames int // of toneSay heard
		texts  []string
	}{
		{"once", `<Response><Say voice="alice" language="en-GB">hello</Say></Response>`, 10, []string{"hello"}},
		{"loop", `<Response><Say loop="3">hello</Say></Response>`, 30, []string{"hello"}},
		{"two", `<Response><Say>one</Say><Say>two</Say></Response>`, 20, []string{"one", "two"}},
		{"unspeakable skipped", `<Response><Say>broken</Say><Say>two</Say></Response>`, 10, []string{"broken", "two"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.tts.fail["broken"] = errors.New("engine down")
			ic := h.runDoc(tc.doc)
			ic.finish(200)
			if got := toneFrames(ic.m.heardPCM(), toneSay); got != tc.frames {
				t.Errorf("heard %d frames of the <Say> tone, want %d", got, tc.frames)
			}
			if got := h.tts.texts(); !slices.Equal(got, tc.texts) {
				t.Errorf("speech requests %q, want %q", got, tc.texts)
			}
			rec := ic.record()
			if rec.Status != store.CallCompleted || rec.AnsweredAt.IsZero() || rec.EndTime.IsZero() {
				t.Errorf("record: status %s answered %v ended %v", rec.Status, rec.AnsweredAt, rec.EndTime)
			}
			if got := h.st.statuses(rec.SID); !slices.Equal(got, []string{"ringing", "in-progress", "completed"}) {
				t.Errorf("events %v", got)
			}
			if ic.leg.hangupCount() != 1 {
				t.Errorf("leg hung up %d times, want once (the document ended)", ic.leg.hangupCount())
			}
			codes := h.st.codes(rec.SID)
			if tc.name == "unspeakable skipped" {
				if !slices.Equal(codes, []int{13520}) {
					t.Errorf("notifications %v, want [13520]", codes)
				}
			} else if len(codes) != 0 {
				t.Errorf("notifications %v", codes)
			}
		})
	}

	t.Run("voice and language", func(t *testing.T) {
		h := newHarness(t)
		ic := h.runDoc(`<Response><Say voice="alice" language="en-GB">hello</Say><Say>Fish &amp; <break time="1s"/> chips</Say></Response>`)
		ic.finish(200)
		reqs := h.tts.requests()
		if len(reqs) != 2 {
			t.Fatalf("%d speech requests", len(reqs))
		}
		if r := reqs[0]; r.Voice != "alice" || r.Language != "en-GB" || r.Text != "hello" || r.SSML != "" {
			t.Errorf("first request %+v", r)
		}
		if r := reqs[1]; r.SSML == "" || !strings.Contains(r.SSML, `<break time="1s"/>`) || !strings.Contains(r.SSML, "Fish &amp;") {
			t.Errorf("SSML request %+v", r)
		}
	})

	t.Run("endless loop until the caller hangs up", func(t *testing.T) {
		h := newHarness(t)
		ic := h.runDoc(`<Response><Say loop="0">forever</Say><Say>never</Say></Response>`)
		ic.m.waitPlaying(t, 1)
		ic.m.tickN(150) // 3 s
		if !ic.m.playing() {
			t.Fatal(`<Say loop="0"> stopped`)
		}
		ic.leg.remoteHangup()
		ic.wait()
		if got := toneFrames(ic.m.heardPCM(), toneSay); got != 150 {
			t.Errorf("heard %d frames, want 150", got)
		}
		if got := h.tts.texts(); !slices.Equal(got, []string{"forever"}) {
			t.Errorf("speech requests %q: the text is synthesized once, and the call ended", got)
		}
		rec := ic.record()
		if rec.Status != store.CallCompleted || rec.Duration != 3 {
			t.Errorf("record: %s, %d s; want completed, 3 s", rec.Status, rec.Duration)
		}
		if ic.leg.hangupCount() != 0 {
			t.Error("hung up a leg the far end ended")
		}
	})
}

// TestRequestParams checks the first request for the call's TwiML and the
// completed status callback of an inbound call.
func TestRequestParams(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Say>hi</Say><Pause length="2"/></Response>`)
	ic := h.inbound(Call{
		URL: "/voice", StatusCallback: "/status", PhoneNumberSID: "PN1",
		Params: map[string][]string{"SipCallId": {"abc@host"}, "CallSid": {"spoofed"}},
	})
	sid := ic.sid()
	ic.m.waitPlaying(t, 1)
	ic.m.playOut(t, 20)
	h.waitTimers(2) // the time limit and the pause
	h.clk.Advance(2 * time.Second)
	ic.wait()

	reqs := h.app.requestsTo("/voice")
	if len(reqs) != 1 {
		t.Fatalf("%d requests to /voice", len(reqs))
	}
	r := reqs[0]
	want := map[string]string{
		"CallSid": sid, "AccountSid": h.acct.SID, "From": ic.from, "Caller": ic.from,
		"To": "+15550100000", "Called": "+15550100000", "CallStatus": "ringing",
		"Direction": "inbound", "ApiVersion": "2010-04-01", "SipCallId": "abc@host",
	}
	if r.Method != http.MethodPost {
		t.Errorf("method %s", r.Method)
	}
	for k, v := range want {
		if got := r.Params.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	cbs := h.st.callbacksOf(sid)
	if len(cbs) != 1 {
		t.Fatalf("%d callbacks, want the completed one", len(cbs))
	}
	cb := cbs[0]
	if cb.URL != h.url("/status") || cb.Method != http.MethodPost {
		t.Errorf("callback %s %s", cb.Method, cb.URL)
	}
	for k, v := range map[string]string{
		"CallStatus": "completed", "CallbackSource": "call-progress-events", "SequenceNumber": "0",
		"CallDuration": "2", "Duration": "1", "CallSid": sid, "Direction": "inbound",
	} {
		if got := cb.p.Get(k); got != v {
			t.Errorf("callback %s = %q, want %q", k, got, v)
		}
	}
	if cb.p.Get("Timestamp") == "" {
		t.Error("callback without Timestamp")
	}
	if rec := ic.record(); rec.Duration != 2 || rec.PhoneNumberSID != "PN1" {
		t.Errorf("record %+v", rec)
	}
}

func TestPlay(t *testing.T) {
	for _, tc := range []struct {
		name    string
		doc     string
		frames  int // of tonePlay heard
		say     int // of toneSay heard
		digits  []string
		codes   []int
		fetches int // requests for /tone.wav (the audio cache keeps it)
	}{
		{name: "absolute", doc: `<Response><Play>/tone.wav</Play></Response>`, frames: 10, fetches: 1},
		// The file has no freshness information: the second <Play>
		// revalidates it, the loop does not.
		{name: "relative loop", doc: `<Response><Play loop="2">tone.wav</Play><Play>http://app.test/tone.wav</Play></Response>`, frames: 30, fetches: 2},
		{name: "digits", doc: `<Response><Play digits="1w2#"/><Say>after</Say></Response>`, say: 10, digits: []string{"1w2#"}},
		{name: "digits then audio", doc: `<Response><Play digits="9">tone.wav</Play></Response>`, frames: 10, digits: []string{"9"}, fetches: 1},
		{name: "missing file skipped", doc: `<Response><Play>/missing.wav</Play><Say>after</Say></Response>`, say: 10, codes: []int{11200}},
		{name: "not audio skipped", doc: `<Response><Play>/voice</Play><Say>after</Say></Response>`, say: 10, codes: []int{13420}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ic := h.runDoc(tc.doc)
			ic.finish(200)
			heard := ic.m.heardPCM()
			if got := toneFrames(heard, tonePlay); got != tc.frames {
				t.Errorf("heard %d frames of the file, want %d", got, tc.frames)
			}
			if got := toneFrames(heard, toneSay); got != tc.say {
				t.Errorf("heard %d frames of <Say>, want %d", got, tc.say)
			}
			if got := ic.m.sentDigits(); !slices.Equal(got, tc.digits) {
				t.Errorf("sent digits %q, want %q", got, tc.digits)
			}
			sid := ic.sid()
			if got := h.st.codes(sid); !slices.Equal(got, tc.codes) {
				t.Errorf("notifications %v, want %v", got, tc.codes)
			}
			for _, n := range h.st.notifications(sid) {
				if n.Log != logWarning || n.RequestURL == "" || n.RequestMethod != http.MethodGet {
					t.Errorf("notification %+v: want a warning naming the GET that failed", n)
				}
			}
			if got := len(h.app.requestsTo("/tone.wav")); got != tc.fetches {
				t.Errorf("%d fetches of the file, want %d", got, tc.fetches)
			}
			if rec := ic.record(); rec.Status != store.CallCompleted {
				t.Errorf("status %s", rec.Status)
			}
		})
	}
}

func TestPause(t *testing.T) {
	t.Run("before the answer", func(t *testing.T) {
		h := newHarness(t)
		ic := h.runDoc(`<Response><Pause length="2"/><Say>hi</Say></Response>`)
		h.waitTimers(1)
		if ic.inb.ringCount() != 1 {
			t.Errorf("Ringing sent %d times, want once", ic.inb.ringCount())
		}
		if ic.inb.wasAnswered() {
			t.Fatal("answered before the pause")
		}
		h.advanceBefore(1999 * time.Millisecond)
		if ic.inb.wasAnswered() {
			t.Fatal("answered before the pause ended")
		}
		h.clk.Advance(time.Millisecond)
		ic.answered()
		ic.finish(100)
		rec := ic.record()
		if !rec.AnsweredAt.Equal(epoch.Add(2*time.Second)) || rec.Duration != 0 {
			t.Errorf("answered at %v, duration %d; want 2 s after the start, 0", rec.AnsweredAt, rec.Duration)
		}
	})

	t.Run("after the answer", func(t *testing.T) {
		h := newHarness(t)
		ic := h.runDoc(`<Response><Say>hi</Say><Pause length="3"/><Pause length="0"/></Response>`)
		ic.m.waitPlaying(t, 1)
		ic.m.playOut(t, 20) // 0.22 s
		h.waitTimers(2)
		if ic.inb.ringCount() != 0 {
			t.Error("Ringing sent after the answer")
		}
		h.advanceBefore(2999 * time.Millisecond)
		if ic.ended() {
			t.Fatal("the pause ended early")
		}
		h.clk.Advance(time.Millisecond)
		ic.wait()
		if rec := ic.record(); rec.Duration != 3 {
			t.Errorf("duration %d, want 3", rec.Duration)
		}
	})

	t.Run("caller cancels while it rings", func(t *testing.T) {
		h := newHarness(t)
		ic := h.runDoc(`<Response><Pause length="30"/><Say>hi</Say></Response>`)
		h.waitTimers(1)
		ic.inb.cancel()
		ic.wait()
		rec := ic.record()
		if rec.Status != store.CallCanceled || ic.inb.wasAnswered() || !rec.AnsweredAt.IsZero() {
			t.Errorf("record %s answered=%v; want canceled, never answered", rec.Status, ic.inb.wasAnswered())
		}
		if len(h.tts.texts()) != 0 {
			t.Error("spoke to a canceled call")
		}
	})
}

func TestHangup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		doc   string
		texts []string
	}{
		{"after a say", `<Response><Say>bye</Say><Hangup/><Say>never</Say></Response>`, []string{"bye"}},
		{"first verb", `<Response><Hangup/><Say>never</Say></Response>`, nil},
		{"reject after the answer", `<Response><Say>bye</Say><Reject reason="busy"/><Say>never</Say></Response>`, []string{"bye"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ic := h.runDoc(tc.doc)
			ic.finish(100)
			if got := h.tts.texts(); !slices.Equal(got, tc.texts) {
				t.Errorf("spoke %q, want %q", got, tc.texts)
			}
			if !ic.inb.wasAnswered() {
				t.Error("not answered: Twilio answers a call it hangs up")
			}
			if n := ic.leg.hangupCount(); n != 1 {
				t.Errorf("leg hung up %d times", n)
			}
			if code, _ := ic.inb.rejected(); code != 0 {
				t.Errorf("rejected with %d", code)
			}
			if rec := ic.record(); rec.Status != store.CallCompleted {
				t.Errorf("status %s", rec.Status)
			}
		})
	}
}

func TestReject(t *testing.T) {
	for _, tc := range []struct {
		reason string
		code   int
		status store.CallStatus
	}{
		{`reason="busy"`, 486, store.CallBusy},
		{`reason="rejected"`, 603, store.CallNoAnswer},
		{``, 603, store.CallNoAnswer},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			h := newHarness(t)
			h.app.twiml("/voice", `<Response><Reject `+tc.reason+`/><Say>never</Say></Response>`)
			ic := h.inbound(Call{URL: "/voice", StatusCallback: "/status"})
			ic.wait()
			if code, _ := ic.inb.rejected(); code != tc.code {
				t.Errorf("rejected with %d, want %d", code, tc.code)
			}
			if ic.inb.wasAnswered() {
				t.Error("answered a rejected call")
			}
			rec := ic.record()
			if rec.Status != tc.status || !rec.AnsweredAt.IsZero() || rec.EndTime.IsZero() {
				t.Errorf("record %s answered %v ended %v", rec.Status, rec.AnsweredAt, rec.EndTime)
			}
			cbs := h.st.callbacksOf(rec.SID)
			if len(cbs) != 1 || cbs[0].p.Get("CallStatus") != string(tc.status) || cbs[0].p.Get("CallDuration") != "0" {
				t.Errorf("callbacks %+v, want one completed event with CallStatus %s", cbs, tc.status)
			}
			if len(h.tts.texts()) != 0 {
				t.Error("spoke after <Reject>")
			}
		})
	}
}

func TestRedirect(t *testing.T) {
	t.Run("relative", func(t *testing.T) {
		h := newHarness(t)
		h.app.twiml("/app/first", `<Response><Redirect>second?x=1</Redirect><Say>never</Say></Response>`)
		h.app.twiml("/app/second", `<Response><Redirect method="GET">/third</Redirect></Response>`)
		h.app.twiml("/third", `<Response><Say>third</Say></Response>`)
		ic := h.inbound(Call{URL: "/app/first"})
		ic.finish(100)
		if got := h.app.paths(); !slices.Equal(got, []string{"/app/first", "/app/second", "/third"}) {
			t.Fatalf("requests %v", got)
		}
		reqs := h.app.requests()
		if reqs[1].Method != http.MethodPost || reqs[1].Params.Get("x") != "1" || reqs[1].Params.Get("CallSid") != ic.sid() {
			t.Errorf("second request %s %v", reqs[1].Method, reqs[1].Params)
		}
		if reqs[2].Method != http.MethodGet || reqs[2].Params.Get("CallSid") != ic.sid() {
			t.Errorf("third request %s %v", reqs[2].Method, reqs[2].Params)
		}
		if got := h.tts.texts(); !slices.Equal(got, []string{"third"}) {
			t.Errorf("spoke %q", got)
		}
	})

	t.Run("loop guard", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.MaxRedirects = 3 })
		h.app.twiml("/loop", `<Response><Redirect>/loop</Redirect></Response>`)
		ic := h.inbound(Call{URL: "/loop"})
		ic.finish(100)
		if n := len(h.app.requestsTo("/loop")); n != 4 {
			t.Errorf("/loop fetched %d times, want 1 + 3 redirects", n)
		}
		if got := h.st.codes(ic.sid()); !slices.Equal(got, []int{11215}) {
			t.Errorf("notifications %v, want [11215]", got)
		}
		if got := toneFrames(ic.m.heardPCM(), toneAppError); got != 10 {
			t.Errorf("heard %d frames of the application error message", got)
		}
		if rec := ic.record(); rec.Status != store.CallCompleted {
			t.Errorf("status %s", rec.Status)
		}
	})

	t.Run("a verb that waits resets the guard", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.MaxRedirects = 2 })
		h.app.twiml("/a", `<Response><Redirect>/b</Redirect></Response>`)
		h.app.twiml("/b", `<Response><Redirect>/c</Redirect></Response>`)
		h.app.twiml("/c", `<Response><Say>c</Say><Redirect>/d</Redirect></Response>`)
		h.app.twiml("/d", `<Response><Redirect>/e</Redirect></Response>`)
		h.app.twiml("/e", `<Response><Say>e</Say></Response>`)
		ic := h.inbound(Call{URL: "/a"})
		ic.finish(100)
		if got := h.tts.texts(); !slices.Equal(got, []string{"c", "e"}) {
			t.Errorf("spoke %q", got)
		}
		if got := h.st.codes(ic.sid()); len(got) != 0 {
			t.Errorf("notifications %v", got)
		}
	})

	t.Run("broken target", func(t *testing.T) {
		h := newHarness(t)
		h.app.twiml("/voice", `<Response><Redirect>/nowhere</Redirect><Say>never</Say></Response>`)
		ic := h.inbound(Call{URL: "/voice", FallbackURL: "/fallback"})
		ic.finish(100)
		if got := h.st.codes(ic.sid()); !slices.Equal(got, []int{11200}) {
			t.Errorf("notifications %v, want [11200]", got)
		}
		if len(h.app.requestsTo("/fallback")) != 0 {
			t.Error("the fallback URL was tried for a <Redirect>")
		}
		if got := h.tts.texts(); !slices.Equal(got, []string{webhook.ApplicationErrorMessage}) {
			t.Errorf("spoke %q", got)
		}
	})
}

// TestAnswers covers what the app may answer besides TwiML, and its
// failures.
func TestAnswers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		routes   map[string]appRoute
		url      string
		fallback string
		texts    []string // spoken
		play     int      // frames of tonePlay heard
		codes    []int
		paths    []string
	}{
		{
			name:   "text/plain is spoken",
			routes: map[string]appRoute{"/voice": {contentType: "text/plain; charset=utf-8", body: []byte("Hello from text")}},
			url:    "/voice", texts: []string{"Hello from text"}, paths: []string{"/voice"},
		},
		{
			name:   "audio is played",
			routes: map[string]appRoute{"/voice": {contentType: "audio/wav", body: wavBytes(t, toneSamples(tonePlay, 8*media.FrameSamples, 8000))}},
			url:    "/voice", play: 8, paths: []string{"/voice"},
		},
		{
			name: "404 then fallback",
			routes: map[string]appRoute{
				"/fallback": {contentType: "text/xml", body: []byte(`<Response><Say>fallback</Say></Response>`)},
			},
			url: "/voice", fallback: "/fallback", texts: []string{"fallback"}, codes: []int{11200},
			paths: []string{"/voice", "/fallback"},
		},
		{
			name: "invalid TwiML then fallback",
			routes: map[string]appRoute{
				"/voice":    {contentType: "text/xml", body: []byte(`<Response><Say>unclosed</Response>`)},
				"/fallback": {contentType: "text/xml", body: []byte(`<Response><Say>fallback</Say></Response>`)},
			},
			url: "/voice", fallback: "/fallback", texts: []string{"fallback"}, codes: []int{12100},
			paths: []string{"/voice", "/fallback"},
		},
		{
			name:   "both fail",
			routes: map[string]appRoute{"/fallback": {status: 500, contentType: "text/plain", body: []byte("oops")}},
			url:    "/voice", fallback: "/fallback", texts: []string{webhook.ApplicationErrorMessage}, codes: []int{11200, 11200},
			paths: []string{"/voice", "/fallback"},
		},
		{
			name: "bad content type", routes: map[string]appRoute{"/voice": {contentType: "application/json", body: []byte(`{}`)}},
			url: "/voice", texts: []string{webhook.ApplicationErrorMessage}, codes: []int{12300}, paths: []string{"/voice"},
		},
		{
			name: "bad URL", url: "ftp://app.test/voice", fallback: "/fallback",
			routes: map[string]appRoute{"/fallback": {contentType: "text/xml", body: []byte(`<Response><Say>fallback</Say></Response>`)}},
			texts:  []string{"fallback"}, codes: []int{11100}, paths: []string{"/fallback"},
		},
		{
			name: "no URL", url: "", texts: []string{webhook.ApplicationErrorMessage}, codes: []int{11100},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			for p, r := range tc.routes {
				h.app.route(p, r)
			}
			ic := h.inbound(Call{URL: tc.url, FallbackURL: tc.fallback})
			ic.finish(100)
			heard := ic.m.heardPCM()
			if got := h.tts.texts(); !slices.Equal(got, tc.texts) {
				t.Errorf("spoke %q, want %q", got, tc.texts)
			}
			if got := toneFrames(heard, tonePlay); got != tc.play {
				t.Errorf("heard %d frames of audio, want %d", got, tc.play)
			}
			if slices.Contains(tc.texts, webhook.ApplicationErrorMessage) && toneFrames(heard, toneAppError) != 10 {
				t.Error("the application error message was not heard")
			}
			sid := ic.sid()
			if got := h.st.codes(sid); !slices.Equal(got, tc.codes) {
				t.Errorf("notifications %v, want %v", got, tc.codes)
			}
			for _, n := range h.st.notifications(sid) {
				if n.Log != logError {
					t.Errorf("notification %d is not an error", n.ErrorCode)
				}
			}
			if got := h.app.paths(); !slices.Equal(got, tc.paths) {
				t.Errorf("requests %v, want %v", got, tc.paths)
			}
			if fb := h.app.requestsTo("/fallback"); len(fb) == 1 && len(tc.codes) > 0 {
				p := fb[0].Params
				if p.Get("ErrorCode") != strconv.Itoa(tc.codes[0]) || p.Get("ErrorUrl") == "" || p.Get("CallSid") != sid {
					t.Errorf("fallback request ErrorCode=%s ErrorUrl=%s CallSid=%s", p.Get("ErrorCode"), p.Get("ErrorUrl"), p.Get("CallSid"))
				}
			}
			if rec := ic.record(); rec.Status != store.CallCompleted {
				t.Errorf("status %s", rec.Status)
			}
		})
	}
}

// TestUnsupportedVerbSkipped: a verb not built yet warns 12200 and the
// next one runs.
func TestUnsupportedVerbSkipped(t *testing.T) {
	h := newHarness(t)
	ic := h.runDoc(`<Response><Connect><Stream url="wss://example.com/s"/></Connect><Say>after</Say></Response>`)
	ic.finish(100)
	if got := h.st.codes(ic.sid()); !slices.Equal(got, []int{12200}) {
		t.Errorf("notifications %v", got)
	}
	if got := h.tts.texts(); !slices.Equal(got, []string{"after"}) {
		t.Errorf("spoke %q", got)
	}
}

// TestEmptyDocument: a document with no verb answers and hangs up, as
// Twilio does.
func TestEmptyDocument(t *testing.T) {
	for _, doc := range []string{`<Response></Response>`, `<Response><Connect><Stream url="wss://example.com/s"/></Connect></Response>`} {
		h := newHarness(t)
		ic := h.runDoc(doc)
		ic.wait()
		rec := ic.record()
		if rec.Status != store.CallCompleted || !ic.inb.wasAnswered() || ic.leg.hangupCount() != 1 || rec.Duration != 0 {
			t.Errorf("%s: status %s answered %v hangups %d", doc, rec.Status, ic.inb.wasAnswered(), ic.leg.hangupCount())
		}
	}
}

// TestEmptyDocumentLeavesNoTimer: the call's time limit ends with the call.
func TestEmptyDocumentLeavesNoTimer(t *testing.T) {
	h := newHarness(t)
	ic := h.runDoc(`<Response></Response>`)
	ic.wait()
	if n := h.clk.Waiters(); n != 0 {
		t.Errorf("%d timers still armed after the call ended (the call's time limit)", n)
	}
}
