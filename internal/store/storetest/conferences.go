package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// newConference is a room named name of account, created (init) at at.
func newConference(account, name string, at time.Time) store.Conference {
	return store.Conference{
		SID: sid.New(sid.Conference), AccountSID: account, FriendlyName: name,
		Status: store.ConferenceInit, APIVersion: "2010-04-01", Region: "us1", MaxParticipants: 250,
		Node: "node-a", DateCreated: at, DateUpdated: at,
	}
}

// newParticipant is a new call's participant, connected since at (its
// conference is the one it is saved with).
func newParticipant(from, to, direction string, at time.Time) store.Participant {
	return store.Participant{
		SID: sid.New("CP"), CallSID: sid.New(sid.Call), From: from, To: to, Direction: direction,
		CallStatus: store.CallInProgress, Status: store.ParticipantConnected,
		StartConferenceOnEnter: true, BeepOnEnter: true, BeepOnExit: true, JitterBufferSize: "large",
		JoinTime: at, DateCreated: at, DateUpdated: at,
	}
}

// leave makes p leave at at, as a hang-up does.
func leave(p store.Participant, at time.Time) store.Participant {
	p.Status, p.CallStatus, p.ReasonParticipantLeft = store.ParticipantComplete, store.CallCompleted, store.ParticipantLeftHungUp
	p.LeaveTime, p.DateUpdated = at, at
	return p
}

func saveConference(t *testing.T, st store.Store, c store.Conference, parts []store.Participant, evs ...store.Event) store.Conference {
	t.Helper()
	got, err := st.SaveConference(ctx(t), c, parts, evs, nil)
	if err != nil {
		t.Fatalf("SaveConference(%s): %v", c.FriendlyName, err)
	}
	return got
}

func conferenceEvents(t *testing.T, st store.Store, account, conference string) []store.Event {
	t.Helper()
	evs, more, err := st.ListEvents(ctx(t), store.EventFilter{AccountSID: account, ConferenceSID: conference}, 0, 1000)
	if err != nil || more {
		t.Fatalf("ListEvents(conference %s): more=%v, %v", conference, more, err)
	}
	return evs
}

func participantSIDs(ps []store.Participant) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.SID)
	}
	return out
}

func conferenceSIDs(cs []store.Conference) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.SID)
	}
	return out
}

