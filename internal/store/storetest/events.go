package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// us is t truncated to the store's precision.
func us(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

func callEvents(t *testing.T, st store.Store, account, call string) []store.Event {
	t.Helper()
	evs, more, err := st.ListEvents(ctx(t), store.EventFilter{AccountSID: account, CallSID: call}, 0, 1000)
	if err != nil || more {
		t.Fatalf("ListEvents(%s): more=%v, %v", call, more, err)
	}
	return evs
}

func pending(t *testing.T, st store.Store) int {
	t.Helper()
	n, err := st.PendingCallbacks(ctx(t))
	if err != nil {
		t.Fatalf("PendingCallbacks: %v", err)
	}
	return n
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testSaveCall(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	other := subAccount(t, st, acct.SID, "other", t0)

	// A new call is inserted; the event is filled in from it.
	c := newCall(acct.SID, "+15550001111", "support", store.CallQueued, t0)
	got, err := st.SaveCall(ctx(t), c, store.Event{}, nil)
	if err != nil {
		t.Fatalf("SaveCall(new): %v", err)
	}
	want := c
	want.StartTime, want.DateCreated, want.DateUpdated = us(t0), us(t0), us(t0)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("SaveCall(new) (-want +got):\n%s", diff)
	}
	read, err := st.Call(ctx(t), acct.SID, c.SID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, read); diff != "" {
		t.Fatalf("read back (-saved +read):\n%s", diff)
	}
	evs := callEvents(t, st, acct.SID, c.SID)
	if len(evs) != 1 {
		t.Fatalf("%d events after the first save, want 1", len(evs))
	}
	ev := evs[0]
	if ev.Type != store.EventCall || ev.Name != "queued" || ev.AccountSID != acct.SID || ev.CallSID != c.SID ||
		ev.ResourceSID != c.SID || !ev.Time.Equal(us(t0)) || ev.Seq == 0 {
		t.Errorf("first call event = %+v", ev)
	}
	var change store.CallChange
	if err := json.Unmarshal(ev.Payload, &change); err != nil {
		t.Fatalf("payload %s: %v", ev.Payload, err)
	}
	if change.Status != store.CallQueued || change.From != c.From || change.To != c.To || change.Direction != c.Direction {
		t.Errorf("default payload = %+v", change)
	}

	// Saving again replaces the row but keeps DateCreated; the event and
	// the callbacks go with it.
	c2 := got
	c2.Status, c2.To = store.CallRinging, "sales"
	c2.DateCreated, c2.DateUpdated, c2.Node = t0.Add(time.Hour), t0.Add(time.Second), "elsewhere"
	payload := mustJSON(t, store.CallChange{Status: store.CallRinging, SIPCode: 180, Cause: "180 Ringing"})
	got2, err := st.SaveCall(ctx(t), c2, store.Event{Name: "ringing", Payload: payload}, []store.Callback{
		{URL: "https://example.com/status", Params: "CallStatus=ringing"},
	})
	if err != nil {
		t.Fatalf("SaveCall(replace): %v", err)
	}
	if !got2.DateCreated.Equal(us(t0)) || !got2.DateUpdated.Equal(us(t0.Add(time.Second))) || got2.To != "sales" || got2.Node != got.Node {
		t.Errorf("replaced row = %+v", got2)
	}
	if read, _ := st.Call(ctx(t), acct.SID, c.SID); !cmp.Equal(got2, read) {
		t.Errorf("read back after replace (-saved +read):\n%s", cmp.Diff(got2, read))
	}
	evs = callEvents(t, st, acct.SID, c.SID)
	if len(evs) != 2 || evs[1].Name != "ringing" || string(evs[1].Payload) != string(payload) || evs[1].Seq <= evs[0].Seq {
		t.Fatalf("events after replace: %+v", evs)
	}
	if n := pending(t, st); n != 1 {
		t.Fatalf("pending callbacks = %d, want 1", n)
	}
	cbs, err := st.ClaimCallbacks(ctx(t), "node", t0, time.Minute, 10)
	if err != nil || len(cbs) != 1 {
		t.Fatalf("claim = %v, %v", cbs, err)
	}
	if cb := cbs[0]; cb.AccountSID != acct.SID || cb.CallSID != c.SID || cb.Method != "POST" || cb.MaxAttempts != 1 ||
		cb.Params != "CallStatus=ringing" || cb.URL != "https://example.com/status" {
		t.Errorf("queued callback = %+v", cb)
	}

	// A zero DateUpdated is now. The row's Node stays, with the right
	// DateCreated too.
	before := time.Now().Truncate(time.Microsecond)
	c3 := got2
	c3.Status, c3.AnsweredAt, c3.DateUpdated, c3.Node = store.CallInProgress, t0.Add(2*time.Second), time.Time{}, "elsewhere"
	got3, err := st.SaveCall(ctx(t), c3, store.Event{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got3.DateUpdated.Before(before) || got3.DateUpdated.After(time.Now()) {
		t.Errorf("DateUpdated = %v, want about now (%v)", got3.DateUpdated, before)
	}
	if read, _ := st.Call(ctx(t), acct.SID, c.SID); got3.Node != got.Node || !cmp.Equal(got3, read) {
		t.Errorf("saved with another Node = %+v; read back (-saved +read):\n%s", got3, cmp.Diff(got3, read))
	}

	// Final is final, but a final call may be saved again as it is.
	c4 := got3
	c4.Status, c4.EndTime, c4.Duration, c4.DateUpdated = store.CallCompleted, t0.Add(time.Minute), 58, t0.Add(time.Minute)
	if _, err := st.SaveCall(ctx(t), c4, store.Event{}, nil); err != nil {
		t.Fatal(err)
	}
	c4.Duration = 59
	if _, err := st.SaveCall(ctx(t), c4, store.Event{Name: "duration fixed"}, nil); err != nil {
		t.Fatalf("saving a completed call again: %v", err)
	}
	nEvents, nPending := len(callEvents(t, st, acct.SID, c.SID)), pending(t, st)
	c5 := c4
	c5.Status = store.CallInProgress
	if _, err := st.SaveCall(ctx(t), c5, store.Event{}, []store.Callback{{URL: "https://example.com/x"}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reopening a completed call: %v, want ErrConflict", err)
	}
	if read, _ := st.Call(ctx(t), acct.SID, c.SID); read.Status != store.CallCompleted || read.Duration != 59 {
		t.Errorf("after the refused save: %+v", read)
	}
	if n := len(callEvents(t, st, acct.SID, c.SID)); n != nEvents {
		t.Errorf("refused save wrote an event: %d events, want %d", n, nEvents)
	}
	if n := pending(t, st); n != nPending {
		t.Errorf("refused save queued a callback: %d pending, want %d", n, nPending)
	}

	// Unknown account, another account's SID, bad input.
	ghost := newCall("AC0123456789abcdef0123456789abcdef", "a", "b", store.CallQueued, t0)
	if _, err := st.SaveCall(ctx(t), ghost, store.Event{}, []store.Callback{{URL: "https://example.com/x"}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SaveCall for a missing account: %v, want ErrNotFound", err)
	}
	if n := pending(t, st); n != nPending {
		t.Errorf("failed save queued a callback: %d pending, want %d", n, nPending)
	}
	stolen := c4
	stolen.AccountSID = other.SID
	if _, err := st.SaveCall(ctx(t), stolen, store.Event{}, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("SaveCall of another account's SID: %v, want ErrConflict", err)
	}
	if _, err := st.SaveCall(ctx(t), newCall(acct.SID, "a", "b", "sideways", t0), store.Event{}, nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("invalid status: %v, want ErrInvalid", err)
	}
	if _, err := st.SaveCall(ctx(t), newCall(acct.SID, "a", "b", store.CallQueued, t0), store.Event{}, []store.Callback{{}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("callback without URL: %v, want ErrInvalid", err)
	}
}

func testEventLog(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	other := subAccount(t, st, acct.SID, "other", t0)
	callA, callB := sid.New("CA"), sid.New("CA")
	appendEv := func(ev store.Event) store.Event {
		t.Helper()
		got, err := st.AppendEvent(ctx(t), ev, nil)
		if err != nil {
			t.Fatalf("AppendEvent(%+v): %v", ev, err)
		}
		return got
	}
	webhook := []byte(`{"request":{"method":"POST","url":"https://example.com/voice"}}`)
	e1 := appendEv(store.Event{AccountSID: acct.SID, CallSID: callA, ResourceSID: callA, Type: store.EventWebhook,
		Name: "request", Time: t0, Payload: webhook})
	e2 := appendEv(store.Event{AccountSID: acct.SID, CallSID: callB, ResourceSID: callB, Type: store.EventCall,
		Name: "ringing", Time: t0.Add(time.Second)})
	e3 := appendEv(store.Event{AccountSID: other.SID, CallSID: callA, ResourceSID: callA, Type: store.EventCall,
		Name: "ringing", Time: t0})
	// Times need not follow Seq: the log is in insert order.
	e4 := appendEv(store.Event{AccountSID: acct.SID, CallSID: callA, ResourceSID: callA, Type: store.EventCall,
		Name: "completed", Time: t0.Add(-time.Second), Payload: []byte(`{"status":"completed"}`)})
	// An event of call B whose resource is not the call (a recording's).
	e5 := appendEv(store.Event{AccountSID: acct.SID, CallSID: callB, ResourceSID: "RE1", Type: store.EventRecording, Name: "completed"})

	if !(e1.Seq < e2.Seq && e2.Seq < e3.Seq && e3.Seq < e4.Seq && e4.Seq < e5.Seq) {
		t.Fatalf("Seq not increasing: %d %d %d %d %d", e1.Seq, e2.Seq, e3.Seq, e4.Seq, e5.Seq)
	}
	if !e1.Time.Equal(us(t0)) || e1.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v in UTC", e1.Time, us(t0))
	}
	if string(e2.Payload) != "{}" {
		t.Errorf("empty payload stored as %q, want {}", e2.Payload)
	}
	if e5.Time.IsZero() {
		t.Error("zero Time not set")
	}

	seqs := func(evs []store.Event) []int64 {
		out := []int64{}
		for _, e := range evs {
			out = append(out, e.Seq)
		}
		return out
	}
	tests := []struct {
		name string
		f    store.EventFilter
		want []store.Event
	}{
		{"account", store.EventFilter{AccountSID: acct.SID}, []store.Event{e1, e2, e4, e5}},
		{"call", store.EventFilter{AccountSID: acct.SID, CallSID: callA}, []store.Event{e1, e4}},
		{"type", store.EventFilter{AccountSID: acct.SID, Type: store.EventCall}, []store.Event{e2, e4}},
		{"call and type", store.EventFilter{AccountSID: acct.SID, CallSID: callA, Type: store.EventWebhook}, []store.Event{e1}},
		{"other account", store.EventFilter{AccountSID: other.SID}, []store.Event{e3}},
		{"other account's call", store.EventFilter{AccountSID: other.SID, CallSID: callB}, nil},
		{"call B", store.EventFilter{AccountSID: acct.SID, CallSID: callB}, []store.Event{e2, e5}},
		// By resource: a call's own events (their resource is the call),
		// not the call's events of another resource; and the events of a
		// resource that is not a call.
		{"resource: call A", store.EventFilter{AccountSID: acct.SID, ResourceSID: callA}, []store.Event{e1, e4}},
		{"resource: call B", store.EventFilter{AccountSID: acct.SID, ResourceSID: callB}, []store.Event{e2}},
		{"resource: recording", store.EventFilter{AccountSID: acct.SID, ResourceSID: "RE1"}, []store.Event{e5}},
		{"resource and type", store.EventFilter{AccountSID: acct.SID, ResourceSID: callA, Type: store.EventWebhook}, []store.Event{e1}},
		{"resource and call", store.EventFilter{AccountSID: acct.SID, CallSID: callB, ResourceSID: "RE1"}, []store.Event{e5}},
		{"resource of another call", store.EventFilter{AccountSID: acct.SID, CallSID: callA, ResourceSID: "RE1"}, nil},
		{"other account's resource", store.EventFilter{AccountSID: other.SID, ResourceSID: callA}, []store.Event{e3}},
		{"resource in another account", store.EventFilter{AccountSID: other.SID, ResourceSID: "RE1"}, nil},
	}
	for _, tt := range tests {
		got, more, err := st.ListEvents(ctx(t), tt.f, 0, 100)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if more {
			t.Errorf("%s: more on a short list", tt.name)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}

	// Paging by Seq.
	f := store.EventFilter{AccountSID: acct.SID}
	page, more, err := st.ListEvents(ctx(t), f, 0, 2)
	if err != nil || !more || !slices.Equal(seqs(page), []int64{e1.Seq, e2.Seq}) {
		t.Fatalf("first page = %v, more=%v, %v", seqs(page), more, err)
	}
	page, more, err = st.ListEvents(ctx(t), f, page[1].Seq, 2)
	if err != nil || more || !slices.Equal(seqs(page), []int64{e4.Seq, e5.Seq}) {
		t.Fatalf("second page = %v, more=%v, %v", seqs(page), more, err)
	}
	page, more, err = st.ListEvents(ctx(t), f, e5.Seq, 2)
	if err != nil || more || len(page) != 0 {
		t.Fatalf("past the end = %v, more=%v, %v", seqs(page), more, err)
	}
	page, _, _ = st.ListEvents(ctx(t), f, e1.Seq, 1)
	if !slices.Equal(seqs(page), []int64{e2.Seq}) {
		t.Errorf("after e1 = %v, want [%d]", seqs(page), e2.Seq)
	}

	// Callbacks queued with an event take its account and call.
	if _, err := st.AppendEvent(ctx(t), store.Event{AccountSID: acct.SID, CallSID: callA, Type: store.EventRecording, Name: "completed"},
		[]store.Callback{{URL: "https://example.com/rec", Method: "GET", MaxAttempts: 3}}); err != nil {
		t.Fatal(err)
	}
	cbs, err := st.ClaimCallbacks(ctx(t), "n", t0, time.Minute, 10)
	if err != nil || len(cbs) != 1 {
		t.Fatalf("claim: %v, %v", cbs, err)
	}
	if cb := cbs[0]; cb.AccountSID != acct.SID || cb.CallSID != callA || cb.Method != "GET" || cb.MaxAttempts != 3 || cb.Attempts != 0 {
		t.Errorf("callback = %+v", cb)
	}

	// Errors, and nothing written by a failed append.
	ghost := "AC0123456789abcdef0123456789abcdef"
	if _, err := st.AppendEvent(ctx(t), store.Event{AccountSID: ghost, Type: store.EventCall}, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AppendEvent for a missing account: %v, want ErrNotFound", err)
	}
	for name, ev := range map[string]store.Event{
		"no account": {Type: store.EventCall},
		"no type":    {AccountSID: acct.SID},
		"bad JSON":   {AccountSID: acct.SID, Type: store.EventCall, Payload: []byte("{")},
	} {
		if _, err := st.AppendEvent(ctx(t), ev, nil); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AppendEvent(%s): %v, want ErrInvalid", name, err)
		}
	}
	if _, err := st.AppendEvent(ctx(t), store.Event{AccountSID: acct.SID, Type: "x"}, []store.Callback{{URL: "u", Method: "PUT"}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("callback with method PUT: %v, want ErrInvalid", err)
	}
	if got, _, _ := st.ListEvents(ctx(t), store.EventFilter{AccountSID: acct.SID, Type: "x"}, 0, 10); len(got) != 0 {
		t.Errorf("a failed append wrote %+v", got)
	}
	if _, _, err := st.ListEvents(ctx(t), store.EventFilter{}, 0, 10); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("ListEvents without account: %v, want ErrInvalid", err)
	}
	if _, _, err := st.ListEvents(ctx(t), f, 0, 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("ListEvents with limit 0: %v, want ErrInvalid", err)
	}
}

func testDeleteCall(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	other := subAccount(t, st, acct.SID, "other", t0)
	save := func(c store.Call) store.Call {
		t.Helper()
		got, err := st.SaveCall(ctx(t), c, store.Event{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	live := save(newCall(acct.SID, "a", "b", store.CallInProgress, t0))
	done := save(newCall(acct.SID, "a", "b", store.CallRinging, t0))
	done.Status, done.DateUpdated = store.CallBusy, t0.Add(time.Second)
	done = save(done)
	note := func(call string) store.Notification {
		t.Helper()
		n, err := st.CreateNotification(ctx(t), store.Notification{SID: sid.New("NO"), AccountSID: acct.SID, CallSID: call, ErrorCode: 11200})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	doneNote, liveNote := note(done.SID), note(live.SID)
	rec, err := st.CreateRecording(ctx(t), store.Recording{SID: sid.New("RE"), AccountSID: acct.SID, CallSID: done.SID,
		Status: store.RecordingCompleted, File: "x.wav"})
	if err != nil {
		t.Fatal(err)
	}
	liveEvents := callEvents(t, st, acct.SID, live.SID)

	if err := st.DeleteCall(ctx(t), acct.SID, live.SID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("deleting a live call: %v, want ErrConflict", err)
	}
	if err := st.DeleteCall(ctx(t), other.SID, done.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting from another account: %v, want ErrNotFound", err)
	}
	if err := st.DeleteCall(ctx(t), acct.SID, sid.New("CA")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting an unknown call: %v, want ErrNotFound", err)
	}
	if n := len(callEvents(t, st, acct.SID, done.SID)); n != 4 { // ringing, busy, notification, recording
		t.Fatalf("%d events before delete, want 4", n)
	}
	if err := st.DeleteCall(ctx(t), acct.SID, done.SID); err != nil {
		t.Fatalf("DeleteCall: %v", err)
	}
	if _, err := st.Call(ctx(t), acct.SID, done.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted call still there: %v", err)
	}
	if evs := callEvents(t, st, acct.SID, done.SID); len(evs) != 0 {
		t.Errorf("deleted call's events still there: %+v", evs)
	}
	if _, err := st.Notification(ctx(t), acct.SID, doneNote.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted call's notification still there: %v", err)
	}
	if _, err := st.Recording(ctx(t), acct.SID, rec.SID); err != nil {
		t.Errorf("deleted call's recording went too: %v", err)
	}
	// The other call keeps everything.
	if _, err := st.Call(ctx(t), acct.SID, live.SID); err != nil {
		t.Errorf("live call: %v", err)
	}
	if _, err := st.Notification(ctx(t), acct.SID, liveNote.SID); err != nil {
		t.Errorf("live call's notification: %v", err)
	}
	if diff := cmp.Diff(liveEvents, callEvents(t, st, acct.SID, live.SID)); diff != "" {
		t.Errorf("live call's events changed (-before +after):\n%s", diff)
	}
	if err := st.DeleteCall(ctx(t), acct.SID, done.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: %v, want ErrNotFound", err)
	}
}

func testResourceEvents(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	call := sid.New("CA")
	payloadOf := func(ev store.Event) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(ev.Payload, &m); err != nil {
			t.Fatalf("payload %s: %v", ev.Payload, err)
		}
		return m
	}

	n, err := st.CreateNotification(ctx(t), store.Notification{SID: sid.New("NO"), AccountSID: acct.SID, CallSID: call,
		ErrorCode: 11200, Log: 1, MessageText: "HTTP retrieval failure", MessageDate: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateNotification(ctx(t), n); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate notification: %v, want ErrConflict", err)
	}
	evs := callEvents(t, st, acct.SID, call)
	if len(evs) != 1 {
		t.Fatalf("%d events after a notification (and a failed one), want 1", len(evs))
	}
	ev := evs[0]
	if ev.Type != store.EventNotification || ev.Name != "warning" || ev.ResourceSID != n.SID || !ev.Time.Equal(us(t0)) {
		t.Errorf("notification event = %+v", ev)
	}
	wantN := map[string]any{"sid": n.SID, "error_code": 11200.0, "log": 1.0, "message": "HTTP retrieval failure"}
	if diff := cmp.Diff(wantN, payloadOf(ev)); diff != "" {
		t.Errorf("notification payload (-want +got):\n%s", diff)
	}

	r, err := st.CreateRecording(ctx(t), store.Recording{SID: sid.New("RE"), AccountSID: acct.SID, CallSID: call,
		Source: store.SourceRecordVerb, Status: store.RecordingInProgress, Track: "both", File: "r.wav",
		DateCreated: t0.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateRecording(ctx(t), acct.SID, r.SID, func(r *store.Recording) error {
		r.Status, r.Duration, r.DateUpdated = store.RecordingCompleted, 4321*time.Millisecond, t0.Add(time.Minute)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	evs, _, err = st.ListEvents(ctx(t), store.EventFilter{AccountSID: acct.SID, CallSID: call, Type: store.EventRecording}, 0, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("recording events = %+v, %v; want 2", evs, err)
	}
	if evs[0].Name != "in-progress" || evs[1].Name != "completed" || evs[0].ResourceSID != r.SID ||
		!evs[0].Time.Equal(us(t0.Add(time.Second))) || !evs[1].Time.Equal(us(t0.Add(time.Minute))) {
		t.Errorf("recording events = %+v", evs)
	}
	wantR := map[string]any{"sid": r.SID, "status": "completed", "duration_ms": 4321.0, "error_code": 0.0,
		"source": store.SourceRecordVerb, "track": "both"}
	if diff := cmp.Diff(wantR, payloadOf(evs[1])); diff != "" {
		t.Errorf("recording payload (-want +got):\n%s", diff)
	}
	// An aborted update appends nothing.
	if _, err := st.UpdateRecording(ctx(t), acct.SID, r.SID, func(*store.Recording) error { return errors.New("no") }); err == nil {
		t.Fatal("aborted update succeeded")
	}
	if all := callEvents(t, st, acct.SID, call); len(all) != 3 {
		t.Errorf("%d events after an aborted update, want 3", len(all))
	}
}

// queue queues one callback, named by its URL, with an event of call (none
// if "").
func queue(t *testing.T, st store.Store, account, call, url string, next time.Time) {
	t.Helper()
	if _, err := st.AppendEvent(ctx(t), store.Event{AccountSID: account, CallSID: call, Type: store.EventWebhook, Name: "request"},
		[]store.Callback{{URL: url, Params: "u=" + url, MaxAttempts: 5, NextAttempt: next, DateCreated: t0}}); err != nil {
		t.Fatalf("queue %s: %v", url, err)
	}
}

func urls(cbs []store.Callback) []string {
	out := []string{}
	for _, cb := range cbs {
		out = append(out, cb.URL)
	}
	return out
}

func testOutbox(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	callA, callB := sid.New("CA"), sid.New("CA")
	queue(t, st, acct.SID, callA, "a1", time.Time{})
	queue(t, st, acct.SID, callA, "a2", time.Time{})
	queue(t, st, acct.SID, callB, "b1", t0.Add(time.Minute))
	queue(t, st, acct.SID, "", "n1", time.Time{})
	queue(t, st, acct.SID, "", "n2", t0)
	if n := pending(t, st); n != 5 {
		t.Fatalf("pending = %d, want 5", n)
	}
	claim := func(node string, now time.Time, want ...string) []store.Callback {
		t.Helper()
		cbs, err := st.ClaimCallbacks(ctx(t), node, now, 30*time.Second, 10)
		if err != nil {
			t.Fatalf("ClaimCallbacks(%s): %v", node, err)
		}
		if diff := cmp.Diff(append([]string{}, want...), urls(cbs)); diff != "" {
			t.Fatalf("ClaimCallbacks(%s, %v) (-want +got):\n%s", node, now.Sub(t0), diff)
		}
		return cbs
	}
	byURL := map[string]store.Callback{}
	keep := func(cbs []store.Callback) {
		for _, cb := range cbs {
			byURL[cb.URL] = cb
		}
	}

	// X gets the head of A's line and the callbacks of no call; b1 is not
	// due, a2 waits behind a1.
	keep(claim("X", t0, "a1", "n1", "n2"))
	a1 := byURL["a1"]
	if a1.AccountSID != acct.SID || a1.CallSID != callA || a1.Params != "u=a1" || a1.MaxAttempts != 5 ||
		a1.Attempts != 0 || !a1.NextAttempt.IsZero() || !a1.DateCreated.Equal(us(t0)) || a1.Method != "POST" {
		t.Errorf("claimed callback = %+v", a1)
	}
	if !byURL["n2"].NextAttempt.Equal(us(t0)) {
		t.Errorf("NextAttempt = %v, want %v", byURL["n2"].NextAttempt, us(t0))
	}
	claim("Y", t0) // all leased or not due
	// A heartbeat keeps X's leases past the minute.
	if err := st.ExtendLeases(ctx(t), "X", t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	keep(claim("Y", t0.Add(time.Minute), "b1"))
	if err := st.ExtendLeases(ctx(t), "Y", t0.Add(2*time.Minute+45*time.Second)); err != nil {
		t.Fatal(err)
	}

	if err := st.AckCallback(ctx(t), "X", byURL["n1"].ID); err != nil {
		t.Fatalf("ack: %v", err)
	}
	if err := st.AckCallback(ctx(t), "X", byURL["n1"].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ack twice: %v, want ErrNotFound", err)
	}
	if err := st.AckCallback(ctx(t), "Y", byURL["n2"].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ack of X's lease by Y: %v, want ErrNotFound", err)
	}
	if err := st.RetryCallback(ctx(t), "Y", a1.ID, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retry of X's lease by Y: %v, want ErrNotFound", err)
	}
	// A retried head still blocks its line until it is due again.
	if err := st.RetryCallback(ctx(t), "X", a1.ID, t0.Add(2*time.Minute)); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if err := st.AckCallback(ctx(t), "X", a1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ack after retry released the lease: %v, want ErrNotFound", err)
	}
	if n := pending(t, st); n != 4 {
		t.Errorf("pending = %d, want 4", n)
	}
	claim("X", t0.Add(time.Minute))
	again := claim("X", t0.Add(2*time.Minute), "a1")
	if again[0].Attempts != 1 || !again[0].NextAttempt.Equal(us(t0.Add(2*time.Minute))) {
		t.Errorf("retried callback = %+v", again[0])
	}
	if err := st.AckCallback(ctx(t), "X", a1.ID); err != nil {
		t.Fatal(err)
	}
	keep(claim("X", t0.Add(2*time.Minute), "a2"))

	// Leases expire: Y's on b1 (at 2m45s) and X's on a2 (at 2m30s); Z
	// takes both over, not n2, which X's heartbeat keeps until 5m.
	taken := claim("Z", t0.Add(3*time.Minute), "a2", "b1")
	if err := st.AckCallback(ctx(t), "Y", byURL["b1"].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ack by the node whose lease expired: %v, want ErrNotFound", err)
	}
	if err := st.RetryCallback(ctx(t), "X", byURL["a2"].ID, time.Time{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retry by the node whose lease expired: %v, want ErrNotFound", err)
	}
	for _, cb := range taken {
		if err := st.AckCallback(ctx(t), "Z", cb.ID); err != nil {
			t.Fatal(err)
		}
	}
	// A retry due at once (zero next) is claimable at once.
	if err := st.RetryCallback(ctx(t), "X", byURL["n2"].ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	n2 := claim("Y", t0.Add(3*time.Minute), "n2")
	if err := st.AckCallback(ctx(t), "Y", n2[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := pending(t, st); n != 0 {
		t.Errorf("pending = %d, want 0", n)
	}

	// limit takes the lowest IDs.
	for _, u := range []string{"l1", "l2", "l3"} {
		queue(t, st, acct.SID, "", u, time.Time{})
	}
	cbs, err := st.ClaimCallbacks(ctx(t), "X", t0, time.Second, 2)
	if err != nil || !slices.Equal(urls(cbs), []string{"l1", "l2"}) {
		t.Errorf("claim with limit 2 = %v, %v", urls(cbs), err)
	}

	for name, call := range map[string]func() error{
		"no node":     func() error { _, err := st.ClaimCallbacks(ctx(t), "", t0, time.Second, 1); return err },
		"no lease":    func() error { _, err := st.ClaimCallbacks(ctx(t), "X", t0, 0, 1); return err },
		"no limit":    func() error { _, err := st.ClaimCallbacks(ctx(t), "X", t0, time.Second, 0); return err },
		"ack no node": func() error { return st.AckCallback(ctx(t), "", 1) },
	} {
		if err := call(); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func testOutboxConcurrentClaims(t *testing.T, st store.Store) {
	OutboxRace(t, st)
}

// OutboxRace queues callbacks of several calls (and of none) through the
// first store, then has workers claim, deliver and ack them through the
// stores in turn, each under a node name of its own, and checks that each
// callback is held by one worker at a time and delivered once, and that a
// call's callbacks go one at a time, in order. Passing several stores that
// share one database tests nodes in separate processes.
func OutboxRace(t *testing.T, stores ...store.Store) {
	st := stores[0]
	acct := mainAccount(t, st)
	const calls, perCall, loose, workers = 5, 8, 10, 6
	callSIDs := make([]string, calls)
	for i := range callSIDs {
		callSIDs[i] = sid.New("CA")
	}
	// Interleave the calls' callbacks with each other and with loose ones.
	for j := range perCall {
		for i, call := range callSIDs {
			queue(t, st, acct.SID, call, fmt.Sprintf("%d/%d", i, j), time.Time{})
		}
		if j < loose {
			queue(t, st, acct.SID, "", fmt.Sprintf("loose/%d", j), time.Time{})
		}
	}
	for j := perCall; j < loose; j++ {
		queue(t, st, acct.SID, "", fmt.Sprintf("loose/%d", j), time.Time{})
	}
	total := calls*perCall + loose

	var (
		mu        sync.Mutex
		held      = map[int64]string{} // callback ID → node
		inFlight  = map[string]int64{} // call SID → callback ID
		delivered = map[int64]int{}
		order     = map[string][]string{} // call SID → URLs in delivery order
		done      int
	)
	deadline, cancel := context.WithTimeout(ctx(t), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for w := range workers {
		node := fmt.Sprintf("node-%d", w)
		s := stores[w%len(stores)]
		wg.Go(func() {
			for deadline.Err() == nil {
				cbs, err := s.ClaimCallbacks(deadline, node, t0, time.Hour, 3)
				if err != nil {
					t.Errorf("%s: claim: %v", node, err)
					return
				}
				mu.Lock()
				for _, cb := range cbs {
					if h, ok := held[cb.ID]; ok {
						t.Errorf("%s claimed %s, which %s holds", node, cb.URL, h)
					}
					if delivered[cb.ID] > 0 {
						t.Errorf("%s claimed %s, delivered already", node, cb.URL)
					}
					held[cb.ID] = node
					if cb.CallSID != "" {
						if id, ok := inFlight[cb.CallSID]; ok {
							t.Errorf("%s claimed %s while callback %d of the same call is in flight", node, cb.URL, id)
						}
						inFlight[cb.CallSID] = cb.ID
					}
				}
				finished := done == total
				mu.Unlock()
				if len(cbs) == 0 {
					if finished {
						return
					}
					time.Sleep(time.Millisecond)
					continue
				}
				for _, cb := range cbs {
					// Delivered: forget the lease before the ack frees
					// the call's next callback for others to claim.
					mu.Lock()
					delete(held, cb.ID)
					delete(inFlight, cb.CallSID)
					delivered[cb.ID]++
					order[cb.CallSID] = append(order[cb.CallSID], cb.URL)
					done++
					mu.Unlock()
					if err := s.AckCallback(deadline, node, cb.ID); err != nil {
						t.Errorf("%s: ack %s: %v", node, cb.URL, err)
					}
				}
			}
			t.Errorf("%s: gave up: %v", node, deadline.Err())
		})
	}
	wg.Wait()

	if done != total || len(delivered) != total {
		t.Errorf("%d deliveries of %d callbacks, want %d", done, len(delivered), total)
	}
	for i, call := range callSIDs {
		var want []string
		for j := range perCall {
			want = append(want, fmt.Sprintf("%d/%d", i, j))
		}
		if diff := cmp.Diff(want, order[call]); diff != "" {
			t.Errorf("call %d delivered out of order (-want +got):\n%s", i, diff)
		}
	}
	if len(order[""]) != loose {
		t.Errorf("%d loose callbacks delivered, want %d", len(order[""]), loose)
	}
	if n := pending(t, st); n != 0 {
		t.Errorf("pending = %d after all were acked", n)
	}
}

func testAppendEvents(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	call := sid.New("CA")
	var evs []store.Event
	for i := range 5 {
		evs = append(evs, store.Event{AccountSID: acct.SID, CallSID: call, ResourceSID: call, Type: store.EventWebhook,
			Name: "request", Time: t0.Add(time.Duration(i) * time.Second), Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	if err := st.AppendEvents(ctx(t), evs); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendEvents(ctx(t), nil); err != nil {
		t.Fatalf("no events: %v", err)
	}
	got, more, err := st.ListEvents(ctx(t), store.EventFilter{AccountSID: acct.SID, CallSID: call}, 0, 10)
	if err != nil || more || len(got) != 5 {
		t.Fatalf("ListEvents = %d events, more %v, %v", len(got), more, err)
	}
	for i, ev := range got {
		if string(ev.Payload) != fmt.Sprintf(`{"n":%d}`, i) || (i > 0 && ev.Seq <= got[i-1].Seq) {
			t.Errorf("event %d: seq %d payload %s", i, ev.Seq, ev.Payload)
		}
	}
	// One bad event writes none of the batch.
	bad := append([]store.Event{{AccountSID: acct.SID, CallSID: call, Type: store.EventWebhook, Payload: []byte(`{"n":9}`)}},
		store.Event{AccountSID: acct.SID, CallSID: call, Type: store.EventWebhook, Payload: []byte(`not json`)})
	if err := st.AppendEvents(ctx(t), bad); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a batch with a bad event: %v, want ErrInvalid", err)
	}
	if got, _, _ := st.ListEvents(ctx(t), store.EventFilter{AccountSID: acct.SID, CallSID: call}, 0, 10); len(got) != 5 {
		t.Fatalf("%d events after a refused batch, want 5", len(got))
	}
}

// testSaveCallRace: the first saves of one call, made at once, all succeed
// (whichever inserts the row, the others update it); the call is stored once,
// with each save's event.
func testSaveCallRace(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	c := newCall(acct.SID, "+15550001111", "+15550002222", store.CallRinging, t0)
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ci := c
			ci.CallerName = fmt.Sprint("saver ", i)
			ci.DateUpdated = t0.Add(time.Duration(i) * time.Millisecond)
			if _, err := st.SaveCall(ctx(t), ci, store.Event{}, nil); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("SaveCall: %v", err)
	}
	got, err := st.Call(ctx(t), acct.SID, c.SID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.DateCreated.Equal(us(t0)) || got.Status != store.CallRinging || !strings.HasPrefix(got.CallerName, "saver ") {
		t.Errorf("stored call = %+v", got)
	}
	if evs := callEvents(t, st, acct.SID, c.SID); len(evs) != n {
		t.Errorf("%d events, want one per save (%d)", len(evs), n)
	}
}
