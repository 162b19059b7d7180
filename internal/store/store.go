package store

import (
	"context"
	"time"
)

// AccountStatus is the status of an Account: active, suspended or closed
// (Twilio's account_enum_status).
type AccountStatus string

// The account statuses Twilio defines.
const (
	StatusActive    AccountStatus = "active"
	StatusSuspended AccountStatus = "suspended"
	StatusClosed    AccountStatus = "closed"
)

// Valid reports whether s is one of the three statuses.
func (s AccountStatus) Valid() bool {
	switch s {
	case StatusActive, StatusSuspended, StatusClosed:
		return true
	}
	return false
}

// An Account is a tenant: the main account or one of its subaccounts. The main
// account owns itself (OwnerAccountSID == SID); a subaccount is owned by the
// main account. Subaccounts cannot own subaccounts, as on Twilio.
type Account struct {
	SID             string
	OwnerAccountSID string
	FriendlyName    string
	AuthToken       string
	Status          AccountStatus
	DateCreated     time.Time // UTC, microsecond precision
	DateUpdated     time.Time // UTC, microsecond precision
}

// IsMain reports whether a is a main (root) account rather than a subaccount.
func (a Account) IsMain() bool { return a.OwnerAccountSID == a.SID }

// An IncomingPhoneNumber routes calls: an INVITE whose Request-URI user part
// is PhoneNumber, once both are in canonical form (CanonicalPhoneNumber), is
// handled by VoiceURL. PhoneNumber is unique across the whole server, whatever
// the account, in that form: "15551234567" and "+1 555-123-4567" are the same
// number as "+15551234567", and only one account can have it.
type IncomingPhoneNumber struct {
	SID          string
	AccountSID   string
	PhoneNumber  string // canonical: E.164 ("+14155550100") or a SIP user name ("support")
	FriendlyName string
	APIVersion   string

	VoiceURL            string
	VoiceMethod         string
	VoiceFallbackURL    string
	VoiceFallbackMethod string
	VoiceApplicationSID string
	VoiceCallerIDLookup bool

	StatusCallback       string
	StatusCallbackMethod string

	SMSURL            string
	SMSMethod         string
	SMSFallbackURL    string
	SMSFallbackMethod string

	DateCreated time.Time // UTC, microsecond precision
	DateUpdated time.Time // UTC, microsecond precision
}

// A Cursor is a position in a list: lists are ordered by (DateCreated, SID),
// so a cursor made from the last row of a page stays valid however rows are
// added or deleted meanwhile (keyset paging).
type Cursor struct {
	DateCreated time.Time
	SID         string
}

// A Page asks for one page of a list, in ascending (DateCreated, SID) order,
// or descending (newest first) when Desc is set. "After" and "before" follow
// the list's order: in a descending list the rows after a cursor are the
// older ones. At most one of After and Before is set; without either, Offset
// rows are skipped from the start of the list.
type Page struct {
	// Size is the number of rows wanted; it must be at least 1.
	Size int
	// Offset skips rows from the start when neither cursor is set.
	Offset int
	// After selects the rows strictly after the cursor in the list's order.
	After *Cursor
	// Before selects the rows strictly before the cursor in the list's
	// order (the page that ends there), still returned in the list's order.
	Before *Cursor
	// Desc orders the list newest first: (DateCreated, SID) descending, as
	// Twilio lists calls and notifications.
	Desc bool
}

// AccountFilter selects accounts for ListAccounts.
type AccountFilter struct {
	// VisibleTo lists the account with this SID and the subaccounts it owns.
	// It is required.
	VisibleTo string
	// FriendlyName, when not empty, must match exactly.
	FriendlyName string
	// Status, when not empty, must match.
	Status AccountStatus
}

// NumberFilter selects phone numbers for ListNumbers.
type NumberFilter struct {
	// AccountSID is the owning account. It is required.
	AccountSID string
	// PhoneNumber, when not empty, is a pattern: the number must contain it,
	// and '*' stands for any one character (Twilio: "partial numbers, '*' as
	// a wildcard for any digit"). The match ignores case.
	PhoneNumber string
	// FriendlyName, when not empty, must match exactly.
	FriendlyName string
}

