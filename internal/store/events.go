package store

import (
	"context"
	"time"
)

// Event types of the event log. A call's row is a projection of its call
// events: the interpreter emits them (SaveCall), it never writes the row
// itself. Later issues add queue types.
const (
	// EventCall is a change of a call's record (created, queued,
	// initiated, ringing, answered, completed...); Payload is the JSON of
	// CallChange.
	EventCall = "call"
	// EventWebhook is one HTTP exchange with the user's app (TwiML fetch,
	// action, status or recording callback); Payload is Twilio's Call Event
	// shape: {"request":{"method","url","parameters"},"response":{"response_code",
	// "request_duration","content_type","response_body","date_created"}}.
	EventWebhook = "webhook"
	// EventNotification is a warning or error met running the call (the
	// Notification row is written in the same transaction); Payload is
	// {"sid","error_code","log","message"}.
	EventNotification = "notification"
	// EventRecording is a change of a recording's status; Payload is
	// {"sid","status","duration_ms","error_code","source","track"}.
	EventRecording = "recording"
	// EventCallback records that a callback was queued in the outbox (a
	// recording status callback; a call's status callbacks are queued with
	// its EventCall events); Payload is {"url","method"}.
	EventCallback = "callback"
	// EventConference is a change of a conference's record (created,
	// started, ended...); ResourceSID is the conference's SID, Name by
	// convention Twilio's StatusCallbackEvent ("conference-start",
	// "conference-end"; the status when empty), Payload by default the JSON
	// of ConferenceChange. Written by SaveConference.
	EventConference = "conference"
	// EventParticipant is a change of a conference participant's record
	// (joined, muted, held, left...); ResourceSID is the participant's SID,
	// CallSID its call, Name by convention Twilio's StatusCallbackEvent
	// ("participant-join", "participant-mute", "participant-leave"...; the
	// status when empty), Payload by default the JSON of ParticipantChange.
	// Written by SaveConference.
	EventParticipant = "participant"
	// EventQueue is a call joining, leaving or being bridged out of a
	// queue; ResourceSID is the queue's SID, CallSID the member's call, Name
	// queue-joined, queue-left, queue-bridged or queue-dequeued, Payload
	// the JSON of QueueChange.
	EventQueue = "queue"
)

// An Event is one row of the append-only event log.
type Event struct {
	// Seq orders the log; the store assigns it, increasing with each
	// insert (gaps are allowed). On PostgreSQL, transactions running at
	// once may commit out of Seq order, so a reader following the log by
	// Seq may see a lower Seq appear after a higher one; the events of one
	// call, written one after the other, commit in Seq order.
	Seq        int64
	AccountSID string
	// CallSID is the call the event belongs to; "" when none.
	CallSID string
	// ResourceSID is the resource that changed (a call, recording,
	// notification, conference or participant SID); CallSID for call events.
	ResourceSID string
	Type        string
	// Name says what happened within the type: a call's status
	// ("queued", "initiated", "ringing", "in-progress", "completed"...),
	// "request" for a webhook exchange, a recording's status.
	Name    string
	Time    time.Time // UTC, microsecond precision
	Payload []byte    // JSON; stored as {} when empty
}

// EventFilter selects events for ListEvents; AccountSID is required.
type EventFilter struct {
	AccountSID  string
	CallSID     string // when not empty
	Type        string // when not empty
	ResourceSID string // when not empty
	// ConferenceSID, when not empty, selects the events of that conference
	// and of its participants (whose ResourceSID is the conference's or one
	// of its participants' SIDs): the timeline of the room.
	ConferenceSID string
}

// A Callback is one queued HTTP request to the user's app whose answer is
// ignored (a status, recording or conference callback): a row of the
// outbox. Callbacks are written in the same transaction as the event that
// caused them, and delivered at least once by whichever node holds their
// lease; the callbacks of one call are delivered one at a time, in ID order.
type Callback struct {
	// ID is assigned by the store, increasing with each insert.
	ID         int64
	AccountSID string // the request is signed with this account's auth token
	// CallSID orders delivery: a call's callbacks go one at a time, oldest
	// first. "" for callbacks of no call (they are ordered by nothing); a
	// conference's callbacks carry the conference's SID instead (see
	// SaveConference), which orders them the same way.
	CallSID string
	URL     string
	Method  string // GET or POST; empty is POST
	// Params is the form, URL-encoded (SequenceNumber, Timestamp and
	// CallbackSource already set by whoever queued it).
	Params string
	// MaxAttempts bounds delivery attempts that fail over HTTP (at least
	// 1); Attempts counts those made so far.
	MaxAttempts int
	Attempts    int
	// NextAttempt is when the callback is due (zero: at once).
	NextAttempt time.Time
	DateCreated time.Time
}

