package store

import (
	"context"
	"time"
)

// CallStatus is a call's status, as Twilio's CallStatus parameter and call
// resource report it.
type CallStatus string

// The call statuses (seed 002, "CallStatus").
const (
	CallQueued     CallStatus = "queued"
	CallRinging    CallStatus = "ringing"
	CallInProgress CallStatus = "in-progress"
	CallCompleted  CallStatus = "completed"
	CallBusy       CallStatus = "busy"
	CallFailed     CallStatus = "failed"
	CallNoAnswer   CallStatus = "no-answer"
	CallCanceled   CallStatus = "canceled"
)

// Final reports whether the status is one a call ends in.
func (s CallStatus) Final() bool {
	switch s {
	case CallCompleted, CallBusy, CallFailed, CallNoAnswer, CallCanceled:
		return true
	}
	return false
}

// Valid reports whether s is one of Twilio's call statuses.
func (s CallStatus) Valid() bool {
	switch s {
	case CallQueued, CallRinging, CallInProgress:
		return true
	}
	return s.Final()
}

// Call directions.
const (
	DirectionInbound      = "inbound"
	DirectionOutboundAPI  = "outbound-api"
	DirectionOutboundDial = "outbound-dial"
)

// A Call is the record of one call leg. Zero times are "not yet" (null in the
// API).
type Call struct {
	SID            string
	AccountSID     string
	ParentCallSID  string
	PhoneNumberSID string
	From, To       string
	Status         CallStatus
	Direction      string
	APIVersion     string
	ForwardedFrom  string
	CallerName     string
	AnsweredBy     string
	StartTime      time.Time // when the call started (rang, or was answered)
	AnsweredAt     time.Time // when it was answered; zero if never
	EndTime        time.Time // when it ended; zero while it lasts
	Duration       int       // seconds from answer to end, set when it ends
	DateCreated    time.Time
	DateUpdated    time.Time
	// Node is the switchboard process running the call (set when the call
	// is recorded, never changed; not shown by the API): after a crash,
	// FinalizeOpenCalls closes that node's calls and no other's.
	Node string
}

// CallFilter selects calls; zero fields select everything.
type CallFilter struct {
	AccountSID    string
	To, From      string
	Status        CallStatus
	ParentCallSID string
	// StartedAfter/StartedBefore bound StartTime (inclusive); zero: no bound.
	StartedAfter, StartedBefore time.Time
	// EndedAfter/EndedBefore bound EndTime (inclusive); zero: no bound.
	EndedAfter, EndedBefore time.Time
}

// A Notification records a problem met while running a call (Twilio's
// Notification resource, the debugger's alert): Twilio's error code, the
// request that failed and the answer it got.
type Notification struct {
	SID              string
	AccountSID       string
	CallSID          string
	APIVersion       string
	ErrorCode        int
	Log              int // 0 error, 1 warning
	MessageText      string
	MoreInfo         string
	MessageDate      time.Time
	RequestURL       string
	RequestMethod    string
	RequestVariables string
	ResponseHeaders  string
	ResponseBody     string
	DateCreated      time.Time
	DateUpdated      time.Time
}

// NotificationFilter selects notifications; zero fields select everything.
type NotificationFilter struct {
	AccountSID string
	CallSID    string
	// Log selects one level when not nil.
	Log *int
	// After/Before bound MessageDate (inclusive); zero: no bound.
	After, Before time.Time
}

// CallStore is the part of Store that keeps calls and their notifications.
type CallStore interface {
	// CreateCall inserts c and returns it as stored. ErrNotFound if the
	// account does not exist; ErrConflict if the SID is taken.
	CreateCall(ctx context.Context, c Call) (Call, error)
	// Call returns the call with this SID owned by accountSID.
	Call(ctx context.Context, accountSID, sid string) (Call, error)
	// ListCalls returns one page of the calls f selects and whether more rows
	// lie beyond it.
	ListCalls(ctx context.Context, f CallFilter, p Page) ([]Call, bool, error)
	// UpdateCall reads the call, lets update change it and writes it back in
	// one transaction. SID, AccountSID and DateCreated cannot change; a call
	// whose status is final cannot leave it.
	UpdateCall(ctx context.Context, accountSID, sid string, update func(*Call) error) (Call, error)
	// FinalizeOpenCalls closes the records of calls left open by a process
	// that stopped mid-call: answered calls become completed, the others
	// failed, ending (EndTime and DateUpdated) at the later of their last
	// update and their node's last Heartbeat; Duration runs from the answer
	// to that end. Only node's calls are closed
	// ("": every node's, for a database no other process shares). It returns
	// how many it closed.
	FinalizeOpenCalls(ctx context.Context, node string) (int, error)

	// CreateNotification inserts n and returns it as stored, and appends
	// its EventNotification event (named "error" or "warning" after Log)
	// in the same transaction.
	CreateNotification(ctx context.Context, n Notification) (Notification, error)
	// Notification returns the notification with this SID owned by accountSID.
	Notification(ctx context.Context, accountSID, sid string) (Notification, error)
	// ListNotifications returns one page of the notifications f selects.
	ListNotifications(ctx context.Context, f NotificationFilter, p Page) ([]Notification, bool, error)
}