func testConferenceRoundTrip(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	other := subAccount(t, st, acct.SID, "other", t0)

	c := newConference(acct.SID, "Room 1234", t0)
	c.Tags = []string{"no_concurrent_participants"}
	c.Settings = store.ConferenceSettings{
		StatusCallback: "https://example.com/conf", StatusCallbackMethod: "POST",
		StatusCallbackEvents: []string{"start", "end", "join", "leave"},
		Record:               "record-from-start", Trim: "trim-silence",
		RecordingStatusCallback: "https://example.com/rec", RecordingStatusCallbackMethod: "GET",
		RecordingStatusCallbackEvents: []string{"completed"},
	}
	p := newParticipant("+15550001111", "support", store.DirectionInbound, t0)
	p.Label, p.Muted, p.EndConferenceOnExit = "customer", true, true
	p.Node = "node-b"
	got := saveConference(t, st, c, []store.Participant{p})
	want := c
	want.DateCreated, want.DateUpdated = us(t0), us(t0)
	want.UniqueParticipants, want.MaxConcurrentParticipants = 1, 1
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("SaveConference(new) (-want +got):\n%s", diff)
	}
	read, err := st.Conference(ctx(t), acct.SID, c.SID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, read); diff != "" {
		t.Fatalf("Conference read back (-saved +read):\n%s", diff)
	}
	wantP := p
	wantP.ConferenceSID, wantP.AccountSID = c.SID, acct.SID
	wantP.JoinTime, wantP.DateCreated, wantP.DateUpdated = us(t0), us(t0), us(t0)
	readP, err := st.ParticipantBySID(ctx(t), acct.SID, p.SID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantP, readP); diff != "" {
		t.Fatalf("ParticipantBySID (-want +got):\n%s", diff)
	}
	if !readP.IsModerator() || !readP.Current() {
		t.Errorf("IsModerator, Current = %v, %v; want true, true", readP.IsModerator(), readP.Current())
	}

	// Saved again: DateCreated, FriendlyName and Node are kept, the rest
	// replaced; a participant without a node takes the conference's.
	c2 := got
	c2.Status, c2.StartTime, c2.DateUpdated = store.ConferenceInProgress, t0.Add(time.Second), t0.Add(time.Second)
	c2.FriendlyName, c2.Node, c2.DateCreated = "renamed", "node-z", t0.Add(time.Hour)
	c2.Tags, c2.Region = nil, "ie1"
	p2 := newParticipant("+15550002222", "support", store.DirectionInbound, t0.Add(time.Second))
	p2.DateCreated, p2.DateUpdated = time.Time{}, time.Time{} // c2's DateUpdated
	readP.Muted, readP.DateCreated, readP.Node = false, t0.Add(time.Hour), "node-z"
	got2 := saveConference(t, st, c2, []store.Participant{readP, p2})
	if got2.FriendlyName != "Room 1234" || got2.Node != "node-a" || !got2.DateCreated.Equal(us(t0)) ||
		got2.Status != store.ConferenceInProgress || got2.Region != "ie1" || got2.Tags != nil ||
		!got2.StartTime.Equal(us(t0.Add(time.Second))) || got2.UniqueParticipants != 2 || got2.MaxConcurrentParticipants != 2 {
		t.Errorf("conference after a second save = %+v", got2)
	}
	if read, _ := st.Conference(ctx(t), acct.SID, c.SID); !cmp.Equal(got2, read) {
		t.Errorf("read back after the second save (-saved +read):\n%s", cmp.Diff(got2, read))
	}
	if r, _ := st.ParticipantBySID(ctx(t), acct.SID, p.SID); r.Muted || !r.DateCreated.Equal(us(t0)) || r.Node != "node-b" ||
		!r.DateUpdated.Equal(us(t0)) {
		t.Errorf("participant after the second save = %+v", r)
	}
	if r, _ := st.ParticipantBySID(ctx(t), acct.SID, p2.SID); r.Node != "node-a" ||
		!r.DateCreated.Equal(us(t0.Add(time.Second))) || !r.DateUpdated.Equal(us(t0.Add(time.Second))) {
		t.Errorf("new participant without node or dates = %+v", r)
	}

	// Another account sees none of it, and cannot take the SIDs.
	if _, err := st.Conference(ctx(t), other.SID, c.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Conference through another account: %v, want ErrNotFound", err)
	}
	if _, err := st.ParticipantBySID(ctx(t), other.SID, p.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ParticipantBySID through another account: %v, want ErrNotFound", err)
	}
	if _, err := st.Participant(ctx(t), other.SID, c.SID, p.CallSID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Participant through another account: %v, want ErrNotFound", err)
	}
	stolen := got2
	stolen.AccountSID = other.SID
	if _, err := st.SaveConference(ctx(t), stolen, nil, nil, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("SaveConference of another account's SID: %v, want ErrConflict", err)
	}
	// A participant SID cannot move to another room or call.
	room2 := saveConference(t, st, newConference(acct.SID, "Room 2", t0), nil)
	moved := p2
	moved.ConferenceSID = ""
	if _, err := st.SaveConference(ctx(t), room2, []store.Participant{moved}, nil, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("participant SID saved in another room: %v, want ErrConflict", err)
	}
	recalled := p2
	recalled.CallSID = sid.New(sid.Call)
	if _, err := st.SaveConference(ctx(t), got2, []store.Participant{recalled}, nil, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("participant SID saved for another call: %v, want ErrConflict", err)
	}

	// Bad input.
	for name, tt := range map[string]struct {
		c     store.Conference
		parts []store.Participant
	}{
		"no SID":                   {store.Conference{AccountSID: acct.SID, FriendlyName: "x", Status: store.ConferenceInit}, nil},
		"no name":                  {store.Conference{SID: sid.New(sid.Conference), AccountSID: acct.SID, Status: store.ConferenceInit}, nil},
		"bad status":               {store.Conference{SID: sid.New(sid.Conference), AccountSID: acct.SID, FriendlyName: "x", Status: "open"}, nil},
		"participant without call": {newConference(acct.SID, "x", t0), []store.Participant{{SID: sid.New("CP"), Status: store.ParticipantConnected}}},
		"participant bad status":   {newConference(acct.SID, "x", t0), []store.Participant{{SID: sid.New("CP"), CallSID: sid.New("CA"), Status: "in"}}},
		"participant of another room": {newConference(acct.SID, "x", t0), []store.Participant{{SID: sid.New("CP"), CallSID: sid.New("CA"),
			ConferenceSID: sid.New(sid.Conference), Status: store.ParticipantConnected}}},
	} {
		if _, err := st.SaveConference(ctx(t), tt.c, tt.parts, nil, nil); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := st.LiveConference(ctx(t), acct.SID, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused save left a room: %v", err)
	}
}

func testConferenceSaveAtomic(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	check := func(t *testing.T, conference string, wantEvents, wantPending int) {
		t.Helper()
		if n := len(conferenceEvents(t, st, acct.SID, conference)); n != wantEvents {
			t.Errorf("%d events, want %d", n, wantEvents)
		}
		if n := pending(t, st); n != wantPending {
			t.Errorf("%d pending callbacks, want %d", n, wantPending)
		}
	}
	cb := []store.Callback{{URL: "https://example.com/conf", Params: "StatusCallbackEvent=participant-join"}}

	// A new room whose callback is malformed: nothing at all is written.
	c := newConference(acct.SID, "atomic", t0)
	p := newParticipant("+15550001111", "support", store.DirectionInbound, t0)
	evs := []store.Event{{Name: "conference-create"}, {Type: store.EventParticipant, Name: store.ParticipantEventJoin}}
	if _, err := st.SaveConference(ctx(t), c, []store.Participant{p}, evs, []store.Callback{cb[0], {}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("save with a callback without URL: %v, want ErrInvalid", err)
	}
	if _, err := st.Conference(ctx(t), acct.SID, c.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("conference written by a failed save: %v", err)
	}
	if _, err := st.ParticipantBySID(ctx(t), acct.SID, p.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("participant written by a failed save: %v", err)
	}
	check(t, c.SID, 0, 0)

	// The same, well formed.
	if _, err := st.SaveConference(ctx(t), c, []store.Participant{p}, evs, cb); err != nil {
		t.Fatal(err)
	}
	check(t, c.SID, 2, 1)

	// A failure in the second participant undoes the first and the room.
	c.Status, c.DateUpdated = store.ConferenceInProgress, t0.Add(time.Second)
	p1 := p
	p1.Muted, p1.DateUpdated = true, t0.Add(time.Second)
	dup := newParticipant("+15550002222", "support", store.DirectionInbound, t0.Add(time.Second))
	dup.CallSID = p.CallSID // the call is already in the room
	_, err := st.SaveConference(ctx(t), c, []store.Participant{p1, dup},
		[]store.Event{{Name: store.ConferenceEventStart}}, cb)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a call joining a room twice: %v, want ErrConflict", err)
	}
	if r, _ := st.Conference(ctx(t), acct.SID, c.SID); r.Status != store.ConferenceInit || !r.DateUpdated.Equal(us(t0)) {
		t.Errorf("room after a failed save = %+v", r)
	}
	if r, _ := st.ParticipantBySID(ctx(t), acct.SID, p.SID); r.Muted {
		t.Errorf("participant changed by a failed save: %+v", r)
	}
	check(t, c.SID, 2, 1)

	// A participant event without ResourceSID needs exactly one participant.
	p2 := newParticipant("+15550003333", "support", store.DirectionInbound, t0.Add(time.Second))
	_, err = st.SaveConference(ctx(t), c, []store.Participant{p1, p2},
		[]store.Event{{Type: store.EventParticipant, Name: store.ParticipantEventJoin}}, nil)
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("ambiguous participant event: %v, want ErrInvalid", err)
	}
	if _, err := st.ParticipantBySID(ctx(t), acct.SID, p2.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("participant written by a failed save: %v", err)
	}
	// A payload that is not JSON.
	_, err = st.SaveConference(ctx(t), c, []store.Participant{p2},
		[]store.Event{{Type: store.EventParticipant, Payload: []byte("{")}}, nil)
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad payload: %v, want ErrInvalid", err)
	}
	check(t, c.SID, 2, 1)

	// An unknown account.
	ghost := newConference("AC0123456789abcdef0123456789abcdef", "ghost", t0)
	if _, err := st.SaveConference(ctx(t), ghost, nil, []store.Event{{}}, cb); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("conference of a missing account: %v, want ErrNotFound", err)
	}
	check(t, c.SID, 2, 1)
}

