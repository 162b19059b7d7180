package store

import (
	"context"
	"time"
)

// DefaultQueueMaxSize is a new queue's MaxSize (Twilio's default) and
// MaxQueueMaxSize the largest allowed.
const (
	DefaultQueueMaxSize = 100
	MaxQueueMaxSize     = 5000
)

// A Queue is a named call queue of an account (Twilio's Queue resource):
// <Enqueue> puts calls in it, <Dial><Queue> and the Members resource take
// them out. Its current members live in the process running their calls
// (package voice); the store keeps the queue and how long its dequeued
// members waited.
type Queue struct {
	SID          string
	AccountSID   string
	FriendlyName string // unique in the account; at most 64 characters
	MaxSize      int
	// WaitTotal is the summed wait of the Dequeued members: AverageWaitTime
	// is their mean.
	WaitTotal   time.Duration
	Dequeued    int64
	DateCreated time.Time
	DateUpdated time.Time
}

// AverageWaitTime is the mean wait of the members dequeued so far, in whole
// seconds (Twilio's average_wait_time); 0 before the first.
func (q Queue) AverageWaitTime() int {
	if q.Dequeued == 0 {
		return 0
	}
	return int((q.WaitTotal / time.Duration(q.Dequeued)).Round(time.Second) / time.Second)
}

// QueueFilter selects queues for ListQueues.
type QueueFilter struct {
	AccountSID string // required
}

// QueueStore keeps call queues.
type QueueStore interface {
	// CreateQueue inserts q and returns it as stored. ErrConflict if the
	// account has a queue of that FriendlyName (or the SID is taken).
	CreateQueue(ctx context.Context, q Queue) (Queue, error)
	// Queue returns the queue with this SID owned by accountSID.
	Queue(ctx context.Context, accountSID, sid string) (Queue, error)
	// QueueByName returns the account's queue of that FriendlyName.
	QueueByName(ctx context.Context, accountSID, friendlyName string) (Queue, error)
	// ListQueues returns one page of the queues f selects and whether more
	// rows lie beyond it in the direction of travel.
	ListQueues(ctx context.Context, f QueueFilter, p Page) ([]Queue, bool, error)
	// UpdateQueue reads the queue, lets update change it (FriendlyName,
	// MaxSize) and writes it back in one transaction; ErrConflict when the
	// new name is taken in the account.
	UpdateQueue(ctx context.Context, accountSID, sid string, update func(*Queue) error) (Queue, error)
	// QueueWaited adds the wait of one dequeued member to the queue's
	// average.
	QueueWaited(ctx context.Context, accountSID, sid string, wait time.Duration, at time.Time) error
	// DeleteQueue deletes the queue.
	DeleteQueue(ctx context.Context, accountSID, sid string) error
}
