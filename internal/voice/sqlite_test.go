package voice

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// TestWithSQLiteStore runs calls against the real store (SQLite): the rows,
// notifications, recordings and the outbox the interpreter writes are what
// the REST API and the callback deliverer read.
func TestWithSQLiteStore(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := newHarness(t, func(c *Config) { c.Store = db })
	acct, err := db.CreateAccount(ctx, store.Account{SID: h.acct.SID, OwnerAccountSID: h.acct.SID, AuthToken: "secret", Status: store.StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	h.acct = acct

	// An outbound call with every progress event, a <Record> and an
	// unsupported verb.
	h.app.twiml("/voice", `<Response><Connect><Stream url="wss://example.com/s"/></Connect><Record action="/r" playBeep="false" maxLength="1" recordingStatusCallback="/rs"/></Response>`)
	h.app.twiml("/r", `<Response><Hangup/></Response>`)
	call := h.place(Call{
		URL: "/voice", StatusCallback: "/status",
		StatusCallbackEvents: []string{"initiated", "ringing", "answered", "completed"},
	})
	leg := h.outboundLeg(0)
	waitFor(t, "the recorder's tap", func() bool { return leg.m.tapCount() == 1 })
	h.waitTimers(3)
	leg.m.say(talk(50))
	leg.m.tickN(50)
	h.waitEnded(call.SID)

	row, err := db.Call(ctx, acct.SID, call.SID)
	if err != nil {
		t.Fatal(err)
	}
	if row.Status != store.CallCompleted || row.Duration != 1 || row.Direction != store.DirectionOutboundAPI || row.AnsweredAt.IsZero() {
		t.Errorf("stored call %+v", row)
	}
	notes, _, err := db.ListNotifications(ctx, store.NotificationFilter{AccountSID: acct.SID, CallSID: call.SID}, store.Page{Size: 10})
	if err != nil || len(notes) != 1 || notes[0].ErrorCode != 12200 {
		t.Errorf("notifications %+v %v", notes, err)
	}
	recs, _, err := db.ListRecordings(ctx, store.RecordingFilter{AccountSID: acct.SID, CallSID: call.SID}, store.Page{Size: 10})
	if err != nil || len(recs) != 1 || recs[0].Status != store.RecordingCompleted || recs[0].Duration != time.Second {
		t.Errorf("recordings %+v %v", recs, err)
	}

	// The outbox delivers a call's callbacks one at a time, in order.
	var got []string
	for range 10 {
		cbs, err := db.ClaimCallbacks(ctx, "node", time.Now(), time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(cbs) == 0 {
			break
		}
		if len(cbs) != 1 {
			t.Fatalf("%d callbacks of one call claimed at once", len(cbs))
		}
		cb := cbs[0]
		p, _ := url.ParseQuery(cb.Params)
		if cb.CallSID != call.SID || cb.AccountSID != acct.SID {
			t.Errorf("callback %+v", cb)
		}
		switch cb.URL {
		case h.url("/status"):
			got = append(got, p.Get("CallStatus")+"#"+p.Get("SequenceNumber"))
		case h.url("/rs"):
			got = append(got, "recording-"+p.Get("RecordingStatus"))
		default:
			t.Errorf("callback to %s", cb.URL)
		}
		if err := db.AckCallback(ctx, "node", cb.ID); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"initiated#0", "ringing#1", "in-progress#2", "recording-completed", "completed#3"}
	if !slices.Equal(got, want) {
		t.Errorf("callbacks delivered %v, want %v", got, want)
	}
}
