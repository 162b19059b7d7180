package voice

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/store"
)

func (h *harness) update(sid string, u Update) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.in.Update(ctx, h.acct.SID, sid, u)
}

// TestUpdateRedirectInterrupts: a new document (URL or TwiML) stops the
// running verb at once and runs; an interrupted <Gather> or <Record> asks
// nothing of its action, and the recording is kept.
func TestUpdateRedirectInterrupts(t *testing.T) {
	verbs := []struct {
		name  string
		doc   string
		ready func(t *testing.T, h *harness, ic *inboundCall)
	}{
		{"play", `<Response><Play loop="0">/tone.wav</Play></Response>`, func(t *testing.T, h *harness, ic *inboundCall) {
			ic.m.waitPlaying(t, 1)
			ic.m.tickN(15)
		}},
		{"say", `<Response><Say loop="0">forever</Say></Response>`, func(t *testing.T, h *harness, ic *inboundCall) {
			ic.m.waitPlaying(t, 1)
			ic.m.tickN(15)
		}},
		{"pause", `<Response><Say>first</Say><Pause length="60"/></Response>`, func(t *testing.T, h *harness, ic *inboundCall) {
			ic.m.waitPlaying(t, 1)
			ic.m.playOut(t, 20)
			h.waitTimers(2)
		}},
		{"gather", `<Response><Gather action="/action" actionOnEmptyResult="true" timeout="60"><Say loop="0">prompt</Say></Gather></Response>`, func(t *testing.T, h *harness, ic *inboundCall) {
			ic.m.waitPlaying(t, 1)
			ic.m.tickN(5)
		}},
		{"gather collecting", `<Response><Gather action="/action" actionOnEmptyResult="true" timeout="60"/></Response>`, func(t *testing.T, h *harness, ic *inboundCall) {
			h.waitTimers(2)
			ic.m.press(t, "12")
			waitFor(t, "the digits to be taken", func() bool { return len(ic.m.ear().digits) == 0 })
		}},
		{"record", `<Response><Record action="/action" playBeep="false" maxLength="60"/></Response>`, func(t *testing.T, h *harness, ic *inboundCall) {
			startRecording(t, h, ic, false)
			ic.m.say(talk(50))
			ic.m.tickN(50)
		}},
	}
	updates := []struct {
		name string
		u    Update
	}{
		{"url", Update{URL: appBase + "/next", Method: "GET"}},
		{"twiml", Update{Twiml: `<Response><Say>next</Say></Response>`}},
	}
	for _, v := range verbs {
		for _, up := range updates {
			t.Run(v.name+"/"+up.name, func(t *testing.T) {
				h := newHarness(t)
				h.app.twiml("/next", `<Response><Say>next</Say></Response>`)
				h.app.twiml("/action", `<Response><Say>action</Say></Response>`)
				ic := h.runDoc(v.doc)
				ic.answered()
				v.ready(t, h, ic)
				plays := ic.m.playCount()
				if err := h.update(ic.sid(), up.u); err != nil {
					t.Fatalf("Update: %v", err)
				}
				ic.m.waitPlaying(t, plays+1)
				ic.finish(100)

				texts := h.tts.texts()
				if len(texts) == 0 || texts[len(texts)-1] != "next" || slices.Contains(texts, "action") {
					t.Errorf("spoke %q: want the new document's, and no action's", texts)
				}
				if n := len(h.app.requestsTo("/action")); n != 0 {
					t.Errorf("%d action requests from an interrupted verb", n)
				}
				if up.name == "url" {
					r := h.app.requestsTo("/next")
					if len(r) != 1 || r[0].Method != "GET" || r[0].Params.Get("CallStatus") != "in-progress" || r[0].Params.Get("CallSid") != ic.sid() {
						t.Errorf("requests to the new URL: %+v", r)
					}
				}
				if v.name == "record" {
					rec := recordingOf(t, h, ic.sid())
					if rec.Status != store.RecordingCompleted || rec.Duration != time.Second {
						t.Errorf("interrupted recording %s %v; want completed, 1 s", rec.Status, rec.Duration)
					}
				}
				c := ic.record()
				if c.Status != store.CallCompleted {
					t.Errorf("status %s", c.Status)
				}
				if n := ic.leg.hangupCount(); n != 1 {
					t.Errorf("hung up %d times", n)
				}
			})
		}
	}
}

