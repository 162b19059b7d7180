package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard-voice/switchboard/internal/errcode"
)

// optMicros stores a time that may be unset: zero is 0.
func optMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func fromOptMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMicros(v)
}

func optTruncate(t time.Time) time.Time { return fromOptMicros(optMicros(t)) }

// ---- calls ----

const callColumns = "sid, account_sid, parent_call_sid, phone_number_sid, from_address, to_address, " +
	"status, direction, api_version, forwarded_from, caller_name, answered_by, " +
	"start_time, answered_at, end_time, duration, date_created, date_updated, node"

func scanCall(sc scanner) (Call, error) {
	var c Call
	var status string
	var start, answered, end, created, updated, duration int64
	if err := sc.Scan(&c.SID, &c.AccountSID, &c.ParentCallSID, &c.PhoneNumberSID, &c.From, &c.To,
		&status, &c.Direction, &c.APIVersion, &c.ForwardedFrom, &c.CallerName, &c.AnsweredBy,
		&start, &answered, &end, &duration, &created, &updated, &c.Node); err != nil {
		return Call{}, err
	}
	c.Status = CallStatus(status)
	c.StartTime, c.AnsweredAt, c.EndTime = fromOptMicros(start), fromOptMicros(answered), fromOptMicros(end)
	c.Duration = int(duration)
	c.DateCreated, c.DateUpdated = fromMicros(created), fromMicros(updated)
	return c, nil
}

// callRowArgs returns the values of a call's columns, in callColumns' order.
func callRowArgs(c Call) []any {
	return []any{c.SID, c.AccountSID, c.ParentCallSID, c.PhoneNumberSID, c.From, c.To,
		string(c.Status), c.Direction, c.APIVersion, c.ForwardedFrom, c.CallerName, c.AnsweredBy,
		optMicros(c.StartTime), optMicros(c.AnsweredAt), optMicros(c.EndTime), int64(c.Duration),
		micros(c.DateCreated), micros(c.DateUpdated), c.Node}
}

// callSetArgs returns the values of the columns an update of a call sets,
// $1 to $15 of callUpdate and of the other updates written like it.
// Its capacity leaves room for the WHERE clause's (four in
// callUpdateKept).
func callSetArgs(c Call) []any {
	return append(make([]any, 0, 19), c.ParentCallSID, c.PhoneNumberSID, c.From, c.To,
		string(c.Status), c.Direction, c.APIVersion, c.ForwardedFrom, c.CallerName, c.AnsweredBy,
		optMicros(c.StartTime), optMicros(c.AnsweredAt), optMicros(c.EndTime), int64(c.Duration),
		micros(c.DateUpdated))
}

func (c *Call) normalise() {
	c.StartTime, c.AnsweredAt, c.EndTime = optTruncate(c.StartTime), optTruncate(c.AnsweredAt), optTruncate(c.EndTime)
	c.DateCreated, c.DateUpdated = truncate(c.DateCreated), truncate(c.DateUpdated)
}

func (s *sqlStore) CreateCall(ctx context.Context, c Call) (Call, error) {
	if c.SID == "" || c.AccountSID == "" || !c.Status.Valid() {
		return Call{}, fmt.Errorf("%w: call without SID, account or valid status", ErrInvalid)
	}
	now := time.Now()
	if c.DateCreated.IsZero() {
		c.DateCreated = now
	}
	if c.DateUpdated.IsZero() {
		c.DateUpdated = c.DateCreated
	}
	c.normalise()
	if err := s.writeStmt(ctx, "create call", c.SID, func(ctx context.Context, tx *sql.Tx) error {
		_, err := execIn(ctx, tx, s.w,
			"INSERT INTO calls ("+callColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
			callRowArgs(c)...)
		if err != nil {
			return fmt.Errorf("create call %s: %w", c.SID, classify(err))
		}
		return nil
	}); err != nil {
		return Call{}, err
	}
	return c, nil
}

func (s *sqlStore) Call(ctx context.Context, accountSID, sid string) (Call, error) {
	c, err := scanCall(s.r.QueryRowContext(ctx,
		"SELECT "+callColumns+" FROM calls WHERE sid = $1 AND account_sid = $2", sid, accountSID))
	if err != nil {
		return Call{}, notFound(err, "call", sid)
	}
	return c, nil
}

