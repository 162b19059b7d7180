package store

import (
	"context"
	"time"
)

// ConferenceStatus is a conference's status, as Twilio's Conference resource
// reports it (conference_enum_status).
type ConferenceStatus string

// The conference statuses. A conference is init from its creation (its first
// participant is waiting) until it starts (at least two participants, one of
// them with startConferenceOnEnter), then in-progress, then completed.
// Insights calls them not_started, in_progress and completed.
const (
	ConferenceInit       ConferenceStatus = "init"
	ConferenceInProgress ConferenceStatus = "in-progress"
	ConferenceCompleted  ConferenceStatus = "completed"
)

// Valid reports whether s is one of the three statuses.
func (s ConferenceStatus) Valid() bool {
	switch s {
	case ConferenceInit, ConferenceInProgress, ConferenceCompleted:
		return true
	}
	return false
}

// Why a conference ended: Twilio's ReasonConferenceEnded values
// (conference_enum_reason_conference_ended; Insights writes them with
// underscores as end_reason).
const (
	ConferenceEndedViaAPI          = "conference-ended-via-api"
	ConferenceEndedLastLeft        = "last-participant-left"
	ConferenceEndedLastKicked      = "last-participant-kicked"
	ConferenceEndedEndOnExitLeft   = "participant-with-end-conference-on-exit-left"
	ConferenceEndedEndOnExitKicked = "participant-with-end-conference-on-exit-kicked"
)

// ConferenceSettings are the settings a conference takes from its first
// participant (later participants' are ignored, as on Twilio): where its
// status and recording callbacks go and whether it is recorded.
type ConferenceSettings struct {
	StatusCallback       string `json:"status_callback,omitempty"`
	StatusCallbackMethod string `json:"status_callback_method,omitempty"`
	// StatusCallbackEvents are the statusCallbackEvent values asked for:
	// start, end, join, leave, mute, hold, modify, speaker, announcement.
	StatusCallbackEvents []string `json:"status_callback_events,omitempty"`
	// Record is do-not-record or record-from-start; Trim trim-silence or
	// do-not-trim.
	Record                        string   `json:"record,omitempty"`
	Trim                          string   `json:"trim,omitempty"`
	RecordingStatusCallback       string   `json:"recording_status_callback,omitempty"`
	RecordingStatusCallbackMethod string   `json:"recording_status_callback_method,omitempty"`
	RecordingStatusCallbackEvents []string `json:"recording_status_callback_events,omitempty"`
	// EventCallbackURL (the deprecated eventCallbackUrl) is told when the
	// conference's recording has ended (conference-record-end).
	EventCallbackURL string `json:"event_callback_url,omitempty"`
}

// A Conference is one named room of an account, from its creation to its end:
// a name is reused by a new Conference (a new SID) once the previous one has
// completed. Zero times are "not yet" (null in the API).
type Conference struct {
	SID          string
	AccountSID   string
	FriendlyName string // the room's name, unique among the account's live rooms; never changes
	Status       ConferenceStatus
	APIVersion   string
	// Region is where the conference is mixed (us1, ie1, ...): the region
	// asked for by the first participant naming one, or the server's.
	Region string
	// MaxParticipants is the maxParticipants of the first participant.
	MaxParticipants int
	StartTime       time.Time // when it started (conference-start); zero before
	EndTime         time.Time // when it ended; zero while it lasts
	// ReasonConferenceEnded is one of the ConferenceEnded... values once
	// completed; Reason says it in words (Twilio's Reason parameter).
	ReasonConferenceEnded string
	Reason                string
	// CallSIDEndingConference and ParticipantLabelEndingConference name the
	// participant whose leaving (or kicking) ended the conference, if one did.
	CallSIDEndingConference          string
	ParticipantLabelEndingConference string
	// UniqueParticipants and MaxConcurrentParticipants are Insights' counts.
	// The store computes them from the participant rows whenever the
	// conference is saved (what SaveConference is given is ignored):
	// UniqueParticipants counts the distinct parties that ever joined (the
	// caller of an inbound participant, the called party of an outbound
	// one), MaxConcurrentParticipants the most participants connected at
	// once, as seen at each save.
	UniqueParticipants        int
	MaxConcurrentParticipants int
	// Tags are Insights' tags (detected conditions such as
	// "no_concurrent_participants"); nil when none.
	Tags     []string
	Settings ConferenceSettings
	// Node is the switchboard process mixing the conference (set when the
	// conference is recorded, never changed; not shown by the API): after a
	// crash, FinalizeOpenConferences closes that node's conferences.
	Node        string
	DateCreated time.Time
	DateUpdated time.Time
}

