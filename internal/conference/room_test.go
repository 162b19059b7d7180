package conference

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2017, 6, 1, 20, 48, 32, 0, time.UTC)

// Call SIDs of the tests.
const (
	callA = "CA00000000000000000000000000000001"
	callB = "CA00000000000000000000000000000002"
	callC = "CA00000000000000000000000000000003"
	callM = "CA0000000000000000000000000000000d" // a moderator
)

// short names the calls in event descriptions.
var short = map[string]string{callA: "A", callB: "B", callC: "C", callM: "M"}

// describe renders an event compactly: its type, its participant and its
// reason.
func describe(e Event) string {
	s := string(e.Type)
	if p := e.Participant.CallSID; p != "" {
		s += " " + short[p]
	}
	switch e.Type {
	case ParticipantLeave:
		s += " " + e.ReasonParticipantLeft.String()
	case ConferenceEnd:
		s += " " + string(e.ReasonConferenceEnded)
	}
	return s
}

func describeAll(evs []Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = describe(e)
	}
	return out
}

// A step is one operation on a room and what it must give.
type step struct {
	op       string // join, leave, update, speech, end
	call     string
	opts     Options
	reason   LeaveReason
	upd      Update
	speaking bool
	err      error    // the error wanted (errors.Is)
	events   []string // describe of each event, in order
}

func join(call string, o Options, events ...string) step {
	return step{op: "join", call: call, opts: o, events: events}
}

func joinErr(call string, o Options, err error) step {
	return step{op: "join", call: call, opts: o, err: err}
}

func leave(call string, r LeaveReason, events ...string) step {
	return step{op: "leave", call: call, reason: r, events: events}
}

func update(call string, u Update, events ...string) step {
	return step{op: "update", call: call, upd: u, events: events}
}

func speech(call string, speaking bool, events ...string) step {
	return step{op: "speech", call: call, speaking: speaking, events: events}
}

func end(events ...string) step { return step{op: "end", events: events} }

func (s step) fails(err error) step { s.err = err; s.events = nil; return s }

func (s step) run(r *Room, at time.Time) ([]Event, error) {
	switch s.op {
	case "join":
		return r.Join(s.call, s.opts, at)
	case "leave":
		return r.Leave(s.call, s.reason, at)
	case "update":
		return r.Update(s.call, s.upd, at)
	case "speech":
		return r.Speech(s.call, s.speaking, at)
	case "end":
		return r.End(at)
	}
	panic("unknown op " + s.op)
}

var (
	moderator = Options{EndConferenceOnExit: true}
	attendee  = Options{StartConferenceOnEnter: new(false)}
)