func (s *sqlStore) ListCalls(ctx context.Context, f CallFilter, p Page) ([]Call, bool, error) {
	var q query
	q.add("SELECT ", callColumns, " FROM calls WHERE 1 = 1")
	if f.AccountSID != "" {
		q.add(" AND account_sid = ", q.arg(f.AccountSID))
	}
	if f.To != "" {
		q.add(" AND to_address = ", q.arg(f.To))
	}
	if f.From != "" {
		q.add(" AND from_address = ", q.arg(f.From))
	}
	if f.Status != "" {
		q.add(" AND status = ", q.arg(string(f.Status)))
	}
	if f.ParentCallSID != "" {
		q.add(" AND parent_call_sid = ", q.arg(f.ParentCallSID))
	}
	if !f.StartedAfter.IsZero() {
		q.add(" AND start_time >= ", q.arg(micros(f.StartedAfter)))
	}
	if !f.StartedBefore.IsZero() {
		q.add(" AND start_time <> 0 AND start_time <= ", q.arg(micros(f.StartedBefore)))
	}
	if !f.EndedAfter.IsZero() {
		q.add(" AND end_time >= ", q.arg(micros(f.EndedAfter)))
	}
	if !f.EndedBefore.IsZero() {
		q.add(" AND end_time <> 0 AND end_time <= ", q.arg(micros(f.EndedBefore)))
	}
	if err := q.page(p); err != nil {
		return nil, false, err
	}
	rows, err := s.r.QueryContext(ctx, q.sb.String(), q.args...)
	if err != nil {
		return nil, false, fmt.Errorf("list calls: %w", err)
	}
	defer rows.Close()
	var out []Call
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list calls: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list calls: %w", err)
	}
	out, more := trim(out, p)
	return out, more, nil
}

func (s *sqlStore) UpdateCall(ctx context.Context, accountSID, sid string, update func(*Call) error) (Call, error) {
	var c Call
	if err := s.write(ctx, "update call", sid, func(ctx context.Context, tx *sql.Tx) (err error) {
		c, err = s.updateCall(ctx, tx, accountSID, sid, update)
		return err
	}); err != nil {
		return Call{}, err
	}
	return c, nil
}

// updateCall is UpdateCall within tx.
func (s *sqlStore) updateCall(ctx context.Context, tx *sql.Tx, accountSID, sid string, update func(*Call) error) (Call, error) {
	old, err := scanCall(tx.QueryRowContext(ctx,
		"SELECT "+callColumns+" FROM calls WHERE sid = $1 AND account_sid = $2"+s.forUpdate(), sid, accountSID))
	if err != nil {
		return Call{}, notFound(err, "call", sid)
	}
	c := old
	if err := update(&c); err != nil {
		return Call{}, err
	}
	c.SID, c.AccountSID, c.DateCreated = old.SID, old.AccountSID, old.DateCreated
	if !c.Status.Valid() {
		return Call{}, fmt.Errorf("%w: call status %q", ErrInvalid, c.Status)
	}
	if old.Status.Final() && c.Status != old.Status {
		return Call{}, fmt.Errorf("%w: call %s already ended %s", ErrInvalid, sid, old.Status)
	}
	if !c.DateUpdated.After(old.DateUpdated) {
		c.DateUpdated = time.Now()
	}
	c.normalise()
	_, err = tx.ExecContext(ctx,
		"UPDATE calls SET parent_call_sid = $1, phone_number_sid = $2, from_address = $3, to_address = $4, "+
			"status = $5, direction = $6, api_version = $7, forwarded_from = $8, caller_name = $9, answered_by = $10, "+
			"start_time = $11, answered_at = $12, end_time = $13, duration = $14, date_updated = $15 WHERE sid = $16",
		append(callSetArgs(c), sid)...)
	if err != nil {
		return Call{}, fmt.Errorf("update call %s: %w", sid, classify(err))
	}
	return c, nil
}

// openCalls is the condition "the call has not ended", written as the
// partial index calls_open_idx is (migration 00010), so that SQLite uses it.
const openCalls = "status IN ('" + string(CallQueued) + "', '" + string(CallRinging) + "', '" + string(CallInProgress) + "')"

