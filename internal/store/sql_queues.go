package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const queueColumns = "sid, account_sid, friendly_name, max_size, wait_total_ms, dequeued, date_created, date_updated"

func scanQueue(sc scanner) (Queue, error) {
	var q Queue
	var maxSize, waitMS, created, updated int64
	if err := sc.Scan(&q.SID, &q.AccountSID, &q.FriendlyName, &maxSize, &waitMS, &q.Dequeued, &created, &updated); err != nil {
		return Queue{}, err
	}
	q.MaxSize, q.WaitTotal = int(maxSize), time.Duration(waitMS)*time.Millisecond
	q.DateCreated, q.DateUpdated = fromMicros(created), fromMicros(updated)
	return q, nil
}

func (s *sqlStore) CreateQueue(ctx context.Context, q Queue) (Queue, error) {
	if q.SID == "" || q.AccountSID == "" || q.FriendlyName == "" {
		return Queue{}, fmt.Errorf("%w: queue without SID, account or name", ErrInvalid)
	}
	q.DateCreated, q.DateUpdated = truncate(q.DateCreated), truncate(q.DateUpdated)
	err := s.write(ctx, "create queue", q.SID, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO queues ("+queueColumns+") VALUES ("+placeholders(8)+")",
			q.SID, q.AccountSID, q.FriendlyName, q.MaxSize, q.WaitTotal.Milliseconds(), q.Dequeued,
			micros(q.DateCreated), micros(q.DateUpdated))
		if err != nil {
			return fmt.Errorf("create queue %s: %w", q.FriendlyName, classify(err))
		}
		return nil
	})
	if err != nil {
		return Queue{}, err
	}
	return q, nil
}

func (s *sqlStore) Queue(ctx context.Context, accountSID, sid string) (Queue, error) {
	q, err := scanQueue(s.r.QueryRowContext(ctx, "SELECT "+queueColumns+" FROM queues WHERE sid = $1 AND account_sid = $2", sid, accountSID))
	if err != nil {
		return Queue{}, notFound(err, "queue", sid)
	}
	return q, nil
}

func (s *sqlStore) QueueByName(ctx context.Context, accountSID, friendlyName string) (Queue, error) {
	q, err := scanQueue(s.r.QueryRowContext(ctx, "SELECT "+queueColumns+" FROM queues WHERE account_sid = $1 AND friendly_name = $2", accountSID, friendlyName))
	if err != nil {
		return Queue{}, notFound(err, "queue", friendlyName)
	}
	return q, nil
}

func (s *sqlStore) ListQueues(ctx context.Context, f QueueFilter, p Page) ([]Queue, bool, error) {
	if f.AccountSID == "" {
		return nil, false, fmt.Errorf("%w: queue filter without AccountSID", ErrInvalid)
	}
	var q query
	q.add("SELECT ", queueColumns, " FROM queues WHERE account_sid = ", q.arg(f.AccountSID))
	if err := q.page(p); err != nil {
		return nil, false, err
	}
	return list(ctx, s.r, "queues", &q, p, scanQueue)
}

func (s *sqlStore) UpdateQueue(ctx context.Context, accountSID, sid string, update func(*Queue) error) (Queue, error) {
	var out Queue
	err := s.write(ctx, "update queue", sid, func(ctx context.Context, tx *sql.Tx) error {
		q, err := scanQueue(tx.QueryRowContext(ctx, "SELECT "+queueColumns+" FROM queues WHERE sid = $1 AND account_sid = $2"+s.forUpdate(), sid, accountSID))
		if err != nil {
			return notFound(err, "queue", sid)
		}
		orig := q
		if err := update(&q); err != nil {
			return err
		}
		q.SID, q.AccountSID, q.DateCreated = orig.SID, orig.AccountSID, orig.DateCreated
		q.WaitTotal, q.Dequeued = orig.WaitTotal, orig.Dequeued
		q.DateUpdated = truncate(q.DateUpdated)
		if _, err := tx.ExecContext(ctx, "UPDATE queues SET friendly_name = $1, max_size = $2, date_updated = $3 WHERE sid = $4",
			q.FriendlyName, q.MaxSize, micros(q.DateUpdated), q.SID); err != nil {
			return fmt.Errorf("update queue %s: %w", sid, classify(err))
		}
		out = q
		return nil
	})
	return out, err
}

func (s *sqlStore) QueueWaited(ctx context.Context, accountSID, sid string, wait time.Duration, at time.Time) error {
	return s.write(ctx, "queue wait", sid, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE queues SET wait_total_ms = wait_total_ms + $1, dequeued = dequeued + 1, date_updated = $2 WHERE sid = $3 AND account_sid = $4",
			wait.Milliseconds(), micros(at), sid, accountSID)
		if err != nil {
			return fmt.Errorf("queue wait %s: %w", sid, classify(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: queue %s", ErrNotFound, sid)
		}
		return nil
	})
}

func (s *sqlStore) DeleteQueue(ctx context.Context, accountSID, sid string) error {
	return s.write(ctx, "delete queue", sid, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM queues WHERE sid = $1 AND account_sid = $2", sid, accountSID)
		if err != nil {
			return fmt.Errorf("delete queue %s: %w", sid, classify(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: queue %s", ErrNotFound, sid)
		}
		return nil
	})
}