func TestUpdateCompletedHangsUp(t *testing.T) {
	h := newHarness(t)
	ic := h.runDoc(`<Response><Say loop="0">forever</Say></Response>`)
	ic.m.waitPlaying(t, 1)
	ic.m.tickN(100)
	if err := h.update(ic.sid(), Update{Status: store.CallCompleted}); err != nil {
		t.Fatal(err)
	}
	// Update returns once the final status is stored.
	rec := ic.record()
	if rec.Status != store.CallCompleted || rec.Duration != 2 {
		t.Errorf("after Update: %s, %d s", rec.Status, rec.Duration)
	}
	if n := ic.leg.hangupCount(); n != 1 {
		t.Errorf("hung up %d times", n)
	}
	ic.wait()
	if err := h.update(rec.SID, Update{Status: store.CallCompleted}); !errors.Is(err, ErrCallNotFound) {
		t.Errorf("Update of an ended call: %v", err)
	}
}

func TestUpdateCanceledLeavesAnsweredCall(t *testing.T) {
	h := newHarness(t)
	ic := h.runDoc(`<Response><Say loop="0">forever</Say></Response>`)
	ic.m.waitPlaying(t, 1)
	ic.m.tickN(10)
	if err := h.update(ic.sid(), Update{Status: store.CallCanceled}); err != nil {
		t.Fatal(err)
	}
	ic.m.tickN(10)
	if !ic.m.playing() || ic.leg.isEnded() || ic.record().Status != store.CallInProgress {
		t.Fatal("canceling an answered call changed it")
	}
	ic.leg.remoteHangup()
	ic.wait()
	if rec := ic.record(); rec.Status != store.CallCompleted {
		t.Errorf("status %s", rec.Status)
	}
}

// TestUpdateRingingInbound: an inbound call not answered yet (a first
// <Pause>) is refused and canceled.
func TestUpdateRingingInbound(t *testing.T) {
	for _, st := range []store.CallStatus{store.CallCompleted, store.CallCanceled} {
		t.Run(string(st), func(t *testing.T) {
			h := newHarness(t)
			ic := h.runDoc(`<Response><Pause length="30"/><Say>never</Say></Response>`)
			h.waitTimers(1)
			if err := h.update(ic.sid(), Update{Status: st}); err != nil {
				t.Fatal(err)
			}
			if rec := ic.record(); rec.Status != store.CallCanceled {
				t.Errorf("after Update: %s", rec.Status)
			}
			ic.wait()
			if code, _ := ic.inb.rejected(); code != 487 || ic.inb.wasAnswered() {
				t.Errorf("rejected with %d, answered %v", code, ic.inb.wasAnswered())
			}
		})
	}
}

func TestUpdateNotFound(t *testing.T) {
	h := newHarness(t)
	if err := h.update("CA0000", Update{Status: store.CallCompleted}); !errors.Is(err, ErrCallNotFound) {
		t.Errorf("unknown call: %v", err)
	}
	ic := h.runDoc(`<Response><Say loop="0">forever</Say></Response>`)
	ic.m.waitPlaying(t, 1)
	if err := h.in.Update(context.Background(), "AC-other", ic.sid(), Update{Status: store.CallCompleted}); !errors.Is(err, ErrCallNotFound) {
		t.Errorf("another account's call: %v", err)
	}
	if _, err := h.in.StartCallRecording(context.Background(), "AC-other", ic.sid(), CallRecordingOptions{}); !errors.Is(err, ErrCallNotFound) {
		t.Errorf("recording another account's call: %v", err)
	}
	ic.leg.remoteHangup()
	ic.wait()
	if err := h.update(ic.sid(), Update{URL: h.url("/x")}); !errors.Is(err, ErrCallNotFound) {
		t.Errorf("ended call: %v", err)
	}
	if _, err := h.in.StartCallRecording(context.Background(), h.acct.SID, ic.sid(), CallRecordingOptions{}); !errors.Is(err, ErrCallNotFound) {
		t.Errorf("recording an ended call: %v", err)
	}
}