// A CommitDelayer trades the latency of writes for the CPU their commits
// cost: with a delay d, a write may wait up to d for its commit, and the
// store commits at most about once per d, many writes at a time. The stores
// Open returns implement it (on PostgreSQL it does nothing); 0, the default,
// commits at once.
type CommitDelayer interface {
	SetCommitDelay(d time.Duration)
}

// Store is switchboard's persistence. One implementation serves SQLite and
// PostgreSQL (see Open); every method is safe for concurrent use.
//
// Methods return ErrNotFound for a SID that does not exist (or exists in
// another account), ErrConflict when a uniqueness rule would be broken, and
// wrap any other failure. A method that fails writes nothing.
type Store interface {
	// CreateAccount inserts a and returns it as stored (times in UTC,
	// truncated to microseconds). ErrConflict if the SID is taken.
	CreateAccount(ctx context.Context, a Account) (Account, error)
	// Account returns the account with this SID.
	Account(ctx context.Context, sid string) (Account, error)
	// MainAccount returns the main (self-owned) account created first.
	// ErrNotFound when there is none yet.
	MainAccount(ctx context.Context) (Account, error)
	// ListAccounts returns one page of the accounts f selects and whether
	// more rows lie beyond it in the direction of travel.
	ListAccounts(ctx context.Context, f AccountFilter, p Page) ([]Account, bool, error)
	// UpdateAccount reads the account, lets update change it and writes it
	// back in one transaction; an error from update aborts with nothing
	// written and is returned as is. SID, OwnerAccountSID and DateCreated
	// cannot change. When the status becomes closed, the account's phone
	// numbers are released (deleted) in the same transaction, as Twilio
	// releases a closed subaccount's numbers. ErrClosed if the account was
	// already closed and update changes its status.
	UpdateAccount(ctx context.Context, sid string, update func(*Account) error) (Account, error)

	// CreateNumber inserts n, its PhoneNumber in canonical form
	// (CanonicalPhoneNumber), and returns it as stored. ErrConflict if that
	// form (or the SID) is already taken by any account;
	// ErrNotFound if the account does not exist; ErrClosed if it is closed
	// (a closed account has no numbers).
	CreateNumber(ctx context.Context, n IncomingPhoneNumber) (IncomingPhoneNumber, error)
	// Number returns the number with this SID owned by accountSID.
	Number(ctx context.Context, accountSID, sid string) (IncomingPhoneNumber, error)
	// FindNumber returns the number whose PhoneNumber is phone in canonical
	// form (CanonicalPhoneNumber), whatever its account: this is how an
	// incoming INVITE is routed. Names match exactly (case-sensitively).
	FindNumber(ctx context.Context, phone string) (IncomingPhoneNumber, error)
	// ListNumbers returns one page of the numbers f selects and whether more
	// rows lie beyond it in the direction of travel.
	ListNumbers(ctx context.Context, f NumberFilter, p Page) ([]IncomingPhoneNumber, bool, error)
	// UpdateNumber reads the number, lets update change it and writes it back
	// in one transaction, like UpdateAccount. SID, AccountSID and DateCreated
	// cannot change. A changed PhoneNumber is stored in canonical form;
	// ErrConflict if that is taken.
	UpdateNumber(ctx context.Context, accountSID, sid string, update func(*IncomingPhoneNumber) error) (IncomingPhoneNumber, error)
	// DeleteNumber deletes the number with this SID owned by accountSID.
	DeleteNumber(ctx context.Context, accountSID, sid string) error

	// Calls and notifications (calls.go).
	CallStore
	// Recordings (recordings.go).
	RecordingStore
	// The event log and the callback outbox (events.go).
	EventStore
	// Conferences and their participants (conferences.go).
	ConferenceStore
	// Call queues (queues.go).
	QueueStore

	// Heartbeat records that node was alive at at: one row per node,
	// replaced at each call, so a node can write it every few seconds
	// whatever its load. After a crash, FinalizeOpenCalls and
	// FinalizeOpenConferences end what the node left open no earlier than
	// its last heartbeat, so a call's duration survives a kill -9.
	// ErrInvalid for an empty node.
	Heartbeat(ctx context.Context, node string, at time.Time) error

	// Close releases the database.
	Close() error
}