// ParticipantStatus is a participant's status, as Twilio's Participant
// resource reports it (participant_enum_status).
type ParticipantStatus string

// The participant statuses. A participant added by the Participants API is
// queued, then ringing, while its call is placed; a call joining through
// <Dial><Conference> is connecting, then connected. A participant ends
// complete (it was in the room and left) or failed (its call never made it).
const (
	ParticipantQueued     ParticipantStatus = "queued"
	ParticipantConnecting ParticipantStatus = "connecting"
	ParticipantRinging    ParticipantStatus = "ringing"
	ParticipantConnected  ParticipantStatus = "connected"
	ParticipantComplete   ParticipantStatus = "complete"
	ParticipantFailed     ParticipantStatus = "failed"
)

// Final reports whether the status is one a participant ends in.
func (s ParticipantStatus) Final() bool {
	return s == ParticipantComplete || s == ParticipantFailed
}

// Valid reports whether s is one of Twilio's participant statuses.
func (s ParticipantStatus) Valid() bool {
	switch s {
	case ParticipantQueued, ParticipantConnecting, ParticipantRinging, ParticipantConnected:
		return true
	}
	return s.Final()
}

// Why a participant left: Twilio's ReasonParticipantLeft values (sent with
// participant-leave).
const (
	ParticipantLeftHungUp                   = "participant_hung_up"
	ParticipantLeftUpdatedViaAPI            = "participant_updated_via_api"
	ParticipantLeftConferenceEndedViaAPI    = "conference_ended_via_api"
	ParticipantLeftModeratorEndedConference = "moderator_ended_conference"
	ParticipantLeftAddFailed                = "participant_add_failed"
)

// DirectionOutbound is an outbound participant's Direction (Insights'
// call_direction is inbound or outbound).
const DirectionOutbound = "outbound"

// A Participant is one call's stay in one conference: a call that leaves a
// room and joins it again is a new Participant with a new SID, as each join is
// a participant of its own in Conference Insights. While a participant is
// current (its status not final), its call and its label are unique among
// the room's current participants.
type Participant struct {
	// SID is Insights' participant SID: "CP" and 32 hex digits.
	SID           string
	ConferenceSID string
	AccountSID    string
	CallSID       string
	// Label is the participantLabel, "" when none.
	Label    string
	From, To string
	// Direction is DirectionInbound or DirectionOutbound.
	Direction string
	// CallStatus is the status of the participant's call, in the call
	// resource's vocabulary (Insights' call_status and the ParticipantCallStatus
	// of participant-leave are mapped from it).
	CallStatus CallStatus
	Status     ParticipantStatus
	Muted      bool
	Hold       bool
	// Coaching is set when the participant coaches CallSIDToCoach: only
	// that call hears it.
	Coaching               bool
	CallSIDToCoach         string
	StartConferenceOnEnter bool
	EndConferenceOnExit    bool
	// BeepOnEnter and BeepOnExit are the beep attribute (true: both,
	// onEnter, onExit, false: neither).
	BeepOnEnter      bool
	BeepOnExit       bool
	JitterBufferSize string    // small, medium, large or off
	JoinTime         time.Time // when it joined the room; zero before
	LeaveTime        time.Time // when it left; zero while it is in the room
	// ReasonParticipantLeft is one of the ParticipantLeft... values once
	// the participant has left.
	ReasonParticipantLeft string
	// Node is the switchboard process running the participant's call (set
	// when the participant is recorded, never changed; when empty, the
	// conference's node).
	Node        string
	DateCreated time.Time
	DateUpdated time.Time
}