func (s *sqlStore) FinalizeOpenCalls(ctx context.Context, node string) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("finalize open calls: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// A call lasted at least until its node's last heartbeat: the process
	// ran it until then, even if nothing about it was written since.
	if _, err := tx.ExecContext(ctx,
		"UPDATE calls SET date_updated = (SELECT n.heartbeat_at FROM nodes n WHERE n.node = calls.node) "+
			"WHERE "+openCalls+" AND ($1 = '' OR node = $1) "+
			"AND EXISTS (SELECT 1 FROM nodes n WHERE n.node = calls.node AND n.heartbeat_at > calls.date_updated)",
		node); err != nil {
		return 0, fmt.Errorf("finalize open calls: %w", classify(err))
	}
	// A call that was answered completed at its last update; one that never
	// was failed then. Duration runs from the answer to that end.
	res, err := tx.ExecContext(ctx,
		"UPDATE calls SET "+
			"status = CASE WHEN answered_at <> 0 THEN $1 ELSE $2 END, "+
			"end_time = date_updated, "+
			"duration = CASE WHEN answered_at <> 0 THEN (date_updated - answered_at + 500000) / 1000000 ELSE 0 END "+
			"WHERE "+openCalls+" AND ($3 = '' OR node = $3)",
		string(CallCompleted), string(CallFailed), node)
	if err != nil {
		return 0, fmt.Errorf("finalize open calls: %w", classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("finalize open calls: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("finalize open calls: %w", classify(err))
	}
	return int(n), nil
}

// ---- notifications ----

const notificationColumns = "sid, account_sid, call_sid, api_version, error_code, log_level, message_text, " +
	"more_info, message_date, request_url, request_method, request_variables, response_headers, " +
	"response_body, date_created, date_updated"

func scanNotification(sc scanner) (Notification, error) {
	var n Notification
	var code, level, date, created, updated int64
	if err := sc.Scan(&n.SID, &n.AccountSID, &n.CallSID, &n.APIVersion, &code, &level, &n.MessageText,
		&n.MoreInfo, &date, &n.RequestURL, &n.RequestMethod, &n.RequestVariables, &n.ResponseHeaders,
		&n.ResponseBody, &created, &updated); err != nil {
		return Notification{}, err
	}
	n.ErrorCode, n.Log = int(code), int(level)
	n.MessageDate, n.DateCreated, n.DateUpdated = fromMicros(date), fromMicros(created), fromMicros(updated)
	return n, nil
}

func (s *sqlStore) CreateNotification(ctx context.Context, n Notification) (Notification, error) {
	if n.SID == "" || n.AccountSID == "" {
		return Notification{}, fmt.Errorf("%w: notification without SID or account", ErrInvalid)
	}
	if n.MessageDate.IsZero() {
		n.MessageDate = time.Now()
	}
	if n.DateCreated.IsZero() {
		n.DateCreated = n.MessageDate
	}
	if n.DateUpdated.IsZero() {
		n.DateUpdated = n.DateCreated
	}
	if n.APIVersion == "" {
		n.APIVersion = "2010-04-01"
	}
	if n.MoreInfo == "" && n.ErrorCode != 0 {
		n.MoreInfo = errcode.MoreInfo(n.ErrorCode)
	}
	n.MessageDate, n.DateCreated, n.DateUpdated = truncate(n.MessageDate), truncate(n.DateCreated), truncate(n.DateUpdated)
	if err := s.write(ctx, "create notification", n.SID, func(ctx context.Context, tx *sql.Tx) error {
		return s.createNotification(ctx, tx, n)
	}); err != nil {
		return Notification{}, err
	}
	return n, nil
}

// createNotification is CreateNotification within tx.
func (s *sqlStore) createNotification(ctx context.Context, tx *sql.Tx, n Notification) error {
	_, err := tx.ExecContext(ctx,
		"INSERT INTO notifications ("+notificationColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
		n.SID, n.AccountSID, n.CallSID, n.APIVersion, int64(n.ErrorCode), int64(n.Log), n.MessageText,
		n.MoreInfo, micros(n.MessageDate), n.RequestURL, n.RequestMethod, n.RequestVariables, n.ResponseHeaders,
		n.ResponseBody, micros(n.DateCreated), micros(n.DateUpdated))
	if err != nil {
		return fmt.Errorf("create notification %s: %w", n.SID, classify(err))
	}
	payload, err := json.Marshal(notificationEvent{SID: n.SID, ErrorCode: n.ErrorCode, Log: n.Log, Message: n.MessageText})
	if err != nil {
		return fmt.Errorf("create notification %s: %w", n.SID, err)
	}
	name := "error"
	if n.Log != 0 {
		name = "warning"
	}
	if _, err := s.insertEvent(ctx, tx, Event{
		AccountSID: n.AccountSID, CallSID: n.CallSID, ResourceSID: n.SID,
		Type: EventNotification, Name: name, Time: n.MessageDate, Payload: payload,
	}); err != nil {
		return fmt.Errorf("create notification %s: %w", n.SID, err)
	}
	return nil
}

// notificationEvent is the payload of an EventNotification event.
type notificationEvent struct {
	SID       string `json:"sid"`
	ErrorCode int    `json:"error_code"`
	Log       int    `json:"log"`
	Message   string `json:"message"`
}

func (s *sqlStore) Notification(ctx context.Context, accountSID, sid string) (Notification, error) {
	n, err := scanNotification(s.r.QueryRowContext(ctx,
		"SELECT "+notificationColumns+" FROM notifications WHERE sid = $1 AND account_sid = $2", sid, accountSID))
	if err != nil {
		return Notification{}, notFound(err, "notification", sid)
	}
	return n, nil
}

func (s *sqlStore) ListNotifications(ctx context.Context, f NotificationFilter, p Page) ([]Notification, bool, error) {
	var q query
	q.add("SELECT ", notificationColumns, " FROM notifications WHERE 1 = 1")
	if f.AccountSID != "" {
		q.add(" AND account_sid = ", q.arg(f.AccountSID))
	}
	if f.CallSID != "" {
		q.add(" AND call_sid = ", q.arg(f.CallSID))
	}
	if f.Log != nil {
		q.add(" AND log_level = ", q.arg(int64(*f.Log)))
	}
	if !f.After.IsZero() {
		q.add(" AND message_date >= ", q.arg(micros(f.After)))
	}
	if !f.Before.IsZero() {
		q.add(" AND message_date <= ", q.arg(micros(f.Before)))
	}
	if err := q.page(p); err != nil {
		return nil, false, err
	}
	rows, err := s.r.QueryContext(ctx, q.sb.String(), q.args...)
	if err != nil {
		return nil, false, fmt.Errorf("list notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list notifications: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list notifications: %w", err)
	}
	out, more := trim(out, p)
	return out, more, nil
}
