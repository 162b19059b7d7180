package voice

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// progressStatuses lists the CallStatus of a call's call-progress callbacks,
// checking their sequence numbers.
func progressStatuses(t *testing.T, h *harness, sid string) ([]string, []queuedCallback) {
	t.Helper()
	var st []string
	var cbs []queuedCallback
	for _, cb := range h.st.callbacksOf(sid) {
		if cb.p.Get("CallbackSource") != "call-progress-events" {
			continue
		}
		if got := cb.p.Get("SequenceNumber"); got != strconv.Itoa(len(st)) {
			t.Errorf("callback %s: SequenceNumber %s, want %d", cb.p.Get("CallStatus"), got, len(st))
		}
		st = append(st, cb.p.Get("CallStatus"))
		cbs = append(cbs, cb)
	}
	return st, cbs
}

func TestOutboundLifecycle(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Say>hello</Say><Pause length="3"/></Response>`)
	call := h.place(Call{
		URL: "/voice", StatusCallback: "/status",
		StatusCallbackEvents: []string{"initiated", "ringing", "answered", "completed"},
		Dial:                 DialRequest{To: "sip:bob@example.com", From: "+15550100000", Timeout: 30 * time.Second},
	})
	if call.Status != store.CallQueued || call.Direction != store.DirectionOutboundAPI || call.SID == "" {
		t.Errorf("Place returned %+v", call)
	}
	leg := h.outboundLeg(0)
	if d := h.dialer.dial(0); d.req.To != "sip:bob@example.com" || d.req.Timeout != 30*time.Second || d.req.OnRinging == nil {
		t.Errorf("dial request %+v", d.req)
	}
	leg.m.waitPlaying(t, 1)
	leg.m.playOut(t, 20)
	h.waitTimers(2)
	h.clk.Advance(3 * time.Second)
	h.waitEnded(call.SID)

	rec := h.st.call(call.SID)
	if rec.Status != store.CallCompleted || rec.Duration != 3 || rec.StartTime.IsZero() || rec.AnsweredAt.IsZero() {
		t.Errorf("record %+v", rec)
	}
	if got := h.st.statuses(call.SID); !slices.Equal(got, []string{"queued", "initiated", "ringing", "in-progress", "completed"}) {
		t.Errorf("events %v", got)
	}
	if leg.hangupCount() != 1 {
		t.Errorf("leg hung up %d times", leg.hangupCount())
	}
	st, cbs := progressStatuses(t, h, call.SID)
	if !slices.Equal(st, []string{"initiated", "ringing", "in-progress", "completed"}) {
		t.Fatalf("callbacks %v", st)
	}
	for _, cb := range cbs {
		if cb.URL != h.url("/status") || cb.p.Get("CallSid") != call.SID || cb.p.Get("Direction") != "outbound-api" {
			t.Errorf("callback %s %v", cb.URL, cb.p)
		}
	}
	if last := cbs[3].p; last.Get("CallDuration") != "3" || last.Get("Duration") != "1" {
		t.Errorf("completed callback %v", last)
	}
	if cbs[0].p.Has("CallDuration") {
		t.Error("CallDuration before the end")
	}
	r := h.app.requestsTo("/voice")
	if len(r) != 1 || r[0].Params.Get("CallStatus") != "in-progress" || r[0].Params.Get("Direction") != "outbound-api" {
		t.Errorf("TwiML request %v", r)
	}
}

// TestOutboundAnsweredWithoutRinging: a call answered with no provisional
// response still reports ringing before in-progress.
func TestOutboundAnsweredWithoutRinging(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Hangup/></Response>`)
	h.dialer.setScript(func(ctx context.Context, r DialRequest, leg *fakeLeg) (Leg, error) { return leg, nil })
	call := h.place(Call{URL: "/voice", StatusCallback: "/status", StatusCallbackEvents: []string{"initiated", "ringing", "answered", "completed"}})
	h.waitEnded(call.SID)
	if st, _ := progressStatuses(t, h, call.SID); !slices.Equal(st, []string{"initiated", "ringing", "in-progress", "completed"}) {
		t.Errorf("callbacks %v", st)
	}
}

