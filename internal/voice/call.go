package voice

import (
	"net/url"
	"slices"
	"time"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// A Call describes one call to the interpreter, however it started: an
// incoming call routed to a number (inbound), a call placed through the REST
// API (outbound-api) or, next, a leg dialled by <Dial> (outbound-dial). The
// interpreter runs every kind the same way; answering is a step only inbound
// calls take, dialing one only outbound calls take.
type Call struct {
	// Account owns the call; its auth token signs the webhooks.
	Account store.Account
	// Direction is store.DirectionInbound, DirectionOutboundAPI or
	// DirectionOutboundDial.
	Direction string
	// From and To are the caller and callee as Twilio reports them.
	From, To string
	// PhoneNumberSID is the number an inbound call was routed to.
	PhoneNumberSID string
	// ParentCallSID is the call that created this one, if any.
	ParentCallSID string

	// URL and Method fetch the call's TwiML (Method default POST);
	// FallbackURL and FallbackMethod are tried when it fails. Twiml, when
	// set, is the document itself and no URL is fetched first.
	URL, Method                 string
	FallbackURL, FallbackMethod string
	Twiml                       string

	// StatusCallback receives the call progress events listed in
	// StatusCallbackEvents (initiated, ringing, answered, completed;
	// default completed).
	StatusCallback       string
	StatusCallbackMethod string
	StatusCallbackEvents []string

	// Params are transport parameters added to every request of the call
	// (SipCallId, SipSourceIp, SipHeader_X-...).
	Params url.Values

	// Outbound calls only.
	Dial DialRequest
	// SendDigits are sent once the call is answered, before its TwiML runs.
	SendDigits string
	// TimeLimit ends the call this long after it is answered (default
	// DefaultTimeLimit).
	TimeLimit time.Duration
	// Record records the whole call from the answer (nil: not recorded).
	Record *CallRecordingOptions
	// MachineDetection is accepted and answered AnsweredBy=unknown: there is
	// no answering machine detection.
	MachineDetection string
}

// DefaultTimeLimit is how long a call may last (Twilio's default, 4 hours).
const DefaultTimeLimit = 4 * time.Hour

// wants reports whether the status callback asked for event.
func (c *Call) wants(event string) bool {
	if c.StatusCallback == "" {
		return false
	}
	if len(c.StatusCallbackEvents) == 0 {
		return event == "completed"
	}
	return slices.Contains(c.StatusCallbackEvents, event)
}

// An Update changes a live call, as POST .../Calls/{Sid}.json does.
type Update struct {
	// URL (with Method) or Twiml replaces what the call is doing: the
	// running verb stops and the new document runs. On a call not yet
	// answered it is what runs at the answer.
	URL, Method string
	Twiml       string
	// FallbackURL and FallbackMethod replace the call's fallback.
	FallbackURL, FallbackMethod string
	// Status completed hangs the call up (a call not answered yet is
	// canceled); canceled cancels a queued or ringing call and leaves an
	// answered one alone.
	Status store.CallStatus
	// StatusCallback and StatusCallbackMethod replace the call's.
	StatusCallback, StatusCallbackMethod string
	// TimeLimit, when positive, restarts the call's time limit from now.
	TimeLimit time.Duration
}
