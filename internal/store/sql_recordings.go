package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

const recordingColumns = "sid, account_sid, call_sid, conference_sid, source, status, channels, track, " +
	"start_time, duration_ms, error_code, file, date_created, date_updated"

func scanRecording(sc scanner) (Recording, error) {
	var r Recording
	var status string
	var channels, start, durMS, code, created, updated int64
	if err := sc.Scan(&r.SID, &r.AccountSID, &r.CallSID, &r.ConferenceSID, &r.Source, &status, &channels, &r.Track,
		&start, &durMS, &code, &r.File, &created, &updated); err != nil {
		return Recording{}, err
	}
	r.Status = RecordingStatus(status)
	r.Channels, r.ErrorCode = int(channels), int(code)
	r.StartTime = fromOptMicros(start)
	r.Duration = time.Duration(durMS) * time.Millisecond
	r.DateCreated, r.DateUpdated = fromMicros(created), fromMicros(updated)
	return r, nil
}

func (r *Recording) normalise() {
	r.StartTime = optTruncate(r.StartTime)
	r.Duration = r.Duration.Truncate(time.Millisecond)
	r.DateCreated, r.DateUpdated = truncate(r.DateCreated), truncate(r.DateUpdated)
}

func (s *sqlStore) CreateRecording(ctx context.Context, r Recording) (Recording, error) {
	if r.SID == "" || r.AccountSID == "" || r.Status == "" {
		return Recording{}, fmt.Errorf("%w: recording without SID, account or status", ErrInvalid)
	}
	if r.DateCreated.IsZero() {
		r.DateCreated = time.Now()
	}
	if r.DateUpdated.IsZero() {
		r.DateUpdated = r.DateCreated
	}
	if r.Channels == 0 {
		r.Channels = 1
	}
	r.normalise()
	if err := s.write(ctx, "create recording", r.SID, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			"INSERT INTO recordings ("+recordingColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
			r.SID, r.AccountSID, r.CallSID, r.ConferenceSID, r.Source, string(r.Status), int64(r.Channels), r.Track,
			optMicros(r.StartTime), r.Duration.Milliseconds(), int64(r.ErrorCode), r.File,
			micros(r.DateCreated), micros(r.DateUpdated))
		if err != nil {
			return fmt.Errorf("create recording %s: %w", r.SID, classify(err))
		}
		if err := s.appendRecordingEvent(ctx, tx, r); err != nil {
			return fmt.Errorf("create recording %s: %w", r.SID, err)
		}
		return nil
	}); err != nil {
		return Recording{}, err
	}
	return r, nil
}

// recordingEvent is the payload of an EventRecording event.
type recordingEvent struct {
	SID        string          `json:"sid"`
	Status     RecordingStatus `json:"status"`
	DurationMS int64           `json:"duration_ms"`
	ErrorCode  int             `json:"error_code"`
	Source     string          `json:"source"`
	Track      string          `json:"track"`
}

// appendRecordingEvent appends, within tx, the EventRecording event saying
// that r is now as given.
func (s *sqlStore) appendRecordingEvent(ctx context.Context, tx *sql.Tx, r Recording) error {
	payload, err := json.Marshal(recordingEvent{
		SID: r.SID, Status: r.Status, DurationMS: r.Duration.Milliseconds(), ErrorCode: r.ErrorCode,
		Source: r.Source, Track: r.Track,
	})
	if err != nil {
		return err
	}
	_, err = s.insertEvent(ctx, tx, Event{
		AccountSID: r.AccountSID, CallSID: r.CallSID, ResourceSID: r.SID,
		Type: EventRecording, Name: string(r.Status), Time: r.DateUpdated, Payload: payload,
	})
	return err
}

func (s *sqlStore) Recording(ctx context.Context, accountSID, sid string) (Recording, error) {
	r, err := scanRecording(s.r.QueryRowContext(ctx,
		"SELECT "+recordingColumns+" FROM recordings WHERE sid = $1 AND account_sid = $2", sid, accountSID))
	if err != nil {
		return Recording{}, notFound(err, "recording", sid)
	}
	return r, nil
}

