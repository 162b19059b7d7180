package conference

import (
	"net/url"
	"strconv"
	"time"
)

// EventType names what happened. The status callback events carry Twilio's
// StatusCallbackEvent names; the beep instructions are not status callbacks:
// they tell the room's owner to play the notification beep to the other
// participants, and are neither numbered nor stored.
type EventType string

// The events of a room.
const (
	ConferenceStart        EventType = "conference-start"
	ConferenceEnd          EventType = "conference-end"
	ParticipantJoin        EventType = "participant-join"
	ParticipantLeave       EventType = "participant-leave"
	ParticipantMute        EventType = "participant-mute"
	ParticipantUnmute      EventType = "participant-unmute"
	ParticipantHold        EventType = "participant-hold"
	ParticipantUnhold      EventType = "participant-unhold"
	ParticipantModify      EventType = "participant-modify"
	ParticipantSpeechStart EventType = "participant-speech-start"
	ParticipantSpeechStop  EventType = "participant-speech-stop"

	// BeepEnter: play the entry beep to everyone in the room but
	// Event.Participant, who just joined (beep true or onEnter).
	BeepEnter EventType = "beep-enter"
	// BeepExit: play the exit beep to everyone still in the room;
	// Event.Participant just left (beep true or onExit, or BeepOnExit set
	// through the API).
	BeepExit EventType = "beep-exit"
)

// StatusCallback reports whether t is one of Twilio's status callback
// events (everything but the beep instructions).
func (t EventType) StatusCallback() bool { return t.Subscription() != "" }

// Subscription returns the statusCallbackEvent value that subscribes to t
// (start, end, join, leave, mute, hold, modify, speaker), or "" for the beep
// instructions.
func (t EventType) Subscription() string {
	switch t {
	case ConferenceStart:
		return "start"
	case ConferenceEnd:
		return "end"
	case ParticipantJoin:
		return "join"
	case ParticipantLeave:
		return "leave"
	case ParticipantMute, ParticipantUnmute:
		return "mute"
	case ParticipantHold, ParticipantUnhold:
		return "hold"
	case ParticipantModify:
		return "modify"
	case ParticipantSpeechStart, ParticipantSpeechStop:
		return "speaker"
	}
	return ""
}

// A LeaveReason says why a participant left. Its String is Twilio's
// ReasonParticipantLeft. Kicked and UpdatedViaAPI read the same on the wire
// but end the conference for different reasons (last-participant-kicked
// against last-participant-left).
type LeaveReason uint8

// Why participants leave. The caller of Room.Leave gives one of the first
// three; the room gives the last two to the participants it removes when it
// ends.
const (
	// LeaveHungUp: the participant's call ended (participant_hung_up).
	LeaveHungUp LeaveReason = iota + 1
	// LeaveKicked: the participant was removed through the REST API, a
	// DELETE of the Participant (participant_updated_via_api).
	LeaveKicked
	// LeaveUpdatedViaAPI: the participant's call was given new TwiML
	// through the REST API, and left the room to run it
	// (participant_updated_via_api).
	LeaveUpdatedViaAPI
	// LeaveModeratorEnded: a participant with endConferenceOnExit left, and
	// the room removed everyone else (moderator_ended_conference).
	LeaveModeratorEnded
	// LeaveConferenceEndedViaAPI: the conference was ended through the REST
	// API (conference_ended_via_api).
	LeaveConferenceEndedViaAPI
)

// String returns Twilio's ReasonParticipantLeft value for r.
func (r LeaveReason) String() string {
	switch r {
	case LeaveHungUp:
		return "participant_hung_up"
	case LeaveKicked, LeaveUpdatedViaAPI:
		return "participant_updated_via_api"
	case LeaveModeratorEnded:
		return "moderator_ended_conference"
	case LeaveConferenceEndedViaAPI:
		return "conference_ended_via_api"
	}
	return "LeaveReason(" + strconv.Itoa(int(r)) + ")"
}

// callStatus is the ParticipantCallStatus a leave for r reports: the call is
// over after a hang-up; otherwise it goes on with the TwiML after its <Dial>
// (or the TwiML the API gave it).
func (r LeaveReason) callStatus() string {
	if r == LeaveHungUp {
		return "completed"
	}
	return "in-progress"
}

