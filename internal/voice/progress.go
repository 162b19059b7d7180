package voice

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// progressEvent maps the name of a call event to the StatusCallbackEvent
// that asks for its callback: initiated, ringing, answered, completed.
func progressEvent(name string) string {
	switch name {
	case "initiated", "ringing":
		return name
	case string(store.CallInProgress):
		return "answered"
	}
	if store.CallStatus(name).Final() {
		return "completed"
	}
	return ""
}

// save writes the call's record as it stands, with an event named name (the
// status reached, or "initiated") and the status callback the event asks for,
// in one transaction: the event is stored before its callback can leave.
func (r *run) save(ctx context.Context, name, cause string) error {
	if err := r.firstSaved(); err != nil {
		return err
	}
	ev, cbs := r.change(name, cause)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	c, err := r.in.cfg.Store.SaveCall(sctx, r.call, ev, cbs)
	if err != nil {
		return err
	}
	r.call = c
	if len(cbs) > 0 {
		r.kick()
	}
	return nil
}

// saveFirst is save for the call's first record, in the background: the
// call goes on (its webhook is fetched) while the store commits. Every later
// save waits for it first (firstSaved), and so does the answer: a call whose
// first record failed is refused, as when the save was waited for. A REST
// read of the call meanwhile waits for it too (Interpreter.WaitRecorded).
// Called before the run is published in the live calls.
func (r *run) saveFirst(ctx context.Context, name, cause string) {
	ev, cbs := r.change(name, cause)
	c := r.call
	p := &pendingSave{done: make(chan struct{})}
	r.firstRec = p
	go func() {
		defer close(p.done)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		_, p.err = r.in.cfg.Store.SaveCall(sctx, c, ev, cbs)
		if p.err == nil && len(cbs) > 0 {
			r.kick()
		}
	}()
}

// A pendingSave is a save running in the background: err is set before
// done is closed.
type pendingSave struct {
	done chan struct{}
	err  error
}

// firstSaved waits for the first record's save (saveFirst), if there was
// one, and returns its error.
func (r *run) firstSaved() error {
	if r.firstRec == nil {
		return nil
	}
	<-r.firstRec.done
	return r.firstRec.err
}

// change is the event and status callback a save of the call writes.
func (r *run) change(name, cause string) (store.Event, []store.Callback) {
	now := r.in.cfg.Clock.Now().UTC()
	payload, _ := json.Marshal(store.CallChange{
		Status: r.call.Status, Direction: r.call.Direction, From: r.call.From, To: r.call.To,
		ParentSID: r.call.ParentCallSID, Duration: r.call.Duration, SIPCode: r.sipCode,
		AnsweredBy: r.call.AnsweredBy, Cause: cause,
	})
	ev := store.Event{Type: store.EventCall, Name: name, Time: now, Payload: payload}
	var cbs []store.Callback
	if cb, ok := r.progressCallback(name, now); ok {
		cbs = append(cbs, cb)
	}
	return ev, cbs
}

func (r *run) kick() {
	if r.in.cfg.Kick != nil {
		r.in.cfg.Kick()
	}
}

// progressCallback builds the status callback of a call event, if the call
// asked for it: the call's parameters with CallStatus the event's status,
// CallbackSource, SequenceNumber (per callback URL, from 0) and Timestamp;
// the completed event adds CallDuration, the recording of the call and the
// final SIP response.
func (r *run) progressCallback(name string, now time.Time) (store.Callback, bool) {
	event := progressEvent(name)
	s := r.currentSettings()
	if event == "" || s.statusCallback == "" {
		return store.Callback{}, false
	}
	events := r.spec.StatusCallbackEvents
	if len(events) == 0 {
		events = []string{"completed"}
	}
	if !slices.Contains(events, event) {
		return store.Callback{}, false
	}
	p := r.params()
	se := webhook.StatusEvent{Final: event == "completed", CallDuration: time.Duration(r.call.Duration) * time.Second}
	if rec := r.recorded; rec != nil && se.Final {
		se.RecordingURL = r.recordingURL(rec.row)
		se.RecordingSID = rec.row.SID
		se.RecordingDuration = rec.row.Duration
	}
	se.SIPResponseCode = r.sipCode
	for k, vs := range se.Values() {
		if _, ok := p[k]; !ok || k == "CallDuration" {
			p[k] = vs
		}
	}
	p.Set("CallStatus", name)
	p.Set("CallbackSource", webhook.CallbackSourceCallProgress)
	p.Set("SequenceNumber", strconv.Itoa(r.seq[s.statusCallback]))
	r.seq[s.statusCallback]++
	p.Set("Timestamp", webhook.FormatTimestamp(now))
	method := s.statusCallbackMethod
	if method == "" {
		method = http.MethodPost
	}
	return store.Callback{
		AccountSID: r.account.SID, CallSID: r.sid, URL: s.statusCallback, Method: method,
		Params: p.Encode(), MaxAttempts: 1, DateCreated: now,
	}, true
}

// queueCallback stores a callback (a recording status callback) in the
// outbox with an event saying so.
func (r *run) queueCallback(ctx context.Context, resourceSID, name string, cb store.Callback) {
	now := r.in.cfg.Clock.Now().UTC()
	payload, _ := json.Marshal(map[string]string{"url": cb.URL, "method": cb.Method})
	cb.AccountSID, cb.CallSID, cb.DateCreated = r.account.SID, r.sid, now
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if _, err := r.in.cfg.Store.AppendEvent(sctx, store.Event{
		AccountSID: r.account.SID, CallSID: r.sid, ResourceSID: resourceSID,
		Type: store.EventCallback, Name: name, Time: now, Payload: payload,
	}, []store.Callback{cb}); err != nil {
		r.log.Error("cannot queue a callback", "url", cb.URL, "err", err)
		return
	}
	r.kick()
}