func (s *sqlStore) ListRecordings(ctx context.Context, f RecordingFilter, p Page) ([]Recording, bool, error) {
	var q query
	q.add("SELECT ", recordingColumns, " FROM recordings WHERE 1 = 1")
	if f.AccountSID != "" {
		q.add(" AND account_sid = ", q.arg(f.AccountSID))
	}
	if f.CallSID != "" {
		q.add(" AND call_sid = ", q.arg(f.CallSID))
	}
	if f.ConferenceSID != "" {
		q.add(" AND conference_sid = ", q.arg(f.ConferenceSID))
	}
	if !f.CreatedAfter.IsZero() {
		q.add(" AND date_created >= ", q.arg(micros(f.CreatedAfter)))
	}
	if !f.CreatedBefore.IsZero() {
		q.add(" AND date_created <= ", q.arg(micros(f.CreatedBefore)))
	}
	if err := q.page(p); err != nil {
		return nil, false, err
	}
	rows, err := s.r.QueryContext(ctx, q.sb.String(), q.args...)
	if err != nil {
		return nil, false, fmt.Errorf("list recordings: %w", err)
	}
	defer rows.Close()
	var out []Recording
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list recordings: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list recordings: %w", err)
	}
	out, more := trim(out, p)
	return out, more, nil
}

func (s *sqlStore) UpdateRecording(ctx context.Context, accountSID, sid string, update func(*Recording) error) (Recording, error) {
	var r Recording
	if err := s.write(ctx, "update recording", sid, func(ctx context.Context, tx *sql.Tx) (err error) {
		r, err = s.updateRecording(ctx, tx, accountSID, sid, update)
		return err
	}); err != nil {
		return Recording{}, err
	}
	return r, nil
}

// updateRecording is UpdateRecording within tx.
func (s *sqlStore) updateRecording(ctx context.Context, tx *sql.Tx, accountSID, sid string, update func(*Recording) error) (Recording, error) {
	old, err := scanRecording(tx.QueryRowContext(ctx,
		"SELECT "+recordingColumns+" FROM recordings WHERE sid = $1 AND account_sid = $2"+s.forUpdate(), sid, accountSID))
	if err != nil {
		return Recording{}, notFound(err, "recording", sid)
	}
	r := old
	if err := update(&r); err != nil {
		return Recording{}, err
	}
	r.SID, r.AccountSID, r.CallSID, r.DateCreated = old.SID, old.AccountSID, old.CallSID, old.DateCreated
	if r.Status == "" {
		return Recording{}, fmt.Errorf("%w: empty recording status", ErrInvalid)
	}
	if !r.DateUpdated.After(old.DateUpdated) {
		r.DateUpdated = time.Now()
	}
	r.normalise()
	_, err = tx.ExecContext(ctx,
		"UPDATE recordings SET conference_sid = $1, source = $2, status = $3, channels = $4, track = $5, "+
			"start_time = $6, duration_ms = $7, error_code = $8, file = $9, date_updated = $10 WHERE sid = $11",
		r.ConferenceSID, r.Source, string(r.Status), int64(r.Channels), r.Track,
		optMicros(r.StartTime), r.Duration.Milliseconds(), int64(r.ErrorCode), r.File, micros(r.DateUpdated), sid)
	if err != nil {
		return Recording{}, fmt.Errorf("update recording %s: %w", sid, classify(err))
	}
	if err := s.appendRecordingEvent(ctx, tx, r); err != nil {
		return Recording{}, fmt.Errorf("update recording %s: %w", sid, err)
	}
	return r, nil
}

func (s *sqlStore) DeleteRecording(ctx context.Context, accountSID, sid string) error {
	return s.writeStmt(ctx, "delete recording", sid, func(ctx context.Context, tx *sql.Tx) error {
		res, err := execIn(ctx, tx, s.w, "DELETE FROM recordings WHERE sid = $1 AND account_sid = $2", sid, accountSID)
		if err != nil {
			return fmt.Errorf("delete recording %s: %w", sid, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete recording %s: %w", sid, err)
		} else if n == 0 {
			return fmt.Errorf("%w: recording %s", ErrNotFound, sid)
		}
		return nil
	})
}

func (s *sqlStore) UnfinishedRecordings(ctx context.Context) ([]Recording, error) {
	rows, err := s.r.QueryContext(ctx,
		"SELECT "+recordingColumns+" FROM recordings WHERE status IN ($1, $2, $3, $4) ORDER BY date_created, sid",
		string(RecordingInProgress), string(RecordingPaused), string(RecordingStopped), string(RecordingProcessing))
	if err != nil {
		return nil, fmt.Errorf("unfinished recordings: %w", err)
	}
	defer rows.Close()
	var out []Recording
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, fmt.Errorf("unfinished recordings: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unfinished recordings: %w", err)
	}
	return out, nil
}