// An EndReason is Twilio's ReasonConferenceEnded.
type EndReason string

// Why conferences end.
const (
	EndedViaAPI                EndReason = "conference-ended-via-api"
	EndedLastParticipantLeft   EndReason = "last-participant-left"
	EndedLastParticipantKicked EndReason = "last-participant-kicked"
	EndedModeratorLeft         EndReason = "participant-with-end-conference-on-exit-left"
	EndedModeratorKicked       EndReason = "participant-with-end-conference-on-exit-kicked"
)

// Status is a conference's status as Twilio's Conference resource reports it.
type Status string

// The statuses of a room: init until the conference starts, in-progress
// while it runs, completed once it has ended.
const (
	StatusInit       Status = "init"
	StatusInProgress Status = "in-progress"
	StatusCompleted  Status = "completed"
)

// An Event is one thing that happened in a room, with everything Twilio's
// statusCallback request for it carries (Params) and what the history needs
// to rebuild the room.
type Event struct {
	Type          EventType
	ConferenceSID string
	FriendlyName  string
	AccountSID    string
	// SequenceNumber counts the room's status callback events from 1; beep
	// instructions have 0.
	SequenceNumber int
	Timestamp      time.Time

	// Participant is the participant concerned, as it stands after the
	// event: the one who joined, left, changed or spoke; for
	// conference-start the one whose arrival started it; for
	// conference-end the one whose leaving ended it (zero when the API
	// ended it).
	Participant Participant

	// ReasonParticipantLeft is set on participant-leave.
	ReasonParticipantLeft LeaveReason

	// Set on conference-end.
	ReasonConferenceEnded            EndReason
	CallSIDEndingConference          string
	ParticipantLabelEndingConference string
	Reason                           string // a sentence saying why the conference ended
}

// TimestampLayout is the layout of the Timestamp parameter: RFC 2822 in GMT,
// as in "Thu, 01 Jun 2017 20:48:32 +0000" (the same as package webhook's).
const TimestampLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// Params returns the parameters of the statusCallback request for e, under
// Twilio's names (the seed 000's table and Twilio's current one): booleans
// are "true" or "false", Timestamp is RFC 2822 in GMT. Beep instructions
// have none (nil).
func (e Event) Params() url.Values {
	if !e.Type.StatusCallback() {
		return nil
	}
	v := url.Values{}
	v.Set("ConferenceSid", e.ConferenceSID)
	v.Set("FriendlyName", e.FriendlyName)
	v.Set("AccountSid", e.AccountSID)
	v.Set("SequenceNumber", strconv.Itoa(e.SequenceNumber))
	v.Set("Timestamp", e.Timestamp.UTC().Format(TimestampLayout))
	v.Set("StatusCallbackEvent", string(e.Type))
	if p := e.Participant; p.CallSID != "" {
		v.Set("CallSid", p.CallSID)
		v.Set("Muted", strconv.FormatBool(p.Muted))
		v.Set("Hold", strconv.FormatBool(p.Hold))
		v.Set("Coaching", strconv.FormatBool(p.Coaching))
		v.Set("EndConferenceOnExit", strconv.FormatBool(p.EndConferenceOnExit))
		v.Set("StartConferenceOnEnter", strconv.FormatBool(p.StartConferenceOnEnter))
		if p.Label != "" {
			v.Set("ParticipantLabel", p.Label)
		}
	}
	switch e.Type {
	case ParticipantLeave:
		v.Set("ReasonParticipantLeft", e.ReasonParticipantLeft.String())
		v.Set("ParticipantCallStatus", e.ReasonParticipantLeft.callStatus())
	case ConferenceEnd:
		v.Set("ReasonConferenceEnded", string(e.ReasonConferenceEnded))
		v.Set("Reason", e.Reason)
		if e.CallSIDEndingConference != "" {
			v.Set("CallSidEndingConference", e.CallSIDEndingConference)
		}
		if e.ParticipantLabelEndingConference != "" {
			v.Set("ParticipantLabelEndingConference", e.ParticipantLabelEndingConference)
		}
	}
	return v
}
