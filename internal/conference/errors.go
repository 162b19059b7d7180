package conference

import (
	"errors"

	"github.com/switchboard-voice/switchboard/internal/errcode"
)

// Twilio codes of refusals that package errcode does not name yet.
const (
	// codeConferenceFull is Twilio's 16020 "Conference is full".
	codeConferenceFull = 16020
	// codeLabelInUse is Twilio's 16025 "Dial->Conference: Participant label
	// is in use by another participant" (the REST API reports the same
	// condition as 16026).
	codeLabelInUse = 16025
)

// An Error is a refusal of a Room, with Twilio's error code when Twilio has
// one (0 otherwise). The errors of this package are the sentinel values
// below, returned as they are or wrapped with detail; test them with
// errors.Is and read the code with Code.
type Error struct {
	// Code is Twilio's error code for the condition, 0 when there is none.
	Code int
	msg  string
}

func (e *Error) Error() string { return e.msg }

// The refusals of a Room.
var (
	// ErrFull: the room already holds MaxParticipants participants
	// (Twilio 16020).
	ErrFull = &Error{Code: codeConferenceFull, msg: "conference: room is full"}
	// ErrLabelTaken: another participant of the room has the label
	// (Twilio 16025 for <Conference participantLabel>, 16026 through the
	// REST API).
	ErrLabelTaken = &Error{Code: codeLabelInUse, msg: "conference: participant label is in use by another participant"}
	// ErrLabelTooLong: the label is longer than 128 characters (Twilio 16023;
	// 16024 through the REST API).
	ErrLabelTooLong = &Error{Code: errcode.ParticipantLabelInvalid, msg: "conference: participant label is longer than 128 characters"}
	// ErrLabelInvalid: the label looks like a call SID or contains '/'
	// (Twilio 16023; 16024 through the REST API).
	ErrLabelInvalid = &Error{Code: errcode.ParticipantLabelInvalid, msg: "conference: participant label must not be a call sid or contain '/'"}
	// ErrCoachNotFound: the call to coach is not a participant of the room,
	// or is the coach itself (Twilio 13240).
	ErrCoachNotFound = &Error{Code: errcode.ConfInvalidWhisperSID, msg: "conference: the call to coach is not in the conference"}
	// ErrInvalidOption: a beep or jitterBufferSize value Twilio does not
	// define, or a MaxParticipants outside 2..250 (Twilio 16002).
	ErrInvalidOption = &Error{Code: errcode.ConferenceAttributesInvalid, msg: "conference: invalid conference attribute"}
	// ErrAlreadyJoined: the call is already a participant of the room.
	ErrAlreadyJoined = &Error{msg: "conference: call is already in the conference"}
	// ErrEnded: the room has ended; it accepts nothing more (a new room, with
	// a new SID, takes the next caller of the same name).
	ErrEnded = &Error{msg: "conference: conference has ended"}
	// ErrNotFound: the call is not a participant of the room.
	ErrNotFound = &Error{msg: "conference: participant not found"}
)

// Code returns the Twilio error code of err (an Error of this package,
// possibly wrapped), or 0.
func Code(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}
