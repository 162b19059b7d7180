package store

import (
	"context"
	"time"
)

// RecordingStatus is a recording's status, as Twilio's Recording resource
// reports it.
type RecordingStatus string

// The recording statuses.
const (
	RecordingInProgress RecordingStatus = "in-progress"
	RecordingPaused     RecordingStatus = "paused"
	RecordingStopped    RecordingStatus = "stopped"
	RecordingProcessing RecordingStatus = "processing"
	RecordingCompleted  RecordingStatus = "completed"
	RecordingAbsent     RecordingStatus = "absent"
	RecordingFailed     RecordingStatus = "failed"
)

// Final reports whether the recording is finished (its file is complete or
// there is none).
func (s RecordingStatus) Final() bool {
	switch s {
	case RecordingCompleted, RecordingAbsent, RecordingFailed:
		return true
	}
	return false
}

// Recording sources (Twilio's "source" field).
const (
	SourceRecordVerb         = "RecordVerb"
	SourceStartCallRecording = "StartCallRecordingAPI"
	SourceDialVerb           = "DialVerb"
	SourceOutboundAPI        = "OutboundAPI"
	SourceConference         = "Conference"
)

// A Recording is the record of one recording and its file.
type Recording struct {
	SID           string
	AccountSID    string
	CallSID       string
	ConferenceSID string
	Source        string
	Status        RecordingStatus
	Channels      int
	Track         string // inbound, outbound or both
	StartTime     time.Time
	Duration      time.Duration // millisecond precision
	ErrorCode     int
	// File is the WAV file's path relative to the data directory.
	File        string
	DateCreated time.Time
	DateUpdated time.Time
}

// RecordingFilter selects recordings; zero fields select everything.
type RecordingFilter struct {
	AccountSID    string
	CallSID       string
	ConferenceSID string
	// CreatedAfter/CreatedBefore bound DateCreated (inclusive).
	CreatedAfter, CreatedBefore time.Time
}

// RecordingStore is the part of Store that keeps recordings.
type RecordingStore interface {
	// CreateRecording inserts r and returns it as stored. It, and
	// UpdateRecording, append in the same transaction an EventRecording
	// event named after the recording's new status.
	CreateRecording(ctx context.Context, r Recording) (Recording, error)
	// Recording returns the recording with this SID owned by accountSID.
	Recording(ctx context.Context, accountSID, sid string) (Recording, error)
	// ListRecordings returns one page of the recordings f selects.
	ListRecordings(ctx context.Context, f RecordingFilter, p Page) ([]Recording, bool, error)
	// UpdateRecording reads the recording, lets update change it and writes
	// it back in one transaction. SID, AccountSID, CallSID and DateCreated
	// cannot change.
	UpdateRecording(ctx context.Context, accountSID, sid string, update func(*Recording) error) (Recording, error)
	// DeleteRecording deletes the recording's row (its file is the caller's).
	DeleteRecording(ctx context.Context, accountSID, sid string) error
	// UnfinishedRecordings returns the recordings whose status is not final:
	// at start-up, those a stopped process left behind.
	UnfinishedRecordings(ctx context.Context) ([]Recording, error)
}