// TestUpdateSettings: the fallback, the status callback and the time
// limit change without interrupting the call.
func TestUpdateSettings(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Say>hi</Say><Pause length="60"/></Response>`)
	ic := h.inbound(Call{URL: "/voice", StatusCallback: "/old"})
	ic.m.waitPlaying(t, 1)
	ic.m.playOut(t, 20)
	h.waitTimers(2)
	sid := ic.sid()
	if err := h.update(sid, Update{StatusCallback: h.url("/new"), StatusCallbackMethod: "GET", TimeLimit: 5 * time.Second, FallbackURL: h.url("/fb")}); err != nil {
		t.Fatal(err)
	}
	h.advanceBefore(4999 * time.Millisecond)
	if ic.ended() {
		t.Fatal("ended before the new time limit")
	}
	h.clk.Advance(time.Millisecond)
	ic.wait()
	rec := ic.record()
	if rec.Status != store.CallCompleted || rec.Duration != 5 {
		t.Errorf("record %s %d s, want completed after 0.22 + 5 s", rec.Status, rec.Duration)
	}
	cbs := h.st.callbacksOf(sid)
	if len(cbs) != 1 || cbs[0].URL != h.url("/new") || cbs[0].Method != "GET" || cbs[0].p.Get("SequenceNumber") != "0" {
		t.Errorf("callbacks %+v", cbs)
	}
	if got := h.tts.texts(); !slices.Equal(got, []string{"hi"}) {
		t.Errorf("spoke %q", got)
	}
}

// TestUpdateFallbackApplies: a new fallback URL serves the next document
// that fails.
func TestUpdateFallbackApplies(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Say loop="0">hi</Say></Response>`)
	h.app.twiml("/fb", `<Response><Say>fallback</Say></Response>`)
	ic := h.inbound(Call{URL: "/voice"})
	ic.m.waitPlaying(t, 1)
	if err := h.update(ic.sid(), Update{FallbackURL: h.url("/fb")}); err != nil {
		t.Fatal(err)
	}
	if err := h.update(ic.sid(), Update{URL: h.url("/missing")}); err != nil {
		t.Fatal(err)
	}
	ic.m.waitPlaying(t, 2)
	ic.finish(100)
	if got := h.tts.texts(); !slices.Equal(got, []string{"hi", "fallback"}) {
		t.Errorf("spoke %q", got)
	}
}