func TestRoomRules(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		steps  []step
		status Status
	}{
		{
			name: "one participant waits, the second starts the conference",
			steps: []step{
				join(callA, Options{}, "participant-join A"),
				join(callB, Options{}, "participant-join B", "conference-start B", "beep-enter B"),
			},
			status: StatusInProgress,
		},
		{
			name: "without a participant with startConferenceOnEnter nobody starts it",
			steps: []step{
				join(callA, attendee, "participant-join A"),
				join(callB, attendee, "participant-join B", "beep-enter B"),
				join(callC, attendee, "participant-join C", "beep-enter C"),
			},
			status: StatusInit,
		},
		{
			name: "the moderator's arrival starts a waiting room",
			steps: []step{
				join(callA, attendee, "participant-join A"),
				join(callB, attendee, "participant-join B", "beep-enter B"),
				join(callM, moderator, "participant-join M", "conference-start M", "beep-enter M"),
			},
			status: StatusInProgress,
		},
		{
			name: "a moderator alone does not start it; an attendee joining him does",
			steps: []step{
				join(callM, moderator, "participant-join M"),
				join(callA, attendee, "participant-join A", "conference-start A", "beep-enter A"),
			},
			status: StatusInProgress,
		},
		{
			name: "a held participant counts towards the start",
			steps: []step{
				join(callA, Options{Hold: true}, "participant-join A"),
				join(callB, attendee, "participant-join B", "conference-start B", "beep-enter B"),
			},
			status: StatusInProgress,
		},
		{
			name: "the moderator leaving removes everyone, then the conference ends",
			steps: []step{
				join(callA, attendee, "participant-join A"),
				join(callB, attendee, "participant-join B", "beep-enter B"),
				join(callM, moderator, "participant-join M", "conference-start M", "beep-enter M"),
				leave(callM, LeaveHungUp,
					"participant-leave M participant_hung_up",
					"participant-leave A moderator_ended_conference",
					"participant-leave B moderator_ended_conference",
					"conference-end M participant-with-end-conference-on-exit-left"),
			},
			status: StatusCompleted,
		},
		{
			name: "the moderator kicked",
			steps: []step{
				join(callA, attendee, "participant-join A"),
				join(callM, moderator, "participant-join M", "conference-start M", "beep-enter M"),
				leave(callM, LeaveKicked,
					"participant-leave M participant_updated_via_api",
					"participant-leave A moderator_ended_conference",
					"conference-end M participant-with-end-conference-on-exit-kicked"),
			},
			status: StatusCompleted,
		},
		{
			name: "a moderator leaving before the start still ends the room",
			steps: []step{
				join(callA, attendee, "participant-join A"),
				join(callM, Options{EndConferenceOnExit: true, StartConferenceOnEnter: new(false)}, "participant-join M", "beep-enter M"),
				leave(callM, LeaveHungUp,
					"participant-leave M participant_hung_up",
					"participant-leave A moderator_ended_conference",
					"conference-end M participant-with-end-conference-on-exit-left"),
			},
			status: StatusCompleted,
		},
		{
			name: "the last participant leaving ends it",
			steps: []step{
				join(callA, Options{}, "participant-join A"),
				join(callB, Options{}, "participant-join B", "conference-start B", "beep-enter B"),
				leave(callA, LeaveHungUp, "participant-leave A participant_hung_up", "beep-exit A"),
				leave(callB, LeaveHungUp, "participant-leave B participant_hung_up", "conference-end B last-participant-left"),
			},
			status: StatusCompleted,
		},
		{
			name: "the last participant kicked",
			steps: []step{
				join(callA, Options{}, "participant-join A"),
				leave(callA, LeaveKicked, "participant-leave A participant_updated_via_api", "conference-end A last-participant-kicked"),
			},
			status: StatusCompleted,
		},
		{
			name: "the last participant redirected through the API has left",
			steps: []step{
				join(callA, Options{}, "participant-join A"),
				leave(callA, LeaveUpdatedViaAPI, "participant-leave A participant_updated_via_api", "conference-end A last-participant-left"),
			},
			status: StatusCompleted,
		},
		{
			name: "ended through the API",
			steps: []step{
				join(callA, Options{}, "participant-join A"),
				join(callB, Options{}, "participant-join B", "conference-start B", "beep-enter B"),
				end("participant-leave A conference_ended_via_api", "participant-leave B conference_ended_via_api", "conference-end conference-ended-via-api"),
			},
			status: StatusCompleted,
		},
		{
			name: "an ended room accepts nothing",
			steps: []step{
				join(callA, Options{}, "participant-join A"),
				end("participant-leave A conference_ended_via_api", "conference-end conference-ended-via-api"),
				joinErr(callB, Options{}, ErrEnded),
				joinErr(callA, Options{}, ErrEnded),
				leave(callA, LeaveHungUp).fails(ErrEnded),
				update(callA, Update{Muted: new(true)}).fails(ErrEnded),
				speech(callA, true).fails(ErrEnded),
				end().fails(ErrEnded),
			},
			status: StatusCompleted,
		},
		{
			name: "a full room refuses",
			max:  2,
			steps: []step{
				join(callA, Options{}, "participant-join A"),
				join(callB, Options{}, "participant-join B", "conference-start B", "beep-enter B"),
				joinErr(callC, Options{}, ErrFull),
				leave(callB, LeaveHungUp, "participant-leave B participant_hung_up", "beep-exit B"),
				join(callC, Options{}, "participant-join C", "beep-enter C"),
			},
			status: StatusInProgress,
		},
		{
			name: "labels are unique while their participant is in",
			steps: []step{
				join(callA, Options{Label: "customer"}, "participant-join A"),
				joinErr(callB, Options{Label: "customer"}, ErrLabelTaken),
				join(callB, Options{Label: "agent"}, "participant-join B", "conference-start B", "beep-enter B"),
				leave(callA, LeaveHungUp, "participant-leave A participant_hung_up", "beep-exit A"),
				join(callC, Options{Label: "customer"}, "participant-join C", "beep-enter C"),
			},
			status: StatusInProgress,
		},
		{
			name: "label rules",
			steps: []step{
				joinErr(callA, Options{Label: strings.Repeat("x", 129)}, ErrLabelTooLong),
				joinErr(callA, Options{Label: strings.Repeat("会", 129)}, ErrLabelTooLong),
				joinErr(callA, Options{Label: "a/b"}, ErrLabelInvalid),
				joinErr(callA, Options{Label: "a%2fb"}, ErrLabelInvalid),
				joinErr(callA, Options{Label: callB}, ErrLabelInvalid),
				join(callA, Options{Label: strings.Repeat("会", 128)}, "participant-join A"),
				join(callB, Options{Label: "CA" + strings.Repeat("F", 32)}, "participant-join B", "conference-start B", "beep-enter B"),
			},
			status: StatusInProgress,
		},
		{
			name: "other refusals",
			steps: []step{
				join(callA, Options{}, "participant-join A"),
				joinErr(callA, Options{}, ErrAlreadyJoined),
				joinErr("", Options{}, ErrInvalidOption),
				joinErr(callB, Options{Beep: "loud"}, ErrInvalidOption),
				joinErr(callB, Options{JitterBufferSize: "huge"}, ErrInvalidOption),
				joinErr(callB, Options{Coach: callC}, ErrCoachNotFound),
				leave(callB, LeaveHungUp).fails(ErrNotFound),
				leave(callA, LeaveModeratorEnded).fails(ErrInvalidOption),
				update(callB, Update{Muted: new(true)}).fails(ErrNotFound),
				speech(callB, true).fails(ErrNotFound),
			},
			status: StatusInit,
		},
		{
			name: "beep settings",
			steps: []step{
				join(callA, Options{Beep: BeepOnEnter}, "participant-join A"), // nobody to hear it
				join(callB, Options{Beep: BeepFalse}, "participant-join B", "conference-start B"),
				join(callC, Options{Beep: BeepOnExit}, "participant-join C"),
				join(callM, Options{Beep: BeepOnEnter}, "participant-join M", "beep-enter M"),
				leave(callM, LeaveHungUp, "participant-leave M participant_hung_up"),
				leave(callC, LeaveHungUp, "participant-leave C participant_hung_up", "beep-exit C"),
				leave(callB, LeaveHungUp, "participant-leave B participant_hung_up"),
			},
			status: StatusInProgress,
		},
		{
			name: "mute, hold and modify",
			steps: []step{
				join(callA, Options{}, "participant-join A"),
				join(callB, Options{}, "participant-join B", "conference-start B", "beep-enter B"),
				update(callA, Update{Muted: new(true)}, "participant-mute A"),
				update(callA, Update{Muted: new(true)}), // no change, no event
				update(callA, Update{Muted: new(false)}, "participant-unmute A"),
				update(callA, Update{Hold: new(true)}, "participant-hold A"),
				update(callA, Update{Hold: new(false)}, "participant-unhold A"),
				update(callA, Update{EndConferenceOnExit: new(true)}, "participant-modify A"),
				update(callA, Update{BeepOnExit: new(false)}, "participant-modify A"),
				update(callA, Update{CallSIDToCoach: new(callB)}, "participant-modify A"),
				update(callA, Update{Coaching: new(true)}), // already coaching B
				update(callA, Update{Coaching: new(false)}, "participant-modify A"),
				update(callA, Update{Muted: new(true), Hold: new(true), Coaching: new(true), CallSIDToCoach: new(callB)},
					"participant-mute A", "participant-hold A", "participant-modify A"),
				update(callA, Update{}),
				// A has endConferenceOnExit now, and no exit beep.
				leave(callA, LeaveHungUp,
					"participant-leave A participant_hung_up",
					"participant-leave B moderator_ended_conference",
					"conference-end A participant-with-end-conference-on-exit-left"),
			},
			status: StatusCompleted,
		},
		{
			name: "coach rules",
			steps: []step{
				join(callA, Options{}, "participant-join A"),
				join(callB, Options{Coach: callA, Beep: BeepFalse}, "participant-join B", "conference-start B"),
				update(callA, Update{Coaching: new(true)}).fails(ErrCoachNotFound),        // nobody to coach
				update(callA, Update{CallSIDToCoach: new(callA)}).fails(ErrCoachNotFound), // itself
				update(callA, Update{CallSIDToCoach: new(callC)}).fails(ErrCoachNotFound), // not in the room
				update(callB, Update{Coaching: new(true), CallSIDToCoach: new(callC)}).fails(ErrCoachNotFound),
				update(callB, Update{CallSIDToCoach: new("")}, "participant-modify B"), // stops coaching
				update(callB, Update{CallSIDToCoach: new(callA)}, "participant-modify B"),
				// The coached participant leaves: the coach stays, coaching nobody.
				leave(callA, LeaveHungUp, "participant-leave A participant_hung_up", "beep-exit A"),
				update(callB, Update{Muted: new(true)}, "participant-mute B"),
			},
			status: StatusInProgress,
		},
		{
			name: "speech",
			steps: []step{
				join(callA, Options{}, "participant-join A"),
				speech(callA, true, "participant-speech-start A"),
				speech(callA, true),
				speech(callA, false, "participant-speech-stop A"),
				speech(callA, false),
			},
			status: StatusInit,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRoom(RoomConfig{SID: "CF1", AccountSID: "AC1", FriendlyName: "room", MaxParticipants: tt.max})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				at := t0.Add(time.Duration(i) * time.Second)
				evs, err := s.run(r, at)
				what := fmt.Sprintf("step %d: %s %s", i, s.op, short[s.call])
				if s.err != nil {
					if !errors.Is(err, s.err) {
						t.Fatalf("%s: err %v, want %v", what, err, s.err)
					}
					if evs != nil {
						t.Fatalf("%s: failed with events %v", what, describeAll(evs))
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if diff := cmp.Diff(s.events, describeAll(evs), cmpEmpty); diff != "" {
					t.Fatalf("%s: events (-want +got):\n%s", what, diff)
				}
				for _, e := range evs {
					if !e.Timestamp.Equal(at) || e.ConferenceSID != "CF1" || e.AccountSID != "AC1" || e.FriendlyName != "room" {
						t.Errorf("%s: %s has conference fields %q %q %q %v", what, e.Type, e.ConferenceSID, e.AccountSID, e.FriendlyName, e.Timestamp)
					}
				}
			}
			if got := r.Status(); got != tt.status {
				t.Errorf("status %s, want %s", got, tt.status)
			}
			if r.Status() == StatusCompleted && r.Len() != 0 {
				t.Errorf("completed room holds %d participants", r.Len())
			}
		})
	}
}