// IsModerator reports whether the participant could start or end the
// conference, as Insights' is_moderator defines it: startConferenceOnEnter or
// endConferenceOnExit.
func (p Participant) IsModerator() bool { return p.StartConferenceOnEnter || p.EndConferenceOnExit }

// Current reports whether the participant is in the room or on its way in
// (its status is not final).
func (p Participant) Current() bool { return !p.Status.Final() }

// ConferenceFilter selects conferences for ListConferences.
type ConferenceFilter struct {
	// AccountSID is the owning account. It is required.
	AccountSID string
	// FriendlyName, Status, Region and ReasonConferenceEnded, when not
	// empty, must match exactly.
	FriendlyName          string
	Status                ConferenceStatus
	Region                string
	ReasonConferenceEnded string
	// DateCreatedAfter/Before bound DateCreated, DateUpdatedAfter/Before
	// DateUpdated (inclusive); zero: no bound.
	DateCreatedAfter, DateCreatedBefore time.Time
	DateUpdatedAfter, DateUpdatedBefore time.Time
}

// ParticipantFilter selects participants for ListParticipants.
type ParticipantFilter struct {
	// AccountSID is the owning account. It is required.
	AccountSID string
	// ConferenceSID, CallSID and Label, when not empty, must match.
	ConferenceSID string
	CallSID       string
	Label         string
	// Muted, Hold and Coaching, when not nil, must match.
	Muted, Hold, Coaching *bool
	// Current keeps only the participants in the room or on their way in
	// (status not complete or failed), as the 2010-04-01 API lists them;
	// without it every participant that ever was is listed, as Insights
	// does.
	Current bool
}

// Event names of conference and participant events: by convention those of
// Twilio's StatusCallbackEvent parameter.
const (
	ConferenceEventStart        = "conference-start"
	ConferenceEventEnd          = "conference-end"
	ParticipantEventJoin        = "participant-join"
	ParticipantEventLeave       = "participant-leave"
	ParticipantEventMute        = "participant-mute"
	ParticipantEventUnmute      = "participant-unmute"
	ParticipantEventHold        = "participant-hold"
	ParticipantEventUnhold      = "participant-unhold"
	ParticipantEventModify      = "participant-modify"
	ParticipantEventSpeechStart = "participant-speech-start"
	ParticipantEventSpeechStop  = "participant-speech-stop"
)

// ConferenceChange is the default payload of an EventConference event: the
// conference after the change.
type ConferenceChange struct {
	Status                           ConferenceStatus `json:"status"`
	FriendlyName                     string           `json:"friendly_name,omitempty"`
	ReasonConferenceEnded            string           `json:"reason_conference_ended,omitempty"`
	Reason                           string           `json:"reason,omitempty"`
	CallSIDEndingConference          string           `json:"call_sid_ending_conference,omitempty"`
	ParticipantLabelEndingConference string           `json:"participant_label_ending_conference,omitempty"`
}

// ParticipantChange is the default payload of an EventParticipant event: the
// participant after the change.
type ParticipantChange struct {
	Status                ParticipantStatus `json:"status"`
	CallSID               string            `json:"call_sid,omitempty"`
	Label                 string            `json:"label,omitempty"`
	CallStatus            CallStatus        `json:"call_status,omitempty"`
	Muted                 bool              `json:"muted"`
	Hold                  bool              `json:"hold"`
	Coaching              bool              `json:"coaching"`
	CallSIDToCoach        string            `json:"call_sid_to_coach,omitempty"`
	ReasonParticipantLeft string            `json:"reason_participant_left,omitempty"`
}