func TestUpdateOutboundWhileDialing(t *testing.T) {
	t.Run("canceled", func(t *testing.T) {
		h := newHarness(t)
		h.app.twiml("/voice", `<Response><Say>never</Say></Response>`)
		h.dialer.setScript(blockDial)
		call := h.place(Call{URL: "/voice", StatusCallback: "/status", StatusCallbackEvents: []string{"initiated", "ringing", "answered", "completed"}})
		h.outboundLeg(0)
		if err := h.update(call.SID, Update{Status: store.CallCanceled}); err != nil {
			t.Fatal(err)
		}
		if rec := h.st.call(call.SID); rec.Status != store.CallCanceled {
			t.Errorf("after Update: %s", rec.Status)
		}
		h.waitEnded(call.SID)
		if !h.dialer.returned(t, 0).canceled {
			t.Error("the dialer did not see the cancellation")
		}
		if len(h.app.requests()) != 0 {
			t.Error("TwiML fetched for a canceled call")
		}
		if st, _ := progressStatuses(t, h, call.SID); !slices.Equal(st, []string{"initiated", "ringing", "canceled"}) {
			t.Errorf("callbacks %v", st)
		}
	})

	t.Run("completed while queued", func(t *testing.T) {
		h := newHarness(t)
		h.in.rate.reserve(h.acct.SID, h.clk.Now())
		call, err := h.in.Place(context.Background(), Call{Account: h.acct, URL: h.url("/voice")})
		if err != nil {
			t.Fatal(err)
		}
		h.waitTimers(1)
		if err := h.update(call.SID, Update{Status: store.CallCompleted}); err != nil {
			t.Fatal(err)
		}
		if rec := h.st.call(call.SID); rec.Status != store.CallCanceled {
			t.Errorf("after Update: %s", rec.Status)
		}
		h.waitEnded(call.SID)
		if h.dialer.count() != 0 {
			t.Error("a canceled call was dialed")
		}
		if got := h.st.statuses(call.SID); !slices.Equal(got, []string{"queued", "canceled"}) {
			t.Errorf("events %v", got)
		}
	})

	t.Run("new URL runs at the answer", func(t *testing.T) {
		h := newHarness(t)
		h.app.twiml("/voice", `<Response><Say>old</Say></Response>`)
		h.app.twiml("/second", `<Response><Say>second</Say></Response>`)
		release := make(chan struct{})
		h.dialer.setScript(func(ctx context.Context, r DialRequest, leg *fakeLeg) (Leg, error) {
			r.OnRinging()
			select {
			case <-release:
				return leg, nil
			case <-ctx.Done():
				return nil, &DialError{Err: ctx.Err()}
			}
		})
		call := h.place(Call{URL: "/voice"})
		leg := h.outboundLeg(0)
		if err := h.update(call.SID, Update{URL: h.url("/second")}); err != nil {
			t.Fatal(err)
		}
		if h.dialer.dial(0).canceled {
			t.Fatal("a new URL interrupted the dialing")
		}
		close(release)
		leg.m.waitPlaying(t, 1)
		leg.m.playOut(t, 20)
		h.waitEnded(call.SID)
		if got := h.app.paths(); !slices.Equal(got, []string{"/second"}) {
			t.Errorf("requests %v", got)
		}
		if got := h.tts.texts(); !slices.Equal(got, []string{"second"}) {
			t.Errorf("spoke %q", got)
		}
	})
}