func TestOutboundDialFailures(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status store.CallStatus
		code   string
	}{
		{&DialError{Code: 486, Reason: "Busy Here"}, store.CallBusy, "486"},
		{&DialError{Code: 600, Reason: "Busy Everywhere"}, store.CallBusy, "600"},
		{&DialError{Code: 603, Reason: "Decline"}, store.CallBusy, "603"},
		{&DialError{Code: 408, Reason: "Request Timeout"}, store.CallNoAnswer, "408"},
		{&DialError{Code: 480, Reason: "Temporarily Unavailable"}, store.CallNoAnswer, "480"},
		{&DialError{Code: 487, Reason: "Request Terminated"}, store.CallNoAnswer, "487"},
		{&DialError{NoAnswer: true}, store.CallNoAnswer, ""},
		{&DialError{Code: 404, Reason: "Not Found"}, store.CallFailed, "404"},
		{&DialError{Code: 503, Reason: "Service Unavailable"}, store.CallFailed, "503"},
		{&DialError{Err: errors.New("no route")}, store.CallFailed, ""},
		{errors.New("not a DialError"), store.CallFailed, ""},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			h := newHarness(t)
			h.app.twiml("/voice", `<Response><Say>never</Say></Response>`)
			h.dialer.setScript(failDial(tc.err))
			call := h.place(Call{URL: "/voice", StatusCallback: "/status", StatusCallbackEvents: []string{"ringing", "completed"}})
			h.waitEnded(call.SID)
			rec := h.st.call(call.SID)
			if rec.Status != tc.status || !rec.AnsweredAt.IsZero() || rec.Duration != 0 || rec.EndTime.IsZero() {
				t.Errorf("record %s answered %v duration %d", rec.Status, rec.AnsweredAt, rec.Duration)
			}
			st, cbs := progressStatuses(t, h, call.SID)
			if !slices.Equal(st, []string{"ringing", string(tc.status)}) {
				t.Fatalf("callbacks %v", st)
			}
			if got := cbs[1].p.Get("SipResponseCode"); got != tc.code {
				t.Errorf("SipResponseCode %q, want %q", got, tc.code)
			}
			if len(h.app.requests()) != 0 {
				t.Error("TwiML fetched for a call never answered")
			}
		})
	}
}

