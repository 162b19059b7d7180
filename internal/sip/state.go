package sip

import (
	"fmt"
	"strconv"
)

// State is where a call stands in its INVITE dialog. The same machine serves
// both roles: for an inbound call the events are what switchboard sends and
// receives as the UAS, for an outbound call what it sends and receives as the
// UAC.
//
//	Trying ──Ring──▶ Ringing ──Answer──▶ Answered ──Ack──▶ Confirmed
//	   │                │                   │                  │
//	   └──Reject, Cancel, NoAnswer──────────┴─Bye, Hangup, timeouts──▶ Terminated
type State uint8

// The states of a call.
const (
	// StateTrying: the INVITE was sent or received (100 Trying), no ringing yet.
	StateTrying State = iota
	// StateRinging: 180 Ringing (or 183) was sent or received.
	StateRinging
	// StateAnswered: a 2xx was sent or received; the ACK is outstanding
	// (RFC 3261 §13.3.1.4).
	StateAnswered
	// StateConfirmed: the 2xx was acknowledged; the dialog is confirmed and
	// media flows.
	StateConfirmed
	// StateTerminated: the call is over (rejected, canceled, hung up, timed out).
	StateTerminated
)

var stateNames = [...]string{"trying", "ringing", "answered", "confirmed", "terminated"}

// String returns the lower-case name of s.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Event is something that happens to a call: a request or response sent or
// received, or a timer firing.
type Event uint8

// The events of a call.
const (
	// EventRing: 180 Ringing or 183 Session Progress sent or received.
	EventRing Event = iota
	// EventAnswer: a 2xx to the INVITE sent or received.
	EventAnswer
	// EventReject: a final non-2xx response to the INVITE sent or received.
	EventReject
	// EventCancel: CANCEL received (UAS) or sent (UAC) before the answer.
	EventCancel
	// EventAck: the ACK for the 2xx received (UAS) or sent (UAC).
	EventAck
	// EventBye: BYE received from the far end.
	EventBye
	// EventHangup: BYE sent by switchboard.
	EventHangup
	// EventReinvite: a re-INVITE within the dialog (hold, unhold, new media).
	EventReinvite
	// EventAckTimeout: no ACK for the 2xx within 64*T1 (RFC 3261 §13.3.1.4).
	EventAckTimeout
	// EventNoAnswer: the ring timeout of an outbound call, or the INVITE
	// transaction timing out (Timer B).
	EventNoAnswer
	// EventMediaTimeout: no RTP received for the inactivity timeout.
	EventMediaTimeout
	// EventShutdown: the server is closing.
	EventShutdown
)

var eventNames = [...]string{
	"ring", "answer", "reject", "cancel", "ack", "bye", "hangup", "reinvite",
	"ack-timeout", "no-answer", "media-timeout", "shutdown",
}

// String returns the lower-case name of e.
func (e Event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "event(" + strconv.Itoa(int(e)) + ")"
}

// Transition returns the state a call in state s moves to on event e. An
// event that is legal but changes nothing (a retransmitted ACK, a CANCEL that
// crosses the 200 OK, RFC 3261 §9.2) returns s and no error. An event that
// does not apply in s returns s and an error wrapping ErrInvalidTransition; the
// caller answers it as SIP prescribes (481, 491, 500) without touching the call.
func Transition(s State, e Event) (State, error) {
	switch s {
	case StateTrying, StateRinging:
		switch e {
		case EventRing:
			return StateRinging, nil
		case EventAnswer:
			return StateAnswered, nil
		case EventReject, EventCancel, EventNoAnswer, EventShutdown:
			return StateTerminated, nil
		}
	case StateAnswered:
		switch e {
		case EventAck:
			return StateConfirmed, nil
		case EventAnswer, EventCancel, EventRing, EventReinvite:
			// 2xx retransmission; CANCEL after the final response has no
			// effect (RFC 3261 §9.2); a late 1xx is stale; a re-INVITE may
			// overtake the ACK.
			return s, nil
		case EventBye, EventHangup, EventAckTimeout, EventMediaTimeout, EventShutdown:
			return StateTerminated, nil
		}
	case StateConfirmed:
		switch e {
		case EventAck, EventAnswer, EventCancel, EventRing, EventReinvite:
			return s, nil
		case EventBye, EventHangup, EventMediaTimeout, EventShutdown:
			return StateTerminated, nil
		}
	case StateTerminated:
		switch e {
		case EventAck, EventCancel, EventBye, EventHangup, EventShutdown,
			EventMediaTimeout, EventAckTimeout, EventNoAnswer:
			// Late or retransmitted messages and racing timers after the end.
			return s, nil
		}
	}
	return s, fmt.Errorf("%w: %s in state %s", ErrInvalidTransition, e, s)
}

// EndReason says why a call ended.
type EndReason uint8

// The reasons a call ends.
const (
	// EndNone: the call has not ended.
	EndNone EndReason = iota
	// EndLocalHangup: switchboard hung up (sent BYE).
	EndLocalHangup
	// EndRemoteHangup: the far end hung up (BYE received).
	EndRemoteHangup
	// EndMediaTimeout: no RTP arrived for the media engine's inactivity timeout.
	EndMediaTimeout
	// EndAckTimeout: the 200 OK was never acknowledged.
	EndAckTimeout
	// EndShutdown: the server shut down.
	EndShutdown
	// EndCanceled: the caller canceled before the answer (inbound), or the
	// dialing was canceled (outbound).
	EndCanceled
	// EndRejected: the call was answered with a final error response.
	EndRejected
	// EndNoAnswer: an outbound call was not answered in time.
	EndNoAnswer
	// EndFailed: the call failed for another reason (transport error, no
	// shared codec in the answer).
	EndFailed
)

var endNames = [...]string{
	"", "local-hangup", "remote-hangup", "media-timeout", "ack-timeout",
	"shutdown", "canceled", "rejected", "no-answer", "failed",
}

// String returns the lower-case name of r ("" for EndNone).
func (r EndReason) String() string {
	if int(r) < len(endNames) {
		return endNames[r]
	}
	return "end(" + strconv.Itoa(int(r)) + ")"
}

// endReasonOf maps the event that terminated a call to the reason reported.
func endReasonOf(e Event) EndReason {
	switch e {
	case EventHangup:
		return EndLocalHangup
	case EventBye:
		return EndRemoteHangup
	case EventMediaTimeout:
		return EndMediaTimeout
	case EventAckTimeout:
		return EndAckTimeout
	case EventShutdown:
		return EndShutdown
	case EventCancel:
		return EndCanceled
	case EventReject:
		return EndRejected
	case EventNoAnswer:
		return EndNoAnswer
	}
	return EndFailed
}
