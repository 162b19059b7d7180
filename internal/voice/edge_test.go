package voice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// TestStoreDownAtStart: a call that cannot be recorded is refused (inbound:
// its record is saved while its webhook is fetched, and it is refused
// instead of answered) or not placed (outbound).
func TestStoreDownAtStart(t *testing.T) {
	h := newHarness(t)
	h.st.beforeSave = func(store.Call) error { return errors.New("database down") }
	h.app.twiml("/voice", `<Response><Say>never</Say></Response>`)
	ic := h.inbound(Call{URL: "/voice"})
	ic.wait()
	if code, _ := ic.inb.rejected(); code != 500 || ic.inb.wasAnswered() {
		t.Errorf("rejected with %d, answered %v; want 500 and never answered", code, ic.inb.wasAnswered())
	}
	if n := len(h.app.requests()); n > 1 {
		t.Errorf("%d requests to the app for a call without a record", n)
	}
	if _, err := h.in.Place(context.Background(), Call{Account: h.acct, URL: h.url("/voice")}); err == nil {
		t.Error("Place succeeded without a record")
	}
	if len(h.app.requestsTo("/voice")) > 1 || h.dialer.count() != 0 || h.in.Live() != 0 {
		t.Error("a call went on without a record")
	}
	if texts := h.tts.texts(); len(texts) != 0 {
		t.Errorf("spoke %q for a call without a record", texts)
	}
}

// TestFirstRecordWhileFetching: an incoming call's first record is saved
// while its webhook is fetched, not before; a read of the call through
// WaitRecorded meanwhile finds it, and the answer waits for it.
func TestFirstRecordWhileFetching(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	saving := make(chan struct{})
	var once atomic.Bool
	h.st.beforeSave = func(c store.Call) error {
		if c.Status == store.CallRinging && once.CompareAndSwap(false, true) {
			close(saving)
			<-release
		}
		return nil
	}
	fetched := make(chan string, 1)
	h.app.route("/voice", appRoute{fn: func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		fetched <- r.PostForm.Get("CallSid")
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<Response><Say>hello</Say></Response>`))
	}})
	var sid atomic.Value
	ic := h.inbound(Call{URL: "/voice"}, func(ic *inboundCall) {
		ic.inb.onAnswer = func() {
			if s, _ := sid.Load().(string); s == "" || h.st.call(s).Status == "" {
				t.Error("answered before the call's record was saved")
			}
		}
	})
	waitChan(t, "the first save", saving)
	callSID := <-fetched // the webhook went out while the record was being saved
	sid.Store(callSID)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if h.in.WaitRecorded(done, callSID) {
		t.Error("WaitRecorded found the record while it was being saved")
	}
	close(release)
	if !h.in.WaitRecorded(context.Background(), callSID) {
		t.Error("WaitRecorded did not wait for the record")
	}
	if rec := h.st.call(callSID); rec.Status == "" {
		t.Error("no record after WaitRecorded")
	}
	ic.m.waitPlaying(t, 1)
	if !ic.inb.wasAnswered() {
		t.Error("not answered")
	}
	ic.finish(100)
}

func TestAnswerFails(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Say>hello</Say></Response>`)
	ic := h.inbound(Call{URL: "/voice"}, func(ic *inboundCall) { ic.inb.answerErr = errors.New("no ACK") })
	ic.wait()
	if rec := ic.record(); rec.Status != store.CallFailed || !rec.AnsweredAt.IsZero() {
		t.Errorf("record %s answered %v; want failed", rec.Status, rec.AnsweredAt)
	}
	if len(h.tts.texts()) != 0 {
		t.Error("spoke without an answer")
	}
}

// The SIP layer ends the call's context a moment before it closes Canceled:
// a call woken from its first <Pause> in between finds Canceled open, tries
// to answer, and the answer says the caller canceled. The call is canceled,
// not failed (TestCancelBeforeAnswer in internal/server saw "failed").
func TestCallerCancelSeenFirstByTheAnswer(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Pause length="10"/><Say>too late</Say></Response>`)
	ic := h.inbound(Call{URL: "/voice"}, func(ic *inboundCall) {
		ic.inb.answerErr = fmt.Errorf("sip: %w", ErrCanceled)
	})
	waitFor(t, "the pause to ring", func() bool { return ic.inb.ringCount() > 0 })
	ic.inb.stop() // the context ends; Canceled is not closed yet
	ic.wait()
	if rec := ic.record(); rec.Status != store.CallCanceled || !rec.AnsweredAt.IsZero() {
		t.Errorf("record %s answered %v; want canceled", rec.Status, rec.AnsweredAt)
	}
	if got := lastCause(t, h, ic.sid()); got != "canceled by the caller" {
		t.Errorf("cause %q, want canceled by the caller", got)
	}
	if codes := h.st.codes(ic.sid()); len(codes) != 0 {
		t.Errorf("notifications %v for a caller who gave up", codes)
	}
}

// TestCallerCancelsDuringFirstFetch: the fetch stops, the fallback is not
// tried, nothing is reported as the app's failure.
func TestCallerCancelsDuringFirstFetch(t *testing.T) {
	h := newHarness(t)
	entered := make(chan struct{})
	h.app.route("/slow", appRoute{fn: func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	}})
	h.app.twiml("/fallback", `<Response><Say>fallback</Say></Response>`)
	ic := h.inbound(Call{URL: "/slow", FallbackURL: "/fallback"})
	waitChan(t, "the first request", entered)
	ic.inb.cancel()
	ic.wait()
	rec := ic.record()
	if rec.Status != store.CallCanceled || ic.inb.wasAnswered() {
		t.Errorf("record %s, answered %v; want canceled", rec.Status, ic.inb.wasAnswered())
	}
	if n := len(h.app.requestsTo("/fallback")); n != 0 {
		t.Error("the fallback was tried for a call that was canceled")
	}
	if codes := h.st.codes(rec.SID); len(codes) != 0 {
		t.Errorf("notifications %v for a caller who hung up", codes)
	}
}

// lastCause is the Cause of the call's last call event.
func lastCause(t *testing.T, h *harness, sid string) string {
	t.Helper()
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	var cause string
	for _, ev := range h.st.events {
		if ev.CallSID == sid && ev.Type == store.EventCall {
			var ch store.CallChange
			if err := json.Unmarshal(ev.Payload, &ch); err != nil {
				t.Fatal(err)
			}
			cause = ch.Cause
		}
	}
	return cause
}

// TestEndCause: the completed event says who ended the call.
func TestEndCause(t *testing.T) {
	t.Run("far end", func(t *testing.T) {
		h := newHarness(t)
		ic := h.runDoc(`<Response><Say loop="0">a</Say></Response>`)
		ic.m.waitPlaying(t, 1)
		ic.leg.remoteHangup()
		ic.wait()
		if got := lastCause(t, h, ic.sid()); got != "hangup by the far end" {
			t.Errorf("cause %q", got)
		}
	})
	t.Run("time limit", func(t *testing.T) {
		h := newHarness(t)
		h.app.twiml("/voice", `<Response><Pause length="10"/></Response>`)
		call := h.place(Call{URL: "/voice", TimeLimit: time.Second})
		h.waitTimers(2)
		h.clk.Advance(time.Second)
		h.waitEnded(call.SID)
		if got := lastCause(t, h, call.SID); got != "time limit" {
			t.Errorf("cause %q", got)
		}
	})
	t.Run("Hangup verb", func(t *testing.T) {
		h := newHarness(t)
		ic := h.runDoc(`<Response><Hangup/></Response>`)
		ic.wait()
		if got := lastCause(t, h, ic.sid()); got == "hangup by the far end" {
			t.Errorf("cause %q for a <Hangup/>", got)
		}
	})
}

// TestSlowRecordingWriteStallsOtherCalls: a store write that is slow for
// one call must not hold up the others.
func TestSlowRecordingWriteStallsOtherCalls(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Say loop="0">a</Say></Response>`)
	h.app.twiml("/b", `<Response><Say>b</Say></Response>`)
	a := h.inbound(Call{URL: "/voice"})
	a.m.waitPlaying(t, 1)
	sid := a.sid()

	var slow atomic.Bool
	slow.Store(true)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	h.st.beforeCreateRecording = func() {
		if slow.Load() {
			entered <- struct{}{}
			<-release
		}
	}
	recDone := make(chan struct{})
	go func() {
		defer close(recDone)
		h.in.StartCallRecording(context.Background(), h.acct.SID, sid, CallRecordingOptions{})
	}()
	waitChan(t, "the slow write", entered)
	updDone := make(chan struct{})
	go func() {
		defer close(updDone)
		h.in.Update(context.Background(), h.acct.SID, sid, Update{TimeLimit: time.Hour})
	}()
	time.Sleep(20 * time.Millisecond) // the Update waits for run.mu, holding Interpreter.mu

	b := h.inbound(Call{URL: "/b"})
	started := false
	for range 200 {
		if len(h.app.requestsTo("/b")) > 0 {
			started = true
			break
		}
		time.Sleep(time.Millisecond)
	}
	slow.Store(false)
	close(release)
	<-recDone
	<-updDone
	b.finish(100)
	if !started {
		t.Error("a new call could not start while another call's recording was being stored")
	}
}