func TestOutboundSendDigits(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Say>hi</Say></Response>`)
	var sentBeforeTwiML []string
	h.app.route("/voice", appRoute{contentType: "text/xml", body: []byte(`<Response><Say>hi</Say></Response>`)})
	h.dialer.setScript(func(ctx context.Context, r DialRequest, leg *fakeLeg) (Leg, error) {
		leg.m.onDigits = func(d string) {
			if len(h.app.requests()) == 0 {
				sentBeforeTwiML = append(sentBeforeTwiML, d)
			}
		}
		return leg, nil
	})
	call := h.place(Call{URL: "/voice", SendDigits: "1234w#"})
	leg := h.outboundLeg(0)
	leg.m.waitPlaying(t, 1)
	leg.m.playOut(t, 20)
	h.waitEnded(call.SID)
	if got := leg.m.sentDigits(); !slices.Equal(got, []string{"1234w#"}) {
		t.Errorf("sent %q", got)
	}
	if !slices.Equal(sentBeforeTwiML, []string{"1234w#"}) {
		t.Error("digits sent after the TwiML was requested")
	}
}

// TestOutboundCPS: calls beyond the account's calls per second wait their
// turn, queued.
func TestOutboundCPS(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.CPS = 2 })
	h.app.twiml("/voice", `<Response><Hangup/></Response>`)
	var sids []string
	for i := range 4 {
		c, err := h.in.Place(context.Background(), Call{Account: h.acct, URL: h.url("/voice"), To: "+1555010000" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, c.SID)
	}
	waitFor(t, "the first dial", func() bool { return h.dialer.count() == 1 })
	for i := 1; i < 4; i++ {
		h.waitTimers(4 - i) // the calls still queued: none can dial before the clock moves
		if n := h.dialer.count(); n != i {
			t.Fatalf("%d calls dialed at %v, want %d", n, h.clk.Now().Sub(epoch), i)
		}
		h.clk.Advance(500 * time.Millisecond)
		waitFor(t, "the next dial", func() bool { return h.dialer.count() == i+1 })
	}
	var at []time.Duration
	for i := range 4 {
		at = append(at, h.dialer.dial(i).at.Sub(epoch))
	}
	if want := []time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond}; !slices.Equal(at, want) {
		t.Errorf("dialed at %v, want %v", at, want)
	}
	for _, sid := range sids {
		h.waitStatus(sid, store.CallCompleted)
	}
	// The other accounts' calls do not wait for this one's.
	other := h.acct
	other.SID = "AC00000000000000000000000000000002"
	c, err := h.in.Place(context.Background(), Call{Account: other, URL: h.url("/voice"), To: "+15550109999"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other account's dial", func() bool { return h.dialer.count() == 5 })
	h.waitStatus(c.SID, store.CallCompleted)
}

func TestOutboundTimeLimit(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Pause length="60"/><Say>never</Say></Response>`)
	call := h.place(Call{URL: "/voice", TimeLimit: 2 * time.Second})
	leg := h.outboundLeg(0)
	h.waitTimers(2) // the limit and the pause
	h.advanceBefore(1999 * time.Millisecond)
	if leg.isEnded() {
		t.Fatal("ended before the time limit")
	}
	h.clk.Advance(time.Millisecond)
	h.waitEnded(call.SID)
	rec := h.st.call(call.SID)
	if rec.Status != store.CallCompleted || rec.Duration != 2 || leg.hangupCount() != 1 {
		t.Errorf("record %s duration %d; leg hung up %d times", rec.Status, rec.Duration, leg.hangupCount())
	}
	if len(h.tts.texts()) != 0 {
		t.Error("the call went on after its time limit")
	}
}

func TestOutboundMachineDetection(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Hangup/></Response>`)
	call := h.place(Call{URL: "/voice", MachineDetection: "Enable", StatusCallback: "/status"})
	h.waitEnded(call.SID)
	if rec := h.st.call(call.SID); rec.AnsweredBy != "unknown" || rec.Status != store.CallCompleted {
		t.Errorf("record AnsweredBy %q status %s", rec.AnsweredBy, rec.Status)
	}
	if r := h.app.requestsTo("/voice"); len(r) != 1 || r[0].Params.Get("AnsweredBy") != "unknown" {
		t.Errorf("TwiML request %v", r)
	}
	_, cbs := progressStatuses(t, h, call.SID)
	if len(cbs) != 1 || cbs[0].p.Get("AnsweredBy") != "unknown" {
		t.Errorf("completed callback %v", cbs)
	}
	notes := h.st.notifications(call.SID)
	if len(notes) != 1 || notes[0].Log != logWarning || !strings.Contains(notes[0].MessageText, "MachineDetection") {
		t.Errorf("notifications %+v, want one warning about MachineDetection", notes)
	}
}

func TestOutboundRecord(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Say>hello</Say></Response>`)
	call := h.place(Call{URL: "/voice", StatusCallback: "/status", Record: &CallRecordingOptions{}})
	leg := h.outboundLeg(0)
	leg.m.waitPlaying(t, 1)
	leg.m.say(talk(10))
	leg.m.playOut(t, 20)
	h.waitEnded(call.SID)

	recs := h.st.recordings(call.SID)
	if len(recs) != 1 {
		t.Fatalf("%d recordings", len(recs))
	}
	rec := recs[0]
	if rec.Status != store.RecordingCompleted || rec.Source != store.SourceOutboundAPI || rec.Track != "both" || rec.Duration < 200*time.Millisecond {
		t.Errorf("recording %+v", rec)
	}
	pcm := readRecording(t, filepath.Join(h.dataDir, rec.File))
	if toneFrames(pcm, toneSay) != 10 || toneFrames(pcm, toneCaller) != 10 {
		t.Errorf("recording holds %d frames of the call's speech and %d of the far end's; want 10 and 10",
			toneFrames(pcm, toneSay), toneFrames(pcm, toneCaller))
	}
	_, cbs := progressStatuses(t, h, call.SID)
	if len(cbs) != 1 {
		t.Fatalf("%d callbacks", len(cbs))
	}
	p := cbs[0].p
	if p.Get("CallStatus") != "completed" || p.Get("RecordingSid") != rec.SID ||
		p.Get("RecordingUrl") != "https://sb.test/2010-04-01/Accounts/"+h.acct.SID+"/Recordings/"+rec.SID || p.Get("RecordingDuration") != "0" {
		t.Errorf("completed callback %v", p)
	}
}