// cmpEmpty makes nil and empty slices equal.
var cmpEmpty = cmp.Comparer(func(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
})

// TestSequenceNumbers: status callback events are numbered 1, 2, 3... over
// the room's life; beep instructions are not numbered.
func TestSequenceNumbers(t *testing.T) {
	r := mustRoom(t, RoomConfig{SID: "CF1"})
	var all []Event
	for _, s := range []step{
		join(callA, Options{}),
		join(callB, Options{}),
		update(callA, Update{Muted: new(true), Hold: new(true)}),
		speech(callB, true),
		leave(callA, LeaveHungUp),
		join(callC, attendee),
		end(),
	} {
		evs, err := s.run(r, t0)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, evs...)
	}
	want := 1
	for _, e := range all {
		if !e.Type.StatusCallback() {
			if e.SequenceNumber != 0 {
				t.Errorf("%s numbered %d", describe(e), e.SequenceNumber)
			}
			continue
		}
		if e.SequenceNumber != want {
			t.Errorf("%s numbered %d, want %d", describe(e), e.SequenceNumber, want)
		}
		want++
	}
	if last := all[len(all)-1]; last.Type != ConferenceEnd {
		t.Errorf("last event %s, want conference-end", describe(last))
	}
	// A new room for the same name counts from 1 again.
	r2 := mustRoom(t, RoomConfig{SID: "CF2"})
	evs, _ := r2.Join(callA, Options{}, t0)
	if evs[0].SequenceNumber != 1 {
		t.Errorf("new room starts at %d", evs[0].SequenceNumber)
	}
}

