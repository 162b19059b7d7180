package sip

import (
	"errors"
	"testing"
)

func TestTransition(t *testing.T) {
	// Every pair of state and event: the state it moves to, or invalid.
	const invalid = State(255)
	tests := []struct {
		from State
		to   [12]State // indexed by Event
	}{
		{StateTrying, [12]State{
			EventRing: StateRinging, EventAnswer: StateAnswered, EventReject: StateTerminated,
			EventCancel: StateTerminated, EventAck: invalid, EventBye: invalid, EventHangup: invalid,
			EventReinvite: invalid, EventAckTimeout: invalid, EventNoAnswer: StateTerminated,
			EventMediaTimeout: invalid, EventShutdown: StateTerminated,
		}},
		{StateRinging, [12]State{
			EventRing: StateRinging, EventAnswer: StateAnswered, EventReject: StateTerminated,
			EventCancel: StateTerminated, EventAck: invalid, EventBye: invalid, EventHangup: invalid,
			EventReinvite: invalid, EventAckTimeout: invalid, EventNoAnswer: StateTerminated,
			EventMediaTimeout: invalid, EventShutdown: StateTerminated,
		}},
		{StateAnswered, [12]State{
			EventRing: StateAnswered, EventAnswer: StateAnswered, EventReject: invalid,
			EventCancel: StateAnswered, EventAck: StateConfirmed, EventBye: StateTerminated,
			EventHangup: StateTerminated, EventReinvite: StateAnswered, EventAckTimeout: StateTerminated,
			EventNoAnswer: invalid, EventMediaTimeout: StateTerminated, EventShutdown: StateTerminated,
		}},
		{StateConfirmed, [12]State{
			EventRing: StateConfirmed, EventAnswer: StateConfirmed, EventReject: invalid,
			EventCancel: StateConfirmed, EventAck: StateConfirmed, EventBye: StateTerminated,
			EventHangup: StateTerminated, EventReinvite: StateConfirmed, EventAckTimeout: invalid,
			EventNoAnswer: invalid, EventMediaTimeout: StateTerminated, EventShutdown: StateTerminated,
		}},
		{StateTerminated, [12]State{
			EventRing: invalid, EventAnswer: invalid, EventReject: invalid,
			EventCancel: StateTerminated, EventAck: StateTerminated, EventBye: StateTerminated,
			EventHangup: StateTerminated, EventReinvite: invalid, EventAckTimeout: StateTerminated,
			EventNoAnswer: StateTerminated, EventMediaTimeout: StateTerminated, EventShutdown: StateTerminated,
		}},
	}
	for _, tt := range tests {
		for e := EventRing; e <= EventShutdown; e++ {
			t.Run(tt.from.String()+"/"+e.String(), func(t *testing.T) {
				got, err := Transition(tt.from, e)
				want := tt.to[e]
				if want == invalid {
					if !errors.Is(err, ErrInvalidTransition) {
						t.Fatalf("Transition(%s, %s) = %s, %v; want ErrInvalidTransition", tt.from, e, got, err)
					}
					if got != tt.from {
						t.Fatalf("invalid transition moved %s to %s", tt.from, got)
					}
					return
				}
				if err != nil || got != want {
					t.Fatalf("Transition(%s, %s) = %s, %v; want %s", tt.from, e, got, err, want)
				}
			})
		}
	}
}

func TestTransitionUnknownValues(t *testing.T) {
	if _, err := Transition(State(42), EventAck); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("unknown state: err = %v", err)
	}
	if _, err := Transition(StateConfirmed, Event(99)); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("unknown event: err = %v", err)
	}
	if s := State(42).String(); s != "state(42)" {
		t.Fatalf("State(42).String() = %q", s)
	}
	if s := Event(99).String(); s != "event(99)" {
		t.Fatalf("Event(99).String() = %q", s)
	}
}

// A whole call, as the UAS sees it: the path an answered call takes.
func TestTransitionCallPaths(t *testing.T) {
	paths := []struct {
		name   string
		events []Event
		end    State
	}{
		{"answered and hung up by caller", []Event{EventRing, EventAnswer, EventAck, EventReinvite, EventBye}, StateTerminated},
		{"canceled while ringing", []Event{EventRing, EventRing, EventCancel}, StateTerminated},
		{"rejected", []Event{EventReject}, StateTerminated},
		{"2xx never acknowledged", []Event{EventAnswer, EventAnswer, EventAckTimeout}, StateTerminated},
		{"cancel crossing the 200", []Event{EventRing, EventAnswer, EventCancel, EventAck}, StateConfirmed},
		{"retransmitted bye after the end", []Event{EventAnswer, EventAck, EventHangup, EventBye, EventAck}, StateTerminated},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			s := StateTrying
			for _, e := range p.events {
				var err error
				if s, err = Transition(s, e); err != nil {
					t.Fatalf("%s: %v", e, err)
				}
			}
			if s != p.end {
				t.Fatalf("ended in %s, want %s", s, p.end)
			}
		})
	}
}

func TestEndReason(t *testing.T) {
	tests := []struct {
		e    Event
		want string
	}{
		{EventHangup, "local-hangup"},
		{EventBye, "remote-hangup"},
		{EventMediaTimeout, "media-timeout"},
		{EventAckTimeout, "ack-timeout"},
		{EventShutdown, "shutdown"},
		{EventCancel, "canceled"},
		{EventReject, "rejected"},
		{EventNoAnswer, "no-answer"},
		{EventAck, "failed"},
	}
	for _, tt := range tests {
		if got := endReasonOf(tt.e).String(); got != tt.want {
			t.Errorf("endReasonOf(%s) = %q, want %q", tt.e, got, tt.want)
		}
	}
	if EndNone.String() != "" {
		t.Errorf("EndNone.String() = %q", EndNone.String())
	}
}
