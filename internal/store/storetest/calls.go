package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

func newCall(account, from, to string, status store.CallStatus, at time.Time) store.Call {
	return store.Call{
		SID: sid.New("CA"), AccountSID: account, From: from, To: to,
		Status: status, Direction: store.DirectionInbound, APIVersion: "2010-04-01",
		StartTime: at, DateCreated: at, DateUpdated: at,
	}
}

func testCallLifecycle(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	c, err := st.CreateCall(ctx(t), newCall(acct.SID, "+15550001111", "support", store.CallRinging, t0))
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Call(ctx(t), acct.SID, c.SID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Fatalf("read back (-created +read):\n%s", diff)
	}
	if !got.EndTime.IsZero() || !got.AnsweredAt.IsZero() {
		t.Fatalf("unset times came back set: %+v", got)
	}

	answered := t0.Add(2 * time.Second)
	c, err = st.UpdateCall(ctx(t), acct.SID, c.SID, func(c *store.Call) error {
		c.Status, c.AnsweredAt, c.StartTime = store.CallInProgress, answered, answered
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	end := answered.Add(10 * time.Second)
	c, err = st.UpdateCall(ctx(t), acct.SID, c.SID, func(c *store.Call) error {
		c.Status, c.EndTime, c.Duration = store.CallCompleted, end, 10
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = st.Call(ctx(t), acct.SID, c.SID)
	if got.Status != store.CallCompleted || got.Duration != 10 || !got.EndTime.Equal(end.Truncate(time.Microsecond)) {
		t.Fatalf("after completion: %+v", got)
	}

	// A final status is final.
	_, err = st.UpdateCall(ctx(t), acct.SID, c.SID, func(c *store.Call) error { c.Status = store.CallInProgress; return nil })
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("reopening a completed call: %v, want ErrInvalid", err)
	}
	// Another account cannot see it.
	other := subAccount(t, st, acct.SID, "other", t0)
	if _, err := st.Call(ctx(t), other.SID, c.SID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("call read by another account: %v", err)
	}
	if _, err := st.CreateCall(ctx(t), newCall("AC"+"0123456789abcdef0123456789abcdef", "a", "b", store.CallRinging, t0)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("call for a missing account: %v, want ErrNotFound", err)
	}
	if _, err := st.CreateCall(ctx(t), newCall(acct.SID, "a", "b", "sideways", t0)); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("invalid status: %v, want ErrInvalid", err)
	}
}

func testCallFilters(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	var sids []string
	for i, spec := range []struct {
		from, to string
		status   store.CallStatus
	}{
		{"+15550000001", "support", store.CallCompleted},
		{"+15550000002", "support", store.CallBusy},
		{"+15550000001", "sales", store.CallCompleted},
		{"+15550000003", "sales", store.CallInProgress},
	} {
		c, err := st.CreateCall(ctx(t), newCall(acct.SID, spec.from, spec.to, spec.status, t0.Add(time.Duration(i)*time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, c.SID)
	}
	for _, tt := range []struct {
		name string
		f    store.CallFilter
		want []string
	}{
		{"all", store.CallFilter{AccountSID: acct.SID}, sids},
		{"to", store.CallFilter{AccountSID: acct.SID, To: "sales"}, sids[2:]},
		{"from", store.CallFilter{AccountSID: acct.SID, From: "+15550000001"}, []string{sids[0], sids[2]}},
		{"status", store.CallFilter{AccountSID: acct.SID, Status: store.CallCompleted}, []string{sids[0], sids[2]}},
		{"started after", store.CallFilter{AccountSID: acct.SID, StartedAfter: t0.Add(90 * time.Minute)}, sids[2:]},
		{"started before", store.CallFilter{AccountSID: acct.SID, StartedBefore: t0.Add(90 * time.Minute)}, sids[:2]},
		{"other account", store.CallFilter{AccountSID: "AC00000000000000000000000000000000"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := st.ListCalls(ctx(t), tt.f, store.Page{Size: 50})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range got {
				ids = append(ids, c.SID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" || more {
				t.Fatalf("more=%v (-want +got):\n%s", more, diff)
			}
		})
	}
}

func testCallFinalizeOpen(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	ringing, _ := st.CreateCall(ctx(t), newCall(acct.SID, "a", "b", store.CallRinging, t0))
	live := newCall(acct.SID, "a", "b", store.CallInProgress, t0)
	live.AnsweredAt = t0.Add(time.Second)
	live.DateUpdated = t0.Add(31 * time.Second)
	live, err := st.CreateCall(ctx(t), live)
	if err != nil {
		t.Fatal(err)
	}
	done, _ := st.CreateCall(ctx(t), newCall(acct.SID, "a", "b", store.CallBusy, t0))
	// Another node's live calls, one recorded with CreateCall, one with
	// SaveCall: a node finalizing its own leaves them alone.
	other := newCall(acct.SID, "a", "b", store.CallRinging, t0)
	other.Node = "node-b"
	if _, err := st.CreateCall(ctx(t), other); err != nil {
		t.Fatal(err)
	}
	saved := newCall(acct.SID, "a", "b", store.CallQueued, t0)
	saved.Node = "node-b"
	if _, err := st.SaveCall(ctx(t), saved, store.Event{Name: "queued"}, nil); err != nil {
		t.Fatal(err)
	}
	saved.Status, saved.Node = store.CallRinging, "node-c" // the node never changes
	if got, err := st.SaveCall(ctx(t), saved, store.Event{Name: "ringing"}, nil); err != nil || got.Node != "node-b" {
		t.Fatalf("SaveCall changed the node: %q %v", got.Node, err)
	}

	n, err := st.FinalizeOpenCalls(ctx(t), "")
	if err != nil || n != 4 {
		t.Fatalf("FinalizeOpenCalls of every node = %d, %v; want 4", n, err)
	}
	for _, sid := range []string{other.SID, saved.SID} {
		if got, _ := st.Call(ctx(t), acct.SID, sid); got.Status != store.CallFailed || got.Node != "node-b" {
			t.Fatalf("another node's open call: %+v", got)
		}
	}
	got, _ := st.Call(ctx(t), acct.SID, ringing.SID)
	if got.Status != store.CallFailed || got.EndTime.IsZero() || got.Duration != 0 {
		t.Fatalf("unanswered open call: %+v, want failed with an end time", got)
	}
	got, _ = st.Call(ctx(t), acct.SID, live.SID)
	if got.Status != store.CallCompleted || !got.EndTime.Equal(live.DateUpdated) || got.Duration != 30 {
		t.Fatalf("answered open call: %+v, want completed at its last update, 30 s", got)
	}
	got, _ = st.Call(ctx(t), acct.SID, done.SID)
	if got.Status != store.CallBusy {
		t.Fatalf("a finished call was changed: %+v", got)
	}
	if n, _ := st.FinalizeOpenCalls(ctx(t), ""); n != 0 {
		t.Fatalf("second FinalizeOpenCalls closed %d", n)
	}
}

func testCallFinalizeOwnNode(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	mine := newCall(acct.SID, "a", "b", store.CallInProgress, t0)
	mine.Node, mine.AnsweredAt = "node-a", t0
	theirs := newCall(acct.SID, "a", "b", store.CallInProgress, t0)
	theirs.Node, theirs.AnsweredAt = "node-b", t0
	for _, c := range []store.Call{mine, theirs} {
		if _, err := st.SaveCall(ctx(t), c, store.Event{Name: "in-progress"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.FinalizeOpenCalls(ctx(t), "node-a"); err != nil || n != 1 {
		t.Fatalf("FinalizeOpenCalls(node-a) = %d, %v; want 1", n, err)
	}
	if got, _ := st.Call(ctx(t), acct.SID, mine.SID); got.Status != store.CallCompleted {
		t.Errorf("own call: %s", got.Status)
	}
	if got, _ := st.Call(ctx(t), acct.SID, theirs.SID); got.Status != store.CallInProgress {
		t.Errorf("another node's live call was finalized: %s", got.Status)
	}
}

func testNotifications(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	other := subAccount(t, st, acct.SID, "other", t0)
	mk := func(account, call string, code, level int, at time.Time) store.Notification {
		n, err := st.CreateNotification(ctx(t), store.Notification{
			SID: sid.New("NO"), AccountSID: account, CallSID: call, ErrorCode: code, Log: level,
			MessageText: "boom", MessageDate: at, RequestURL: "http://app.example/voice", RequestMethod: "POST",
			RequestVariables: "CallSid=" + call, ResponseBody: "<html/>",
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	a := mk(acct.SID, "CA1", 11200, 0, t0)
	b := mk(acct.SID, "CA2", 12100, 0, t0.Add(time.Minute))
	c := mk(acct.SID, "CA1", 13520, 1, t0.Add(2*time.Minute))
	mk(other.SID, "CA9", 11205, 0, t0)

	got, err := st.Notification(ctx(t), acct.SID, a.SID)
	if err != nil {
		t.Fatal(err)
	}
	if got.MoreInfo != "https://www.twilio.com/docs/errors/11200" || got.APIVersion != "2010-04-01" || got.ResponseBody != "<html/>" {
		t.Fatalf("stored notification: %+v", got)
	}
	if _, err := st.Notification(ctx(t), other.SID, a.SID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("notification read by another account: %v", err)
	}
	warning := 1
	for _, tt := range []struct {
		name string
		f    store.NotificationFilter
		want []string
	}{
		{"account", store.NotificationFilter{AccountSID: acct.SID}, []string{a.SID, b.SID, c.SID}},
		{"call", store.NotificationFilter{AccountSID: acct.SID, CallSID: "CA1"}, []string{a.SID, c.SID}},
		{"log", store.NotificationFilter{AccountSID: acct.SID, Log: &warning}, []string{c.SID}},
		{"after", store.NotificationFilter{AccountSID: acct.SID, After: t0.Add(30 * time.Second)}, []string{b.SID, c.SID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ns, _, err := st.ListNotifications(ctx(t), tt.f, store.Page{Size: 10})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, n := range ns {
				ids = append(ids, n.SID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

// callSIDs returns the SIDs of cs in order.
func callSIDs(cs []store.Call) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.SID)
	}
	return out
}

// testCallPagingNewestFirst pages calls in descending order (Page.Desc):
// forwards to older rows by After cursors, backwards to newer ones by Before
// cursors, and by offset, with ties on date_created broken by the SID.
func testCallPagingNewestFirst(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	var created []store.Call
	for i := range 23 {
		// Pairs of calls share a creation time, so the SID breaks ties.
		c, err := st.CreateCall(ctx(t), newCall(acct.SID, "a", "b", store.CallCompleted, t0.Add(time.Duration(i/2)*time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, c)
	}
	// The expected order: (date_created, sid) descending.
	want := slices.Clone(created)
	slices.SortFunc(want, func(a, b store.Call) int {
		if c := b.DateCreated.Compare(a.DateCreated); c != 0 {
			return c
		}
		return strings.Compare(b.SID, a.SID)
	})
	wantSIDs := callSIDs(want)
	f := store.CallFilter{AccountSID: acct.SID}

	// Forwards, page after page.
	var got []string
	var pages [][]store.Call
	p := store.Page{Size: 10, Desc: true}
	for range 10 {
		cs, more, err := st.ListCalls(ctx(t), f, p)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, cs)
		got = append(got, callSIDs(cs)...)
		if !more {
			break
		}
		last := cs[len(cs)-1]
		p = store.Page{Size: 10, Desc: true, After: &store.Cursor{DateCreated: last.DateCreated, SID: last.SID}}
	}
	if diff := cmp.Diff(wantSIDs, got); diff != "" || len(pages) != 3 {
		t.Fatalf("newest first in %d pages (-want +got):\n%s", len(pages), diff)
	}
	// Backwards from the first row of the last page: the middle page, in
	// the list's order, with more (newer) rows before it.
	first := pages[2][0]
	back, more, err := st.ListCalls(ctx(t), f, store.Page{Size: 10, Desc: true, Before: &store.Cursor{DateCreated: first.DateCreated, SID: first.SID}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantSIDs[10:20], callSIDs(back)); diff != "" || !more {
		t.Errorf("page before the last (more=%v) (-want +got):\n%s", more, diff)
	}
	head, more, err := st.ListCalls(ctx(t), f, store.Page{Size: 10, Desc: true, Before: &store.Cursor{DateCreated: back[0].DateCreated, SID: back[0].SID}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantSIDs[:10], callSIDs(head)); diff != "" || more {
		t.Errorf("first page going backwards (more=%v) (-want +got):\n%s", more, diff)
	}
	// By offset.
	tail, more, err := st.ListCalls(ctx(t), f, store.Page{Size: 10, Desc: true, Offset: 20})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantSIDs[20:], callSIDs(tail)); diff != "" || more {
		t.Errorf("offset 20 (more=%v) (-want +got):\n%s", more, diff)
	}
	// A newer call does not shift a page read by cursor.
	if _, err := st.CreateCall(ctx(t), newCall(acct.SID, "a", "b", store.CallRinging, t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	last := pages[0][len(pages[0])-1]
	again, _, err := st.ListCalls(ctx(t), f, store.Page{Size: 10, Desc: true, After: &store.Cursor{DateCreated: last.DateCreated, SID: last.SID}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(callSIDs(pages[1]), callSIDs(again)); diff != "" {
		t.Errorf("second page after a newer call arrived (-want +got):\n%s", diff)
	}

	// Notifications page the same way.
	var nsids []string
	for i := range 5 {
		n, err := st.CreateNotification(ctx(t), store.Notification{
			SID: sid.New("NO"), AccountSID: acct.SID, CallSID: created[0].SID, ErrorCode: 11200,
			MessageDate: t0.Add(time.Duration(i) * time.Minute),
		})
		if err != nil {
			t.Fatal(err)
		}
		nsids = append([]string{n.SID}, nsids...)
	}
	ns, more, err := st.ListNotifications(ctx(t), store.NotificationFilter{AccountSID: acct.SID}, store.Page{Size: 3, Desc: true})
	if err != nil {
		t.Fatal(err)
	}
	var gotN []string
	for _, n := range ns {
		gotN = append(gotN, n.SID)
	}
	if diff := cmp.Diff(nsids[:3], gotN); diff != "" || !more {
		t.Errorf("notifications newest first (more=%v) (-want +got):\n%s", more, diff)
	}
}
