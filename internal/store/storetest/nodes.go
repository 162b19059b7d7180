package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

func heartbeat(t *testing.T, st store.Store, node string, at time.Time) {
	t.Helper()
	if err := st.Heartbeat(ctx(t), node, at); err != nil {
		t.Fatalf("Heartbeat(%s): %v", node, err)
	}
}

// A call left open by a node that was killed ends at the node's last
// heartbeat when that is later than the call's last update: an answered call
// keeps the duration it really had.
func testCallFinalizeAtHeartbeat(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	if err := st.Heartbeat(ctx(t), "", t0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Heartbeat without a node: %v, want ErrInvalid", err)
	}
	mk := func(node string, status store.CallStatus, answered, updated time.Time) store.Call {
		t.Helper()
		c := newCall(acct.SID, "a", "b", status, t0)
		c.Node, c.AnsweredAt, c.DateUpdated = node, answered, updated
		c, err := st.CreateCall(ctx(t), c)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// node-a: answered at t0+1s, last written then; alive until t0+7s.
	answered := mk("node-a", store.CallInProgress, t0.Add(time.Second), t0.Add(time.Second))
	ringing := mk("node-a", store.CallRinging, time.Time{}, t0)
	// Written after the last heartbeat: its own update is the later.
	late := mk("node-a", store.CallInProgress, t0, t0.Add(20*time.Second))
	// node-b, alive until t0+100s; node-c never wrote a heartbeat.
	other := mk("node-b", store.CallInProgress, t0, t0.Add(time.Second))
	silent := mk("node-c", store.CallInProgress, t0, t0.Add(3*time.Second))

	heartbeat(t, st, "node-a", t0.Add(30*time.Second))
	heartbeat(t, st, "node-a", t0.Add(7*time.Second)) // one row per node: replaced
	heartbeat(t, st, "node-b", t0.Add(100*time.Second))

	if n, err := st.FinalizeOpenCalls(ctx(t), "node-a"); err != nil || n != 3 {
		t.Fatalf("FinalizeOpenCalls(node-a) = %d, %v; want 3", n, err)
	}
	check := func(c store.Call, status store.CallStatus, end time.Time, duration int) {
		t.Helper()
		got, err := st.Call(ctx(t), acct.SID, c.SID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != status || !got.EndTime.Equal(us(end)) || !got.DateUpdated.Equal(us(end)) || got.Duration != duration {
			t.Errorf("call on %s after finalize: status %s, end %v, updated %v, duration %d; want %s, %v, %d s",
				c.Node, got.Status, got.EndTime, got.DateUpdated, got.Duration, status, us(end), duration)
		}
	}
	check(answered, store.CallCompleted, t0.Add(7*time.Second), 6)
	check(ringing, store.CallFailed, t0.Add(7*time.Second), 0)
	check(late, store.CallCompleted, t0.Add(20*time.Second), 20)
	if got, _ := st.Call(ctx(t), acct.SID, other.SID); got.Status != store.CallInProgress {
		t.Fatalf("node-b's call finalized by node-a: %+v", got)
	}

	// "" closes every node's calls, each at its own node's heartbeat.
	if n, err := st.FinalizeOpenCalls(ctx(t), ""); err != nil || n != 2 {
		t.Fatalf("FinalizeOpenCalls(all) = %d, %v; want 2", n, err)
	}
	check(other, store.CallCompleted, t0.Add(100*time.Second), 100)
	check(silent, store.CallCompleted, t0.Add(3*time.Second), 3)
}

// Conferences and participants left open end at their node's last heartbeat
// too, and a room no earlier than its last participant.
func testConferenceFinalizeAtHeartbeat(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	connected := func(node string) store.Participant {
		p := newParticipant("a", "b", store.DirectionInbound, t0)
		p.SID, p.CallSID, p.Node = sid.New("CP"), sid.New(sid.Call), node
		return p
	}
	// node-a mixes a room with one of its calls and one of node-b's;
	// node-b mixes a room with one of node-a's calls.
	roomA := newConference(acct.SID, "a", t0)
	roomA.Node, roomA.Status, roomA.StartTime = "node-a", store.ConferenceInProgress, t0
	inA := []store.Participant{connected("node-a"), connected("node-b")}
	roomA = saveConference(t, st, roomA, inA)
	roomB := newConference(acct.SID, "b", t0)
	roomB.Node, roomB.Status, roomB.StartTime = "node-b", store.ConferenceInProgress, t0
	inB := []store.Participant{connected("node-a"), connected("node-b")}
	roomB = saveConference(t, st, roomB, inB)
	// An empty room waiting on node-a, last written after the heartbeat.
	waiting := newConference(acct.SID, "w", t0.Add(50*time.Second))
	waiting = saveConference(t, st, waiting, nil)

	heartbeat(t, st, "node-a", t0.Add(40*time.Second))
	heartbeat(t, st, "node-b", t0.Add(90*time.Second)) // still alive

	if n, err := st.FinalizeOpenConferences(ctx(t), "node-a"); err != nil || n != 2 {
		t.Fatalf("FinalizeOpenConferences(node-a) = %d, %v; want 2", n, err)
	}
	end := us(t0.Add(40 * time.Second))
	for _, c := range []struct {
		c   store.Conference
		end time.Time
	}{{roomA, end}, {waiting, us(t0.Add(50 * time.Second))}} {
		got, _ := st.Conference(ctx(t), acct.SID, c.c.SID)
		if got.Status != store.ConferenceCompleted || !got.EndTime.Equal(c.end) || !got.DateUpdated.Equal(c.end) {
			t.Errorf("room %s after finalize: status %s, end %v, updated %v; want completed at %v",
				c.c.FriendlyName, got.Status, got.EndTime, got.DateUpdated, c.end)
		}
	}
	// Both of room a's participants left when node-a stopped (node-b's call
	// too: its room was gone), and so did node-a's call in node-b's room.
	for _, p := range []store.Participant{inA[0], inA[1], inB[0]} {
		got, _ := st.ParticipantBySID(ctx(t), acct.SID, p.SID)
		if got.Status != store.ParticipantComplete || !got.LeaveTime.Equal(end) || !got.DateUpdated.Equal(end) {
			t.Errorf("participant of %s after finalize: status %s, left %v; want complete at %v", p.Node, got.Status, got.LeaveTime, end)
		}
	}
	if got, _ := st.ParticipantBySID(ctx(t), acct.SID, inB[1].SID); got.Status != store.ParticipantConnected {
		t.Errorf("node-b's participant in node-b's room: %s, want connected", got.Status)
	}
	evs := conferenceEvents(t, st, acct.SID, roomA.SID)
	if last := evs[len(evs)-1]; last.Name != store.ConferenceEventEnd || !last.Time.Equal(end) {
		t.Errorf("room a's last event: %s at %v, want %s at %v", last.Name, last.Time, store.ConferenceEventEnd, end)
	}
}