// EventStore is the event log and the callback outbox.
type EventStore interface {
	// SaveCall writes c as the call's row (inserted when new, replaced
	// otherwise; DateCreated is kept, DateUpdated set), appends ev (its
	// AccountSID, CallSID and ResourceSID are set from c, and Type to
	// EventCall when empty) and queues cbs, in one transaction, and returns
	// the row as stored. ErrNotFound if the account does not exist;
	// ErrConflict if the stored row's status is final and c's differs (or
	// the SID is another account's call).
	//
	// DateUpdated is c.DateUpdated, or now when zero; a new row's zero
	// DateCreated is its DateUpdated. An empty ev.Time is DateUpdated; a
	// call event's empty Name is c.Status and its empty Payload the
	// CallChange that c reads as (without Cause and SIPCode). Callbacks
	// without AccountSID or CallSID take c's.
	SaveCall(ctx context.Context, c Call, ev Event, cbs []Callback) (Call, error)
	// AppendEvent appends ev and queues cbs in one transaction, and
	// returns ev as stored (with Seq). ev needs AccountSID and Type; an
	// empty Time is now. Callbacks without AccountSID or CallSID take ev's.
	// ErrNotFound if the account does not exist.
	AppendEvent(ctx context.Context, ev Event, cbs []Callback) (Event, error)
	// AppendEvents appends evs (events that trigger no callback, such as
	// webhook exchanges) in one transaction, in order.
	AppendEvents(ctx context.Context, evs []Event) error
	// ListEvents returns up to limit events f selects with Seq > afterSeq,
	// in Seq order, and whether more follow. limit must be at least 1.
	ListEvents(ctx context.Context, f EventFilter, afterSeq int64, limit int) ([]Event, bool, error)
	// DeleteCall deletes a finished call's row with its events and
	// notifications (its recordings and queued callbacks stay). ErrNotFound
	// when there is no such call; ErrConflict when its status is not final.
	DeleteCall(ctx context.Context, accountSID, sid string) error

	// ClaimCallbacks leases up to limit due callbacks (NextAttempt <= now)
	// to node until now+lease, and returns them in ID order. Only the
	// oldest pending callback of each call is eligible, whether it is due
	// or not, leased or not, so a call's callbacks are delivered one at a
	// time and in order; a callback leased to another node is skipped
	// until its lease expires (the node died). Concurrent claimers, on
	// this process or others sharing the database, never get the same
	// callback while a lease holds.
	ClaimCallbacks(ctx context.Context, node string, now time.Time, lease time.Duration, limit int) ([]Callback, error)
	// ExtendLeases pushes the leases node holds to until (a heartbeat).
	ExtendLeases(ctx context.Context, node string, until time.Time) error
	// AckCallback removes a delivered (or abandoned) callback that node
	// holds. ErrNotFound if node no longer holds it.
	AckCallback(ctx context.Context, node string, id int64) error
	// RetryCallback records a failed attempt of a callback node holds,
	// releases the lease and makes it due again at next. ErrNotFound if
	// node no longer holds it.
	RetryCallback(ctx context.Context, node string, id int64, next time.Time) error
	// PendingCallbacks counts the callbacks not yet delivered (queued,
	// leased or waiting for a retry).
	PendingCallbacks(ctx context.Context) (int, error)
}

// QueueChange is the payload of an EventQueue event: the queue's name,
// where the call stood in it (from 1; 0 once out) and its size after the
// change, and how long the call had waited.
type QueueChange struct {
	Queue    string `json:"queue"`
	Position int    `json:"position"`
	Size     int    `json:"size"`
	// Waited is the wait in seconds so far (Twilio's QueueTime).
	Waited int `json:"wait_time"`
	// Result is the Enqueue's QueueResult, for a call leaving.
	Result string `json:"result,omitempty"`
}

// CallChange is the payload of an EventCall event: the call's status and
// times after the change, and what caused it.
type CallChange struct {
	Status     CallStatus `json:"status"`
	Direction  string     `json:"direction,omitempty"`
	From       string     `json:"from,omitempty"`
	To         string     `json:"to,omitempty"`
	ParentSID  string     `json:"parent_call_sid,omitempty"`
	Duration   int        `json:"duration,omitempty"`
	SIPCode    int        `json:"sip_response_code,omitempty"`
	AnsweredBy string     `json:"answered_by,omitempty"`
	// Cause says why, in a few words: "api", "redirect", "hangup by caller",
	// "busy (486)", "timeout"...
	Cause string `json:"cause,omitempty"`
}