func mustRoom(t *testing.T, cfg RoomConfig) *Room {
	t.Helper()
	r, err := NewRoom(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNewRoomMaxParticipants(t *testing.T) {
	for _, tt := range []struct {
		max, want int
		err       bool
	}{
		{0, 250, false}, {2, 2, false}, {250, 250, false}, {1, 0, true}, {251, 0, true}, {-1, 0, true},
	} {
		r, err := NewRoom(RoomConfig{MaxParticipants: tt.max})
		if tt.err {
			if !errors.Is(err, ErrInvalidOption) {
				t.Errorf("max %d: err %v, want ErrInvalidOption", tt.max, err)
			}
			continue
		}
		if err != nil || r.MaxParticipants() != tt.want {
			t.Errorf("max %d: %v, %v", tt.max, r.MaxParticipants(), err)
		}
	}
}

func TestFullAt250(t *testing.T) {
	r := mustRoom(t, RoomConfig{})
	for i := range 250 {
		if _, err := r.Join(fmt.Sprintf("CA%032x", i), attendee, t0); err != nil {
			t.Fatalf("join %d: %v", i, err)
		}
	}
	_, err := r.Join("CA"+strings.Repeat("f", 32), Options{}, t0)
	if !errors.Is(err, ErrFull) || Code(err) != 16020 {
		t.Fatalf("251st join: %v (code %d), want ErrFull (16020)", err, Code(err))
	}
}

func TestErrorCodes(t *testing.T) {
	for _, tt := range []struct {
		err  error
		code int
	}{
		{ErrFull, 16020},
		{ErrLabelTaken, 16025},
		{ErrLabelTooLong, 16023},
		{ErrLabelInvalid, 16023},
		{ErrCoachNotFound, 13240},
		{ErrInvalidOption, 16002},
		{ErrEnded, 0},
		{ErrNotFound, 0},
		{fmt.Errorf("join: %w", fmt.Errorf("%w: 250", ErrFull)), 16020},
		{errors.New("other"), 0},
	} {
		if got := Code(tt.err); got != tt.code {
			t.Errorf("Code(%v) = %d, want %d", tt.err, got, tt.code)
		}
	}
}

// TestRouting: what each participant hears and whether it is heard, as the
// room moves.
func TestRouting(t *testing.T) {
	r := mustRoom(t, RoomConfig{})
	check := func(what string, want ...Route) {
		t.Helper()
		if diff := cmp.Diff(want, r.Routing()); diff != "" {
			t.Errorf("%s: routing (-want +got):\n%s", what, diff)
		}
		for _, w := range want {
			if got, ok := r.Route(w.CallSID); !ok || got != w {
				t.Errorf("%s: Route(%s) = %+v, %v", what, short[w.CallSID], got, ok)
			}
		}
	}
	do := func(evs []Event, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	do(r.Join(callA, attendee, t0))
	do(r.Join(callB, Options{Muted: true, StartConferenceOnEnter: new(false)}, t0))
	check("before the start",
		Route{CallSID: callA, Role: RoleWaiting},
		Route{CallSID: callB, Role: RoleWaiting})
	do(r.Join(callM, moderator, t0))
	check("started",
		Route{CallSID: callA, Role: RoleMixed, Talks: true, Hears: true},
		Route{CallSID: callB, Role: RoleMixed, Hears: true},
		Route{CallSID: callM, Role: RoleMixed, Talks: true, Hears: true})
	do(r.Update(callA, Update{Hold: new(true)}, t0))
	do(r.Join(callC, Options{Coach: callM}, t0))
	check("A held, C coaches M",
		Route{CallSID: callA, Role: RoleHeld},
		Route{CallSID: callB, Role: RoleMixed, Hears: true},
		Route{CallSID: callM, Role: RoleMixed, Talks: true, Hears: true},
		Route{CallSID: callC, Role: RoleMixed, Talks: true, Hears: true, CoachOf: callM})
	if _, ok := r.Route(callD); ok {
		t.Error("Route of a call not in the room")
	}
	if RoleWaiting.String() != "waiting" || RoleHeld.String() != "held" || RoleMixed.String() != "mixed" || Role(9).String() != "Role(9)" {
		t.Error("Role names")
	}
}

const callD = "CA0000000000000000000000000000000e"

func TestParticipantsAndStats(t *testing.T) {
	r := mustRoom(t, RoomConfig{SID: "CF1"})
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	steps := []struct {
		s  step
		at int
	}{
		{join(callA, Options{Label: "customer", JitterBufferSize: JitterBufferOff, Beep: BeepOnExit}), 0},
		{join(callB, Options{Label: "agent"}), 5},
		{join(callC, Options{}), 6},
		{leave(callC, LeaveHungUp), 7},
		{join(callC, Options{}), 8}, // the same call again
		{leave(callB, LeaveKicked), 9},
		{leave(callA, LeaveHungUp), 10},
		{leave(callC, LeaveHungUp), 12},
	}
	for i, s := range steps {
		if _, err := s.s.run(r, sec(s.at)); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if i == 2 {
			got := r.Participants()
			if len(got) != 3 || got[0].CallSID != callA || got[1].CallSID != callB || got[2].CallSID != callC {
				t.Fatalf("participants %+v", got)
			}
			want := Participant{
				CallSID: callA, Label: "customer", BeepOnExit: true, StartConferenceOnEnter: true,
				JitterBufferSize: JitterBufferOff, Joined: t0,
			}
			if diff := cmp.Diff(want, got[0]); diff != "" {
				t.Errorf("participant A (-want +got):\n%s", diff)
			}
			if p, ok := r.ParticipantByLabel("agent"); !ok || p.CallSID != callB || p.JitterBufferSize != JitterBufferLarge || !p.BeepOnEnter {
				t.Errorf("by label: %+v %v", p, ok)
			}
			if _, ok := r.ParticipantByLabel(""); ok {
				t.Error("empty label found a participant")
			}
			if p, ok := r.Participant(callC); !ok || p.CallSID != callC {
				t.Errorf("Participant(C) = %+v, %v", p, ok)
			}
		}
	}
	want := Stats{
		Status:                  StatusCompleted,
		UniqueParticipants:      3,
		MaxConcurrent:           3,
		Created:                 t0,
		Started:                 sec(5),
		Ended:                   sec(12),
		EndReason:               EndedLastParticipantLeft,
		CallSIDEndingConference: callC,
	}
	if diff := cmp.Diff(want, r.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	if _, ok := r.Participant(callA); ok {
		t.Error("a participant is left in a completed room")
	}
}