// TestConcurrentControl steers a running call from several goroutines at
// once (new documents, settings, call recordings started, paused, resumed
// and stopped) while its media runs, then ends it. Under -race this checks
// that the call's state is reached only through the mailbox and the
// mu-guarded fields.
func TestConcurrentControl(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Say loop="0">a</Say></Response>`)
	h.app.twiml("/b", `<Response><Play loop="0">/tone.wav</Play></Response>`)
	ic := h.inbound(Call{URL: "/voice", StatusCallback: "/status"})
	sid := ic.sid()
	ic.m.waitPlaying(t, 1)

	stop := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Add(1)
	go func() { // the media pacer
		defer ticker.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			ic.m.say(talk(1))
			ic.m.tick()
			time.Sleep(50 * time.Microsecond)
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	ctx := context.Background()
	for g := range 3 {
		wg.Add(1)
		go func() { // new documents
			defer wg.Done()
			for i := range 8 {
				u := Update{Twiml: fmt.Sprintf(`<Response><Say loop="0">doc %d %d</Say></Response>`, g, i)}
				if i%2 == 1 {
					u = Update{URL: h.url("/b")}
				}
				if err := h.in.Update(ctx, h.acct.SID, sid, u); err != nil && !errors.Is(err, ErrBusy) {
					errs <- fmt.Errorf("update: %w", err)
				}
				time.Sleep(time.Millisecond)
			}
		}()
		wg.Add(1)
		go func() { // settings
			defer wg.Done()
			for i := range 10 {
				u := Update{StatusCallback: h.url(fmt.Sprintf("/status%d", g)), TimeLimit: time.Hour + time.Duration(i)*time.Second, FallbackURL: h.url("/fb")}
				if err := h.in.Update(ctx, h.acct.SID, sid, u); err != nil {
					errs <- fmt.Errorf("settings: %w", err)
				}
			}
		}()
		wg.Add(1)
		go func() { // recordings
			defer wg.Done()
			for range 3 {
				rec, err := h.in.StartCallRecording(ctx, h.acct.SID, sid, CallRecordingOptions{StatusCallback: h.url("/rec")})
				if err != nil {
					errs <- fmt.Errorf("start recording: %w", err)
					return
				}
				for _, st := range []store.RecordingStatus{store.RecordingPaused, store.RecordingInProgress, store.RecordingStopped} {
					time.Sleep(time.Millisecond)
					if _, err := h.in.UpdateCallRecording(ctx, h.acct.SID, sid, rec.SID, st); err != nil {
						errs <- fmt.Errorf("recording %s: %w", st, err)
					}
				}
			}
			// One left running: it ends with the call.
			if _, err := h.in.StartCallRecording(ctx, h.acct.SID, sid, CallRecordingOptions{}); err != nil {
				errs <- fmt.Errorf("start recording: %w", err)
			}
		}()
	}
	wg.Wait()
	if err := h.update(sid, Update{Status: store.CallCompleted}); err != nil {
		t.Errorf("hang up: %v", err)
	}
	close(stop)
	ticker.Wait()
	ic.wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	if rec := ic.record(); rec.Status != store.CallCompleted {
		t.Errorf("status %s", rec.Status)
	}
	if n := ic.leg.hangupCount(); n != 1 {
		t.Errorf("hung up %d times", n)
	}
	recs := h.st.recordings(sid)
	if len(recs) != 12 {
		t.Errorf("%d recordings, want 12", len(recs))
	}
	for _, r := range recs {
		if r.Status != store.RecordingCompleted && r.Status != store.RecordingAbsent {
			t.Errorf("recording %s left %s", r.SID, r.Status)
		}
	}
	if h.st.conflicts != 0 {
		t.Errorf("%d writes over a final status", h.st.conflicts)
	}
	cbs := h.st.callbacksOf(sid)
	var progress []queuedCallback
	for _, cb := range cbs {
		if cb.p.Get("CallbackSource") == "call-progress-events" {
			progress = append(progress, cb)
		}
	}
	if len(progress) != 1 || progress[0].p.Get("CallStatus") != "completed" {
		t.Errorf("progress callbacks %+v", progress)
	}
}

// TestUpdateBadTwiml: an Update whose TwiML cannot run is the app's error:
// a notification, the application error message, the end of the call.
func TestUpdateBadTwiml(t *testing.T) {
	h := newHarness(t)
	ic := h.runDoc(`<Response><Say loop="0">a</Say></Response>`)
	ic.m.waitPlaying(t, 1)
	if err := h.update(ic.sid(), Update{Twiml: `<Response><Say>unclosed</Response>`}); err != nil {
		t.Fatal(err)
	}
	ic.m.waitPlaying(t, 2)
	ic.finish(100)
	if got := h.st.codes(ic.sid()); len(got) != 1 || got[0] != 12100 {
		t.Errorf("notifications %v, want [12100]", got)
	}
	if got := toneFrames(ic.m.heardPCM(), toneAppError); got != 10 {
		t.Errorf("heard %d frames of the application error message", got)
	}
}

// TestUpdateRingingInboundNewDocument: a new document for an incoming call
// still ringing (a first <Pause>) runs at once and answers it.
func TestUpdateRingingInboundNewDocument(t *testing.T) {
	h := newHarness(t)
	ic := h.runDoc(`<Response><Pause length="30"/><Say>never</Say></Response>`)
	h.waitTimers(1)
	if err := h.update(ic.sid(), Update{Twiml: `<Response><Say>now</Say></Response>`}); err != nil {
		t.Fatal(err)
	}
	ic.answered()
	ic.finish(100)
	if got := h.tts.texts(); !slices.Equal(got, []string{"now"}) {
		t.Errorf("spoke %q", got)
	}
	if rec := ic.record(); rec.Status != store.CallCompleted || !rec.AnsweredAt.Equal(epoch) {
		t.Errorf("record %s answered at %v", rec.Status, rec.AnsweredAt)
	}
}