// ConferenceStore is the part of Store that keeps conferences, their
// participants and, through the event log, their history (list a
// conference's events with ListEvents and EventFilter.ConferenceSID).
type ConferenceStore interface {
	// SaveConference writes c as the conference's row and parts as rows of
	// its participants (each inserted when new, replaced otherwise), appends
	// evs and queues cbs, in one transaction, and returns the conference as
	// stored. Nothing is written when it fails.
	//
	// The conference: DateUpdated is c.DateUpdated, or now when zero; a new
	// row's zero DateCreated is its DateUpdated; an existing row keeps its
	// DateCreated, FriendlyName and Node. UniqueParticipants and
	// MaxConcurrentParticipants are computed (see Conference). ErrConflict if
	// the stored conference is completed and c is not (a completed
	// conference may be saved again, completed, for instance to record its
	// participants leaving), if c is another account's conference, if
	// another live (not completed) conference of the account has c's
	// FriendlyName, or if c is completed while participants of it are
	// still current (stored or given: close them in the same save).
	// ErrNotFound if the account does not exist.
	//
	// A participant: an empty ConferenceSID or AccountSID is c's (another
	// one is ErrInvalid); an empty Node is c's; times default as the
	// conference's, a zero DateUpdated being c's. An existing row keeps its
	// DateCreated and Node. ErrConflict if its stored status is final and
	// the new one differs, if the SID is another conference's or call's
	// participant, or if another current participant of the room has the
	// same call or label.
	//
	// An event: its AccountSID is c's; an empty Type is EventConference; an
	// empty ResourceSID is the participant for an EventParticipant event
	// when parts holds exactly one (ErrInvalid otherwise), c.SID for any
	// other type; when ResourceSID is one of parts, an empty CallSID is that
	// participant's call. An empty Time is c.DateUpdated, an empty Name the
	// status of the conference or participant, an empty Payload its
	// ConferenceChange or ParticipantChange. Events are appended in order.
	//
	// A callback without AccountSID is c's; one without CallSID gets c.SID,
	// so that the callbacks of one conference are delivered one at a time,
	// in order, as a call's are.
	//
	// To create a room by name, look for it with LiveConference and, when
	// there is none, save a new one: ErrConflict then means another writer
	// created it first; look again.
	SaveConference(ctx context.Context, c Conference, parts []Participant, evs []Event, cbs []Callback) (Conference, error)
	// Conference returns the conference with this SID owned by accountSID.
	Conference(ctx context.Context, accountSID, sid string) (Conference, error)
	// ListConferences returns one page of the conferences f selects and
	// whether more rows lie beyond it (Page.Desc for Twilio's newest first).
	ListConferences(ctx context.Context, f ConferenceFilter, p Page) ([]Conference, bool, error)
	// LiveConference returns the account's conference named friendlyName
	// that has not completed (there is at most one). ErrNotFound when there
	// is none.
	LiveConference(ctx context.Context, accountSID, friendlyName string) (Conference, error)

	// Participant returns the participant of the conference whose call SID
	// or label is callSIDOrLabel (as the 2010-04-01 API names participants):
	// the current one, or the one that joined last when none is current.
	Participant(ctx context.Context, accountSID, conferenceSID, callSIDOrLabel string) (Participant, error)
	// ParticipantBySID returns the participant with this (Insights) SID.
	ParticipantBySID(ctx context.Context, accountSID, sid string) (Participant, error)
	// ListParticipants returns one page of the participants f selects and
	// whether more rows lie beyond it; in join order unless Page.Desc.
	ListParticipants(ctx context.Context, f ParticipantFilter, p Page) ([]Participant, bool, error)

	// FinalizeOpenConferences closes what a process that stopped left open:
	// node's conferences not completed become completed (ReasonConferenceEnded
	// last-participant-left, Reason "switchboard restarted") and their
	// current participants, with the current participants of node's calls in
	// other nodes' rooms, leave. Each row ends (EndTime, LeaveTime and
	// DateUpdated) at the later of its last update and its node's last
	// Heartbeat, a room no earlier than the last of its participants. A
	// participant that had got in (connecting or connected) is complete with
	// CallStatus completed and ReasonParticipantLeft participant_hung_up; one
	// whose call was still being placed is failed with CallStatus failed and
	// participant_add_failed, without a LeaveTime. Each change is written with
	// its conference-end or participant-leave event; no callback is queued.
	// node "" closes every node's, for a database no other process shares.
	// It returns how many conferences it closed.
	FinalizeOpenConferences(ctx context.Context, node string) (int, error)
}