// TestCloseWhilePlacing: a Place that Close overtakes either fails or is
// waited for.
func TestCloseWhilePlacing(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Hangup/></Response>`)
	var gate atomic.Bool
	gate.Store(true)
	entered := make(chan struct{})
	release := make(chan struct{})
	h.st.beforeSave = func(c store.Call) error {
		if gate.CompareAndSwap(true, false) {
			close(entered)
			<-release
		}
		return nil
	}
	placed := make(chan error, 1)
	var sid string
	go func() {
		c, err := h.in.Place(context.Background(), Call{Account: h.acct, URL: h.url("/voice")})
		sid = c.SID
		placed <- err
	}()
	waitChan(t, "Place's first write", entered)
	closed := make(chan struct{})
	go func() {
		h.in.Close()
		close(closed)
	}()
	closedFirst := false
	select {
	case <-closed:
		closedFirst = true // Close did not wait for the Place in progress
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	err := <-placed
	<-closed
	waitFor(t, "the call to leave", func() bool { return h.in.Live() == 0 })
	if err == nil && closedFirst {
		// Close returned before this call was placed: it must not have
		// gone on after Close.
		if n := h.dialer.count(); n != 0 {
			t.Errorf("call %s dialed after Close returned", sid)
		}
		if evs := h.st.statuses(sid); len(evs) > 2 {
			t.Errorf("call %s written after Close returned: %v", sid, evs)
		}
	}
}