func TestPlaceErrors(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Dialer = nil })
	if _, err := h.in.Place(context.Background(), Call{Account: h.acct, URL: h.url("/voice")}); !errors.Is(err, ErrNoDialer) {
		t.Errorf("Place without a dialer: %v", err)
	}
	h2 := newHarness(t)
	h2.in.Close()
	if _, err := h2.in.Place(context.Background(), Call{Account: h2.acct, URL: h2.url("/voice")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Place after Close: %v", err)
	}
}

// TestCloseEndsOutboundCalls: Close ends the calls placed, queued, ringing
// or answered, and finalises them.
func TestCloseEndsOutboundCalls(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Say loop="0">hello</Say></Response>`)
	answered := h.place(Call{URL: "/voice"})
	leg := h.outboundLeg(0)
	leg.m.waitPlaying(t, 1)
	h.dialer.setScript(blockDial)
	ringing := h.place(Call{URL: "/voice"})
	waitFor(t, "the second dial", func() bool { return h.dialer.count() == 2 })
	h.in.rate.reserve(h.acct.SID, h.clk.Now())
	queued, err := h.in.Place(context.Background(), Call{Account: h.acct, URL: h.url("/voice")})
	if err != nil {
		t.Fatal(err)
	}
	h.waitTimers(2) // the answered call's limit, the queued call's turn
	h.in.Close()
	for sid, want := range map[string]store.CallStatus{answered.SID: store.CallCompleted, ringing.SID: store.CallFailed, queued.SID: store.CallFailed} {
		if got := h.st.call(sid).Status; got != want {
			t.Errorf("call %s after Close: %s, want %s", sid, got, want)
		}
	}
	if leg.hangupCount() != 1 || !h.dialer.dial(1).canceled {
		t.Error("Close did not hang up the answered call or cancel the ringing one")
	}
	if h.in.Live() != 0 {
		t.Errorf("%d calls live after Close", h.in.Live())
	}
}

// The calls-per-second limit spaces the calls' actual starts: a turn taken
// late (its goroutine stalled) does not start right before the next turn.
func TestCallRateSpacesStarts(t *testing.T) {
	c := newCallRate(2) // 500 ms apart
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for i, w := range []time.Duration{0, 500 * time.Millisecond, time.Second} {
		if got := c.reserve("AC1", t0); got != w {
			t.Fatalf("turn %d: wait %v, want %v", i, got, w)
		}
	}
	steps := []struct {
		ms   int
		wait time.Duration
	}{
		{0, 0},                         // the first call starts at once
		{950, 0},                       // the second's turn (500) was reached 450 ms late
		{1000, 450 * time.Millisecond}, // the third's turn is on time: it waits for the spacing
		{1450, 0},
	}
	for _, s := range steps {
		if got := c.start("AC1", at(s.ms)); got != s.wait {
			t.Errorf("start at %d ms: wait %v, want %v", s.ms, got, s.wait)
		}
	}
	if got := c.start("AC2", at(1460)); got != 0 {
		t.Errorf("another account waits %v", got)
	}
}