func testConferenceCompletedIsFinal(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	c := newConference(acct.SID, "final", t0)
	a := newParticipant("+15550001111", "support", store.DirectionInbound, t0)
	b := newParticipant("+15550002222", "support", store.DirectionInbound, t0.Add(time.Second))
	c.Status, c.StartTime = store.ConferenceInProgress, t0.Add(time.Second)
	c = saveConference(t, st, c, []store.Participant{a, b})

	// Ending the room while a participant is still in it is refused.
	end := c
	end.Status, end.EndTime, end.DateUpdated = store.ConferenceCompleted, t0.Add(time.Minute), t0.Add(time.Minute)
	end.ReasonConferenceEnded, end.CallSIDEndingConference = store.ConferenceEndedLastLeft, b.CallSID
	if _, err := st.SaveConference(ctx(t), end, []store.Participant{leave(a, t0.Add(time.Minute))}, nil, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("completing a room with a participant in it: %v, want ErrConflict", err)
	}
	if r, _ := st.ParticipantBySID(ctx(t), acct.SID, a.SID); r.Status != store.ParticipantConnected {
		t.Errorf("participant closed by a refused save: %+v", r)
	}
	// With every participant leaving in the same save, it ends.
	got, err := st.SaveConference(ctx(t), end,
		[]store.Participant{leave(a, t0.Add(time.Minute)), leave(b, t0.Add(time.Minute))}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.ConferenceCompleted || got.ReasonConferenceEnded != store.ConferenceEndedLastLeft ||
		got.CallSIDEndingConference != b.CallSID || !got.EndTime.Equal(us(t0.Add(time.Minute))) || got.MaxConcurrentParticipants != 2 {
		t.Errorf("completed room = %+v", got)
	}

	// Completed is final; saving it again completed is allowed.
	again := got
	again.Reason, again.DateUpdated = "last participant hung up", t0.Add(2*time.Minute)
	if _, err := st.SaveConference(ctx(t), again, nil, []store.Event{{Name: "summary"}}, nil); err != nil {
		t.Fatalf("saving a completed room again: %v", err)
	}
	reopen := again
	reopen.Status = store.ConferenceInProgress
	n := len(conferenceEvents(t, st, acct.SID, c.SID))
	if _, err := st.SaveConference(ctx(t), reopen, nil, []store.Event{{}}, []store.Callback{{URL: "https://example.com/x"}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reopening a completed room: %v, want ErrConflict", err)
	}
	// No one joins a completed room.
	late := newParticipant("+15550003333", "support", store.DirectionInbound, t0.Add(3*time.Minute))
	if _, err := st.SaveConference(ctx(t), again, []store.Participant{late}, nil, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("joining a completed room: %v, want ErrConflict", err)
	}
	if r, _ := st.Conference(ctx(t), acct.SID, c.SID); r.Status != store.ConferenceCompleted || r.Reason != "last participant hung up" {
		t.Errorf("room after refused saves = %+v", r)
	}
	if got := len(conferenceEvents(t, st, acct.SID, c.SID)); got != n {
		t.Errorf("refused saves wrote events: %d, want %d", got, n)
	}
	if p := pending(t, st); p != 0 {
		t.Errorf("refused saves queued %d callbacks", p)
	}

	// A participant's final status is final too, but may be saved again.
	room := saveConference(t, st, newConference(acct.SID, "final 2", t0), nil)
	p := newParticipant("a", "b", store.DirectionOutbound, t0)
	p.Status, p.CallStatus, p.JoinTime = store.ParticipantFailed, store.CallNoAnswer, time.Time{}
	p.ReasonParticipantLeft = store.ParticipantLeftAddFailed
	room = saveConference(t, st, room, []store.Participant{p})
	saveConference(t, st, room, []store.Participant{p})
	p.Status = store.ParticipantConnected
	if _, err := st.SaveConference(ctx(t), room, []store.Participant{p}, nil, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reviving a failed participant: %v, want ErrConflict", err)
	}
	p.Status = store.ParticipantComplete
	if _, err := st.SaveConference(ctx(t), room, []store.Participant{p}, nil, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("failed participant made complete: %v, want ErrConflict", err)
	}
}

func testConferenceLiveName(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	other := subAccount(t, st, acct.SID, "other", t0)
	if _, err := st.LiveConference(ctx(t), acct.SID, "Room"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LiveConference on an empty store: %v, want ErrNotFound", err)
	}
	first := saveConference(t, st, newConference(acct.SID, "Room", t0), nil)
	if got, err := st.LiveConference(ctx(t), acct.SID, "Room"); err != nil || got.SID != first.SID {
		t.Fatalf("LiveConference = %v, %v; want %s", got.SID, err, first.SID)
	}
	// A second live room of the same name in the account conflicts, and
	// writes nothing; another account's room of that name is another room.
	if _, err := st.SaveConference(ctx(t), newConference(acct.SID, "Room", t0), nil, []store.Event{{}}, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second live room of a name: %v, want ErrConflict", err)
	}
	theirs := saveConference(t, st, newConference(other.SID, "Room", t0), nil)
	if got, err := st.LiveConference(ctx(t), other.SID, "Room"); err != nil || got.SID != theirs.SID {
		t.Fatalf("other account's LiveConference = %v, %v", got.SID, err)
	}
	// Names match exactly.
	if _, err := st.LiveConference(ctx(t), acct.SID, "room"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LiveConference(room): %v, want ErrNotFound", err)
	}
	// Once completed, the name is free for a new room with a new SID.
	first.Status, first.EndTime, first.DateUpdated = store.ConferenceCompleted, t0.Add(time.Minute), t0.Add(time.Minute)
	saveConference(t, st, first, nil)
	if _, err := st.LiveConference(ctx(t), acct.SID, "Room"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LiveConference after completion: %v, want ErrNotFound", err)
	}
	second := saveConference(t, st, newConference(acct.SID, "Room", t0.Add(time.Hour)), nil)
	if got, err := st.LiveConference(ctx(t), acct.SID, "Room"); err != nil || got.SID != second.SID || got.SID == first.SID {
		t.Fatalf("LiveConference after reuse = %v, %v; want %s", got.SID, err, second.SID)
	}
	all, _, err := st.ListConferences(ctx(t), store.ConferenceFilter{AccountSID: acct.SID, FriendlyName: "Room"}, store.Page{Size: 10})
	if err != nil || len(all) != 2 {
		t.Fatalf("rooms named Room: %d, %v; want 2", len(all), err)
	}

	// Writers racing to create a room: exactly one wins.
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			c := newConference(acct.SID, "race", t0)
			p := newParticipant(fmt.Sprint(i), "race", store.DirectionInbound, t0)
			_, errs[i] = st.SaveConference(ctx(t), c, []store.Participant{p}, []store.Event{{}}, nil)
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("racing SaveConference: %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d rooms named race created, want 1", wins)
	}
	race, err := st.LiveConference(ctx(t), acct.SID, "race")
	if err != nil {
		t.Fatal(err)
	}
	ps, _, err := st.ListParticipants(ctx(t), store.ParticipantFilter{AccountSID: acct.SID, CallSID: ""}, store.Page{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.ConferenceSID != race.SID {
			t.Errorf("participant %s of a losing room %s was kept", p.SID, p.ConferenceSID)
		}
	}
	if len(ps) != 1 {
		t.Errorf("%d participants after the race, want 1", len(ps))
	}
}

func testConferenceList(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	other := mainAccount(t, st)
	saveConference(t, st, newConference(other.SID, "alpha", t0), nil)
	var sids []string // in creation order
	for i, spec := range []struct {
		name   string
		status store.ConferenceStatus
		region string
	}{
		{"alpha", store.ConferenceCompleted, "us1"},
		{"beta", store.ConferenceInProgress, "us1"},
		{"alpha", store.ConferenceInit, "ie1"},
		{"gamma", store.ConferenceCompleted, "us1"},
	} {
		at := t0.Add(time.Duration(i) * time.Hour)
		c := newConference(acct.SID, spec.name, at)
		c.Status, c.Region, c.DateUpdated = spec.status, spec.region, at.Add(10*time.Minute)
		if spec.status == store.ConferenceCompleted {
			c.ReasonConferenceEnded = store.ConferenceEndedViaAPI
		}
		sids = append(sids, saveConference(t, st, c, nil).SID)
	}
	rev := func(s ...string) []string {
		out := make([]string, len(s))
		for i, x := range s {
			out[len(s)-1-i] = x
		}
		return out
	}
	for _, tt := range []struct {
		name string
		f    store.ConferenceFilter
		want []string
	}{
		{"all", store.ConferenceFilter{}, rev(sids...)},
		{"friendly name", store.ConferenceFilter{FriendlyName: "alpha"}, rev(sids[0], sids[2])},
		{"status", store.ConferenceFilter{Status: store.ConferenceCompleted}, rev(sids[0], sids[3])},
		{"region", store.ConferenceFilter{Region: "ie1"}, []string{sids[2]}},
		{"end reason", store.ConferenceFilter{ReasonConferenceEnded: store.ConferenceEndedViaAPI}, rev(sids[0], sids[3])},
		{"created after", store.ConferenceFilter{DateCreatedAfter: t0.Add(time.Hour)}, rev(sids[1:]...)},
		{"created before", store.ConferenceFilter{DateCreatedBefore: t0.Add(time.Hour)}, rev(sids[:2]...)},
		{"created between", store.ConferenceFilter{DateCreatedAfter: t0.Add(30 * time.Minute), DateCreatedBefore: t0.Add(150 * time.Minute)}, rev(sids[1:3]...)},
		{"updated after", store.ConferenceFilter{DateUpdatedAfter: t0.Add(2*time.Hour + 10*time.Minute)}, rev(sids[2:]...)},
		{"updated before", store.ConferenceFilter{DateUpdatedBefore: t0.Add(10 * time.Minute)}, []string{sids[0]}},
		{"none", store.ConferenceFilter{FriendlyName: "delta"}, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.AccountSID = acct.SID
			got, more, err := st.ListConferences(ctx(t), tt.f, store.Page{Size: 50, Desc: true})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, conferenceSIDs(got)); diff != "" || more {
				t.Errorf("more=%v (-want +got):\n%s", more, diff)
			}
		})
	}

	// Paging newest first, by cursor and by offset.
	f := store.ConferenceFilter{AccountSID: acct.SID}
	page1, more, err := st.ListConferences(ctx(t), f, store.Page{Size: 3, Desc: true})
	if err != nil || !more {
		t.Fatalf("first page: more=%v, %v", more, err)
	}
	last := page1[len(page1)-1]
	page2, more, err := st.ListConferences(ctx(t), f, store.Page{Size: 3, Desc: true,
		After: &store.Cursor{DateCreated: last.DateCreated, SID: last.SID}})
	if err != nil || more {
		t.Fatalf("second page: more=%v, %v", more, err)
	}
	if diff := cmp.Diff(rev(sids...), append(conferenceSIDs(page1), conferenceSIDs(page2)...)); diff != "" {
		t.Errorf("paged (-want +got):\n%s", diff)
	}
	back, _, err := st.ListConferences(ctx(t), f, store.Page{Size: 3, Desc: true,
		Before: &store.Cursor{DateCreated: page2[0].DateCreated, SID: page2[0].SID}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(conferenceSIDs(page1), conferenceSIDs(back)); diff != "" {
		t.Errorf("page before (-want +got):\n%s", diff)
	}
	off, _, err := st.ListConferences(ctx(t), f, store.Page{Size: 2, Offset: 1, Desc: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rev(sids...)[1:3], conferenceSIDs(off)); diff != "" {
		t.Errorf("offset 1 (-want +got):\n%s", diff)
	}
	if _, _, err := st.ListConferences(ctx(t), store.ConferenceFilter{}, store.Page{Size: 1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("ListConferences without account: %v, want ErrInvalid", err)
	}
	if _, _, err := st.ListParticipants(ctx(t), store.ParticipantFilter{}, store.Page{Size: 1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("ListParticipants without account: %v, want ErrInvalid", err)
	}
}

func testParticipantLookups(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	c := newConference(acct.SID, "lookups", t0)
	c.Status = store.ConferenceInProgress
	agent := newParticipant("+15550000000", "client:agent", store.DirectionOutbound, t0)
	agent.Label = "agent"
	customer := newParticipant("+15550001111", "support", store.DirectionInbound, t0.Add(time.Second))
	customer.Label, customer.Hold = "customer", true
	coach := newParticipant("+15550000000", "client:supervisor", store.DirectionOutbound, t0.Add(2*time.Second))
	coach.Muted, coach.Coaching, coach.CallSIDToCoach = true, true, agent.CallSID
	c = saveConference(t, st, c, []store.Participant{agent, customer, coach})

	lookup := func(key string) store.Participant {
		t.Helper()
		p, err := st.Participant(ctx(t), acct.SID, c.SID, key)
		if err != nil {
			t.Fatalf("Participant(%s): %v", key, err)
		}
		return p
	}
	if p := lookup(agent.CallSID); p.SID != agent.SID {
		t.Errorf("by call SID: %s, want %s", p.SID, agent.SID)
	}
	if p := lookup("customer"); p.SID != customer.SID {
		t.Errorf("by label: %s, want %s", p.SID, customer.SID)
	}
	for _, key := range []string{"", "nobody", sid.New(sid.Call)} {
		if _, err := st.Participant(ctx(t), acct.SID, c.SID, key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Participant(%q): %v, want ErrNotFound", key, err)
		}
	}
	room2 := saveConference(t, st, newConference(acct.SID, "elsewhere", t0), nil)
	if _, err := st.Participant(ctx(t), acct.SID, room2.SID, agent.CallSID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Participant in another room: %v, want ErrNotFound", err)
	}

	// A label is unique among the room's current participants.
	dupLabel := newParticipant("x", "y", store.DirectionInbound, t0.Add(3*time.Second))
	dupLabel.Label = "customer"
	if _, err := st.SaveConference(ctx(t), c, []store.Participant{dupLabel}, nil, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second current participant labelled customer: %v, want ErrConflict", err)
	}

	// The coach leaves and comes back: a new participant. The call finds
	// the current one; once it has left again, the latest.
	left := leave(coach, t0.Add(time.Minute))
	c = saveConference(t, st, c, []store.Participant{left})
	if p := lookup(coach.CallSID); p.SID != coach.SID || p.Status != store.ParticipantComplete {
		t.Errorf("after leaving: %+v", p)
	}
	back := newParticipant(coach.From, coach.To, store.DirectionOutbound, t0.Add(2*time.Minute))
	back.CallSID = coach.CallSID
	c = saveConference(t, st, c, []store.Participant{back})
	if p := lookup(coach.CallSID); p.SID != back.SID || p.Status != store.ParticipantConnected {
		t.Errorf("after rejoining: %+v", p)
	}
	c = saveConference(t, st, c, []store.Participant{leave(back, t0.Add(3*time.Minute))})
	if p := lookup(coach.CallSID); p.SID != back.SID {
		t.Errorf("after leaving again: got %s, want the latest %s", p.SID, back.SID)
	}
	// A label is reusable once its participant has left.
	c = saveConference(t, st, c, []store.Participant{leave(customer, t0.Add(4*time.Minute))})
	dupLabel.DateCreated, dupLabel.DateUpdated = t0.Add(5*time.Minute), t0.Add(5*time.Minute)
	c = saveConference(t, st, c, []store.Participant{dupLabel})
	if p := lookup("customer"); p.SID != dupLabel.SID {
		t.Errorf("label after reuse: %s, want the current %s", p.SID, dupLabel.SID)
	}
	if c.UniqueParticipants != 4 || c.MaxConcurrentParticipants != 3 {
		t.Errorf("unique, max concurrent = %d, %d; want 4, 3", c.UniqueParticipants, c.MaxConcurrentParticipants)
	}

	yes, no := true, false
	for _, tt := range []struct {
		name string
		f    store.ParticipantFilter
		want []string
	}{
		{"all", store.ParticipantFilter{}, []string{agent.SID, customer.SID, coach.SID, back.SID, dupLabel.SID}},
		{"current", store.ParticipantFilter{Current: true}, []string{agent.SID, dupLabel.SID}},
		{"muted", store.ParticipantFilter{Muted: &yes}, []string{coach.SID}},
		{"not muted", store.ParticipantFilter{Muted: &no, Current: true}, []string{agent.SID, dupLabel.SID}},
		{"hold", store.ParticipantFilter{Hold: &yes}, []string{customer.SID}},
		{"coaching", store.ParticipantFilter{Coaching: &yes}, []string{coach.SID}},
		{"call", store.ParticipantFilter{CallSID: coach.CallSID}, []string{coach.SID, back.SID}},
		{"label", store.ParticipantFilter{Label: "customer"}, []string{customer.SID, dupLabel.SID}},
		{"other room", store.ParticipantFilter{ConferenceSID: room2.SID}, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.f.ConferenceSID == "" {
				tt.f.ConferenceSID = c.SID
			}
			tt.f.AccountSID = acct.SID
			got, more, err := st.ListParticipants(ctx(t), tt.f, store.Page{Size: 50})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, participantSIDs(got)); diff != "" || more {
				t.Errorf("more=%v (-want +got):\n%s", more, diff)
			}
		})
	}
	// Paging in join order.
	f := store.ParticipantFilter{AccountSID: acct.SID, ConferenceSID: c.SID}
	p1, more, err := st.ListParticipants(ctx(t), f, store.Page{Size: 2})
	if err != nil || !more {
		t.Fatalf("first page: more=%v, %v", more, err)
	}
	last := p1[len(p1)-1]
	p2, more, err := st.ListParticipants(ctx(t), f, store.Page{Size: 3, After: &store.Cursor{DateCreated: last.DateCreated, SID: last.SID}})
	if err != nil || more {
		t.Fatalf("second page: more=%v, %v", more, err)
	}
	if diff := cmp.Diff([]string{agent.SID, customer.SID, coach.SID, back.SID, dupLabel.SID},
		append(participantSIDs(p1), participantSIDs(p2)...)); diff != "" {
		t.Errorf("paged participants (-want +got):\n%s", diff)
	}
}

// testConferenceInsightsCounts replays seed 003's Flex scenario: a customer
// calls in, an agent answers, a supervisor monitors, stops, and takes the
// transferred call. Insights lists four participants, three unique, at most
// three at once.
func testConferenceInsightsCounts(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	c := newConference(acct.SID, "flex", at(0))
	customer := newParticipant("+8180XXXXXXXX", "+8150XXXXXXXX", store.DirectionInbound, at(0))
	sales := newParticipant("+8150XXXXXXXX", "client:sales", store.DirectionOutbound, at(0))
	c.Status, c.StartTime = store.ConferenceInProgress, at(0)
	c = saveConference(t, st, c, []store.Participant{customer, sales})
	monitor := newParticipant("+8150XXXXXXXX", "client:supervisor", store.DirectionOutbound, at(25))
	monitor.Muted = true
	c.DateUpdated = at(25)
	c = saveConference(t, st, c, []store.Participant{monitor})
	c.DateUpdated = at(49)
	c = saveConference(t, st, c, []store.Participant{leave(monitor, at(49))})
	c.DateUpdated = at(74)
	c = saveConference(t, st, c, []store.Participant{leave(sales, at(74))})
	takeover := newParticipant("+8150XXXXXXXX", "client:supervisor", store.DirectionOutbound, at(81))
	c.DateUpdated = at(81)
	c = saveConference(t, st, c, []store.Participant{takeover})
	c.Status, c.EndTime, c.DateUpdated, c.ReasonConferenceEnded = store.ConferenceCompleted, at(96), at(96), store.ConferenceEndedLastLeft
	c = saveConference(t, st, c, []store.Participant{leave(customer, at(96)), leave(takeover, at(95))})
	if c.UniqueParticipants != 3 || c.MaxConcurrentParticipants != 3 {
		t.Errorf("unique, max concurrent = %d, %d; want 3, 3", c.UniqueParticipants, c.MaxConcurrentParticipants)
	}
	all, _, err := st.ListParticipants(ctx(t), store.ParticipantFilter{AccountSID: acct.SID, ConferenceSID: c.SID}, store.Page{Size: 10})
	if err != nil || len(all) != 4 {
		t.Fatalf("participants = %d, %v; want 4", len(all), err)
	}
	for _, p := range all {
		if p.JoinTime.IsZero() || p.LeaveTime.IsZero() || p.Current() {
			t.Errorf("participant %s: join %v leave %v status %s", p.SID, p.JoinTime, p.LeaveTime, p.Status)
		}
	}
}

func testConferenceEvents(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	c := newConference(acct.SID, "timeline", t0)
	p := newParticipant("+15550001111", "support", store.DirectionInbound, t0)
	p.Label = "customer"
	cbs := []store.Callback{{URL: "https://example.com/conf", Params: "StatusCallbackEvent=participant-join"}}
	c = func() store.Conference {
		got, err := st.SaveConference(ctx(t), c, []store.Participant{p}, []store.Event{
			{},
			{Type: store.EventParticipant, Name: store.ParticipantEventJoin},
		}, cbs)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}()
	q := newParticipant("+15550002222", "support", store.DirectionInbound, t0.Add(time.Second))
	c.Status, c.StartTime, c.DateUpdated = store.ConferenceInProgress, t0.Add(time.Second), t0.Add(time.Second)
	c = saveConference(t, st, c, []store.Participant{q},
		store.Event{Type: store.EventParticipant, Name: store.ParticipantEventJoin, ResourceSID: q.SID},
		store.Event{Name: store.ConferenceEventStart, Payload: []byte(`{"custom":true}`)})
	mute := p
	mute.Muted, mute.DateUpdated = true, t0.Add(2*time.Second)
	c.DateUpdated = t0.Add(2 * time.Second)
	c = saveConference(t, st, c, []store.Participant{mute},
		store.Event{Type: store.EventParticipant, Name: store.ParticipantEventMute, ResourceSID: p.SID, Time: t0.Add(1500 * time.Millisecond)})
	// Another room's events stay out of this one's timeline.
	saveConference(t, st, newConference(acct.SID, "elsewhere", t0), nil, store.Event{})

	evs := conferenceEvents(t, st, acct.SID, c.SID)
	type row struct{ Type, Name, Resource, Call string }
	var got []row
	for i, ev := range evs {
		got = append(got, row{ev.Type, ev.Name, ev.ResourceSID, ev.CallSID})
		if i > 0 && ev.Seq <= evs[i-1].Seq {
			t.Errorf("events out of Seq order: %d after %d", ev.Seq, evs[i-1].Seq)
		}
		if ev.AccountSID != acct.SID {
			t.Errorf("event of account %s", ev.AccountSID)
		}
	}
	want := []row{
		{store.EventConference, "init", c.SID, ""},
		{store.EventParticipant, store.ParticipantEventJoin, p.SID, p.CallSID},
		{store.EventParticipant, store.ParticipantEventJoin, q.SID, q.CallSID},
		{store.EventConference, store.ConferenceEventStart, c.SID, ""},
		{store.EventParticipant, store.ParticipantEventMute, p.SID, p.CallSID},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("timeline (-want +got):\n%s", diff)
	}
	// Default times and payloads.
	if !evs[0].Time.Equal(us(t0)) || !evs[3].Time.Equal(us(t0.Add(time.Second))) || !evs[4].Time.Equal(us(t0.Add(1500*time.Millisecond))) {
		t.Errorf("event times = %v, %v, %v", evs[0].Time, evs[3].Time, evs[4].Time)
	}
	var cc store.ConferenceChange
	if err := json.Unmarshal(evs[0].Payload, &cc); err != nil || cc.Status != store.ConferenceInit || cc.FriendlyName != "timeline" {
		t.Errorf("conference payload %s: %+v, %v", evs[0].Payload, cc, err)
	}
	if string(evs[3].Payload) != `{"custom":true}` {
		t.Errorf("given payload replaced: %s", evs[3].Payload)
	}
	var pc store.ParticipantChange
	if err := json.Unmarshal(evs[4].Payload, &pc); err != nil || pc.Status != store.ParticipantConnected || !pc.Muted ||
		pc.CallSID != p.CallSID || pc.Label != "customer" || pc.CallStatus != store.CallInProgress {
		t.Errorf("participant payload %s: %+v, %v", evs[4].Payload, pc, err)
	}

	// By resource, and by call: a participant's events are its call's too.
	byRes, _, err := st.ListEvents(ctx(t), store.EventFilter{AccountSID: acct.SID, ResourceSID: p.SID}, 0, 10)
	if err != nil || len(byRes) != 2 || byRes[0].Name != store.ParticipantEventJoin || byRes[1].Name != store.ParticipantEventMute {
		t.Errorf("events of participant %s: %+v, %v", p.SID, byRes, err)
	}
	if evs := callEvents(t, st, acct.SID, q.CallSID); len(evs) != 1 || evs[0].ResourceSID != q.SID {
		t.Errorf("events of call %s: %+v", q.CallSID, evs)
	}
	// Paging the timeline.
	page, more, err := st.ListEvents(ctx(t), store.EventFilter{AccountSID: acct.SID, ConferenceSID: c.SID}, evs[1].Seq, 2)
	if err != nil || !more || len(page) != 2 || page[0].Seq != evs[2].Seq {
		t.Errorf("timeline page after %d: more=%v, %+v, %v", evs[1].Seq, more, page, err)
	}
	if other, _, _ := st.ListEvents(ctx(t), store.EventFilter{AccountSID: mainAccount(t, st).SID, ConferenceSID: c.SID}, 0, 10); len(other) != 0 {
		t.Errorf("another account sees %d events of the room", len(other))
	}

	// The room's callbacks are ordered by its SID.
	claimed, err := st.ClaimCallbacks(ctx(t), "node", time.Now(), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %+v, %v", claimed, err)
	}
	if cb := claimed[0]; cb.CallSID != c.SID || cb.AccountSID != acct.SID || cb.Method != "POST" {
		t.Errorf("conference callback = %+v", cb)
	}
}

func testConferenceFinalize(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	mk := func(name, node string, status store.ConferenceStatus, parts ...store.Participant) (store.Conference, []store.Participant) {
		t.Helper()
		c := newConference(acct.SID, name, t0)
		c.Node, c.Status = node, status
		for i := range parts {
			parts[i].SID, parts[i].CallSID = sid.New("CP"), sid.New(sid.Call)
		}
		return saveConference(t, st, c, parts), parts
	}
	connected := func(node string) store.Participant {
		p := newParticipant("a", "b", store.DirectionInbound, t0)
		p.Node = node
		return p
	}
	ringing := func(node string) store.Participant {
		p := connected(node)
		p.Status, p.CallStatus, p.JoinTime, p.Direction = store.ParticipantRinging, store.CallRinging, time.Time{}, store.DirectionOutbound
		return p
	}
	// node-a mixes a live room with a participant of node-b's calls, and a
	// room still waiting; node-b mixes a room where one of node-a's calls is.
	roomA, partsA := mk("a1", "node-a", store.ConferenceInProgress, connected("node-a"), connected("node-b"), ringing("node-a"))
	waitA, partsW := mk("a2", "node-a", store.ConferenceInit, connected("node-a"))
	roomB, partsB := mk("b1", "node-b", store.ConferenceInProgress, connected("node-a"), connected("node-b"))
	doneA, _ := mk("a3", "node-a", store.ConferenceCompleted)
	eventsBefore := len(conferenceEvents(t, st, acct.SID, roomA.SID))

	n, err := st.FinalizeOpenConferences(ctx(t), "node-a")
	if err != nil || n != 2 {
		t.Fatalf("FinalizeOpenConferences(node-a) = %d, %v; want 2", n, err)
	}
	for _, c := range []store.Conference{roomA, waitA} {
		got, _ := st.Conference(ctx(t), acct.SID, c.SID)
		if got.Status != store.ConferenceCompleted || got.EndTime.IsZero() || got.ReasonConferenceEnded != store.ConferenceEndedLastLeft ||
			got.Reason == "" || !got.DateUpdated.Equal(got.EndTime) {
			t.Errorf("room %s after finalize: %+v", c.FriendlyName, got)
		}
		if _, err := st.LiveConference(ctx(t), acct.SID, c.FriendlyName); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("room %s still live: %v", c.FriendlyName, err)
		}
	}
	if got, _ := st.Conference(ctx(t), acct.SID, doneA.SID); !got.DateUpdated.Equal(us(t0)) {
		t.Errorf("an already completed room was touched: %+v", got)
	}
	if got, _ := st.Conference(ctx(t), acct.SID, roomB.SID); got.Status != store.ConferenceInProgress {
		t.Errorf("node-b's room closed by node-a: %+v", got)
	}
	status := func(p store.Participant) store.Participant {
		t.Helper()
		got, err := st.ParticipantBySID(ctx(t), acct.SID, p.SID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, p := range []store.Participant{partsA[0], partsA[1], partsW[0], partsB[0]} {
		got := status(p)
		if got.Status != store.ParticipantComplete || got.CallStatus != store.CallCompleted || got.LeaveTime.IsZero() ||
			got.ReasonParticipantLeft != store.ParticipantLeftHungUp {
			t.Errorf("participant after finalize: %+v", got)
		}
	}
	if got := status(partsA[2]); got.Status != store.ParticipantFailed || got.CallStatus != store.CallFailed ||
		got.ReasonParticipantLeft != store.ParticipantLeftAddFailed || !got.LeaveTime.IsZero() {
		t.Errorf("ringing participant after finalize: %+v", got)
	}
	if got := status(partsB[1]); got.Status != store.ParticipantConnected {
		t.Errorf("node-b's participant in node-b's room closed by node-a: %+v", got)
	}
	// Each change has its event: three leaves and the end in room a1.
	evs := conferenceEvents(t, st, acct.SID, roomA.SID)
	var names []string
	for _, ev := range evs[eventsBefore:] {
		names = append(names, ev.Name)
	}
	if diff := cmp.Diff([]string{store.ParticipantEventLeave, store.ParticipantEventLeave, store.ParticipantEventLeave,
		store.ConferenceEventEnd}, names); diff != "" {
		t.Errorf("events of finalize (-want +got):\n%s", diff)
	}
	if end := evs[len(evs)-1]; end.Type != store.EventConference || end.ResourceSID != roomA.SID {
		t.Errorf("end event = %+v", end)
	}
	if pending(t, st) != 0 {
		t.Error("finalize queued callbacks")
	}

	// Nothing left of node-a's; "" closes everyone's.
	if n, err := st.FinalizeOpenConferences(ctx(t), "node-a"); err != nil || n != 0 {
		t.Fatalf("second FinalizeOpenConferences(node-a) = %d, %v", n, err)
	}
	if n, err := st.FinalizeOpenConferences(ctx(t), ""); err != nil || n != 1 {
		t.Fatalf("FinalizeOpenConferences(all) = %d, %v; want 1", n, err)
	}
	if got := status(partsB[1]); got.Status != store.ParticipantComplete {
		t.Errorf("participant after finalizing every node: %+v", got)
	}
	open, _, err := st.ListParticipants(ctx(t), store.ParticipantFilter{AccountSID: acct.SID, Current: true}, store.Page{Size: 50})
	if err != nil || len(open) != 0 {
		t.Errorf("%d current participants after finalizing every node, %v", len(open), err)
	}
	// The names are free again.
	saveConference(t, st, newConference(acct.SID, "a1", t0.Add(time.Hour)), nil)
}
