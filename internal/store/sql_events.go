package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// claimable returns the condition "id is among the candidates that query
// selects", with the locking PostgreSQL needs. On PostgreSQL the candidates
// are locked FOR UPDATE SKIP LOCKED: rows another transaction is claiming
// (or acking) right now are skipped instead of waited for, so nodes claim
// side by side, and a row whose lease was committed after the query's
// snapshot is re-checked against its WHERE clause when locked, and dropped.
// ARRAY(...) makes the query an InitPlan, run exactly once (an IN (...) may
// be rescanned as the inner side of a join, locking more rows than it
// returns). SQLite's single writer runs claims one after the other and needs
// no lock.
func (s *sqlStore) claimable(query string) string {
	if s.dialect == dialectPostgres {
		return "id = ANY(ARRAY(" + query + " FOR UPDATE SKIP LOCKED))"
	}
	return "id IN (" + query + ")"
}

// ---- events ----

const eventColumns = "seq, account_sid, call_sid, resource_sid, type, name, time, payload"

func scanEvent(sc scanner) (Event, error) {
	var ev Event
	var at int64
	var payload string
	if err := sc.Scan(&ev.Seq, &ev.AccountSID, &ev.CallSID, &ev.ResourceSID, &ev.Type, &ev.Name, &at, &payload); err != nil {
		return Event{}, err
	}
	ev.Time = fromMicros(at)
	ev.Payload = []byte(payload)
	return ev, nil
}

// insertEvent appends ev within tx and returns it as stored, with its Seq.
// An empty Time is now, an empty Payload {}.
func (s *sqlStore) insertEvent(ctx context.Context, tx *sql.Tx, ev Event) (Event, error) {
	if ev.AccountSID == "" || ev.Type == "" {
		return Event{}, fmt.Errorf("%w: event without account or type", ErrInvalid)
	}
	if len(ev.Payload) == 0 {
		ev.Payload = []byte("{}")
	} else if !json.Valid(ev.Payload) {
		return Event{}, fmt.Errorf("%w: %s event payload is not JSON", ErrInvalid, ev.Type)
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Time = truncate(ev.Time)
	args := []any{ev.AccountSID, ev.CallSID, ev.ResourceSID, ev.Type, ev.Name, micros(ev.Time), string(ev.Payload)}
	var err error
	if w := inBatch(ctx); w != nil {
		var res driver.Result
		if res, err = w.rawExec(ctx, s.eventInsertQ, args); err == nil {
			ev.Seq, err = res.LastInsertId()
		}
	} else if st := tx.StmtContext(ctx, s.eventInsert); s.dialect == dialectPostgres {
		err = st.QueryRowContext(ctx, args...).Scan(&ev.Seq)
	} else {
		var res sql.Result
		if res, err = st.ExecContext(ctx, args...); err == nil {
			ev.Seq, err = res.LastInsertId()
		}
	}
	if err != nil {
		return Event{}, fmt.Errorf("append %s event: %w", ev.Type, classify(err))
	}
	return ev, nil
}

// insertCallbacks queues cbs within tx. A callback without AccountSID or
// CallSID takes accountSID or callSID; an empty Method is POST, MaxAttempts
// is at least 1, an empty DateCreated is now.
func (s *sqlStore) insertCallbacks(ctx context.Context, tx *sql.Tx, cbs []Callback, accountSID, callSID string) error {
	if len(cbs) == 0 {
		return nil
	}
	insert := tx.StmtContext(ctx, s.callbackInsert)
	now := time.Now()
	for _, cb := range cbs {
		if cb.AccountSID == "" {
			cb.AccountSID = accountSID
		}
		if cb.CallSID == "" {
			cb.CallSID = callSID
		}
		if cb.Method == "" {
			cb.Method = "POST"
		}
		if cb.AccountSID == "" || cb.URL == "" || (cb.Method != "GET" && cb.Method != "POST") {
			return fmt.Errorf("%w: callback without account or URL, or method %q", ErrInvalid, cb.Method)
		}
		cb.MaxAttempts = max(cb.MaxAttempts, 1)
		if cb.DateCreated.IsZero() {
			cb.DateCreated = now
		}
		if _, err := insert.ExecContext(ctx,
			cb.AccountSID, cb.CallSID, cb.URL, cb.Method, cb.Params, int64(cb.MaxAttempts), int64(cb.Attempts),
			optMicros(cb.NextAttempt), micros(cb.DateCreated)); err != nil {
			return fmt.Errorf("queue callback to %s: %w", cb.URL, classify(err))
		}
	}
	return nil
}

// callChange is the default payload of a call event: what the row says.
func callChange(c Call) CallChange {
	return CallChange{
		Status: c.Status, Direction: c.Direction, From: c.From, To: c.To, ParentSID: c.ParentCallSID,
		Duration: c.Duration, AnsweredBy: c.AnsweredBy,
	}
}

func (s *sqlStore) SaveCall(ctx context.Context, c Call, ev Event, cbs []Callback) (Call, error) {
	if c.SID == "" || c.AccountSID == "" || !c.Status.Valid() {
		return Call{}, fmt.Errorf("%w: call without SID, account or valid status", ErrInvalid)
	}
	if c.DateUpdated.IsZero() {
		c.DateUpdated = time.Now()
	}
	// What the write reads and returns, in one allocation (captured one by
	// one, each would be moved to the heap: a call's saves are hot).
	p := &struct {
		c, saved Call
		ev       Event
	}{c: c, ev: ev}
	if err := s.write(ctx, "save call", c.SID, func(ctx context.Context, tx *sql.Tx) (err error) {
		p.saved, err = s.saveCall(ctx, tx, p.c, p.ev, cbs)
		return err
	}); err != nil {
		return Call{}, err
	}
	return p.saved, nil
}

// saveCallRow writes c's row within tx for saveCall and returns it as saved.
// Most saves are of a call saved before, still open: one UPDATE. In the
// SQLite writer's batches, when c has its DateCreated (the interpreter's
// saves after the first), the UPDATE matches the row's DateCreated and Node
// too: the row then keeps what c says, and the UPDATE needs no RETURNING,
// for which SQLite builds a temporary table at every run. Otherwise the
// UPDATE returns what the row keeps. When it updates nothing, the call is
// inserted, or insertCall finds out why not.
func (s *sqlStore) saveCallRow(ctx context.Context, tx *sql.Tx, c Call) (Call, error) {
	c.normalise()
	args := append(callSetArgs(c), c.SID, c.AccountSID)
	var created int64
	var err error
	switch w := inBatch(ctx); {
	case w != nil && !c.DateCreated.IsZero():
		var res driver.Result
		if res, err = w.rawExec(ctx, s.callUpdateKeptQ, append(args, micros(c.DateCreated), c.Node)); err == nil {
			var n int64
			if n, err = res.RowsAffected(); err == nil && n == 0 {
				err = sql.ErrNoRows
			}
		}
		created = micros(c.DateCreated)
	case w != nil:
		var row [2]driver.Value
		if err = w.rawQueryRow(ctx, s.callUpdateOpenQ, args, row[:]); err == nil {
			created, c.Node, err = scanCreatedNode(row)
		}
	default:
		var node string
		if err = tx.StmtContext(ctx, s.callUpdateOpen).QueryRowContext(ctx, args...).Scan(&created, &node); err == nil {
			c.Node = node
		}
	}
	switch {
	case err == nil:
		c.DateCreated = fromMicros(created)
		return c, nil
	case errors.Is(err, sql.ErrNoRows):
		return s.insertCall(ctx, tx, c)
	default:
		return Call{}, fmt.Errorf("save call %s: %w", c.SID, classify(err))
	}
}

// insertCall inserts c within tx for saveCall, whose update found no row of
// c's account that may change to c's status: when there is a row of that SID
// after all, it is refused as saveCall documents, or updated when it was
// inserted by another transaction meanwhile.
func (s *sqlStore) insertCall(ctx context.Context, tx *sql.Tx, c Call) (Call, error) {
	if c.DateCreated.IsZero() {
		c.DateCreated = c.DateUpdated
	}
	c.normalise()
	var res interface{ RowsAffected() (int64, error) }
	var err error
	if w := inBatch(ctx); w != nil {
		res, err = w.rawExec(ctx, s.callInsertQ, callRowArgs(c))
	} else {
		res, err = tx.StmtContext(ctx, s.callInsert).ExecContext(ctx, callRowArgs(c)...)
	}
	if err != nil {
		return Call{}, fmt.Errorf("save call %s: %w", c.SID, classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Call{}, fmt.Errorf("save call %s: %w", c.SID, err)
	}
	if n == 1 {
		return c, nil
	}
	old, err := scanCall(tx.StmtContext(ctx, s.callForSave).QueryRowContext(ctx, c.SID))
	if err != nil {
		return Call{}, notFound(err, "call", c.SID)
	}
	if old.AccountSID != c.AccountSID {
		return Call{}, fmt.Errorf("%w: call SID %s is another account's", ErrConflict, c.SID)
	}
	if old.Status.Final() && c.Status != old.Status {
		return Call{}, fmt.Errorf("%w: call %s already ended %s", ErrConflict, c.SID, old.Status)
	}
	c.DateCreated, c.Node = old.DateCreated, old.Node
	_, err = tx.StmtContext(ctx, s.callUpdate).ExecContext(ctx, append(callSetArgs(c), c.SID)...)
	if err != nil {
		return Call{}, fmt.Errorf("save call %s: %w", c.SID, classify(err))
	}
	return c, nil
}

// scanCreatedNode converts the row callUpdateOpen returns, as the driver
// gives it.
func scanCreatedNode(row [2]driver.Value) (created int64, node string, err error) {
	created, ok := row[0].(int64)
	if !ok {
		return 0, "", fmt.Errorf("date_created is %T, not an integer", row[0])
	}
	switch v := row[1].(type) {
	case string:
		node = v
	case []byte:
		node = string(v)
	case nil:
	default:
		return 0, "", fmt.Errorf("node is %T, not text", row[1])
	}
	return created, node, nil
}

// saveCall is SaveCall within tx.
func (s *sqlStore) saveCall(ctx context.Context, tx *sql.Tx, c Call, ev Event, cbs []Callback) (Call, error) {
	c, err := s.saveCallRow(ctx, tx, c)
	if err != nil {
		return Call{}, err
	}
	ev.AccountSID, ev.CallSID, ev.ResourceSID = c.AccountSID, c.SID, c.SID
	if ev.Type == "" {
		ev.Type = EventCall
	}
	if ev.Time.IsZero() {
		ev.Time = c.DateUpdated
	}
	if ev.Type == EventCall {
		if ev.Name == "" {
			ev.Name = string(c.Status)
		}
		if len(ev.Payload) == 0 {
			if ev.Payload, err = json.Marshal(callChange(c)); err != nil {
				return Call{}, fmt.Errorf("save call %s: %w", c.SID, err)
			}
		}
	}
	if _, err := s.insertEvent(ctx, tx, ev); err != nil {
		return Call{}, fmt.Errorf("save call %s: %w", c.SID, err)
	}
	if err := s.insertCallbacks(ctx, tx, cbs, c.AccountSID, c.SID); err != nil {
		return Call{}, fmt.Errorf("save call %s: %w", c.SID, err)
	}
	return c, nil
}

func (s *sqlStore) AppendEvent(ctx context.Context, ev Event, cbs []Callback) (Event, error) {
	var saved Event
	if err := s.write(ctx, "append event", ev.Type, func(ctx context.Context, tx *sql.Tx) (err error) {
		if saved, err = s.insertEvent(ctx, tx, ev); err != nil {
			return err
		}
		if err := s.insertCallbacks(ctx, tx, cbs, ev.AccountSID, ev.CallSID); err != nil {
			return fmt.Errorf("append %s event: %w", ev.Type, err)
		}
		return nil
	}); err != nil {
		return Event{}, err
	}
	return saved, nil
}

func (s *sqlStore) AppendEvents(ctx context.Context, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	return s.write(ctx, "append events", strconv.Itoa(len(evs)), func(ctx context.Context, tx *sql.Tx) error {
		for _, ev := range evs {
			if _, err := s.insertEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// resourceSeqs is a query of the seqs of the account's events whose
// resource_sid meets cond (e.g. "= $2"), as the indexes hold them:
// events_resource_idx only those whose resource is not their call (migration
// 00011), events_call_idx the others, by call_sid.
func resourceSeqs(account, cond string) string {
	return "SELECT seq FROM events WHERE account_sid = " + account + " AND resource_sid <> call_sid AND resource_sid " + cond +
		" UNION ALL SELECT seq FROM events WHERE account_sid = " + account + " AND resource_sid = call_sid AND call_sid " + cond
}

func (s *sqlStore) ListEvents(ctx context.Context, f EventFilter, afterSeq int64, limit int) ([]Event, bool, error) {
	if f.AccountSID == "" {
		return nil, false, fmt.Errorf("%w: event filter without AccountSID", ErrInvalid)
	}
	if limit < 1 {
		return nil, false, fmt.Errorf("%w: event limit %d", ErrInvalid, limit)
	}
	// A resource's events are looked up by seq in the indexes that hold
	// them (resourceSeqs, which keeps to the account); the others by the
	// account and, given one, the call (events_call_idx).
	var q query
	var where []string
	acct := q.arg(f.AccountSID)
	if f.ResourceSID != "" {
		where = append(where, "seq IN ("+resourceSeqs(acct, "= "+q.arg(f.ResourceSID))+")")
	}
	if f.ConferenceSID != "" { // the conference's own events and its participants'
		c := q.arg(f.ConferenceSID)
		where = append(where, "seq IN ("+resourceSeqs(acct, "= "+c)+" UNION ALL "+
			resourceSeqs(acct, "IN (SELECT sid FROM conference_participants WHERE conference_sid = "+c+")")+")")
	}
	if len(where) == 0 {
		where = append(where, "account_sid = "+acct)
	}
	if f.CallSID != "" {
		where = append(where, "call_sid = "+q.arg(f.CallSID))
	}
	if f.Type != "" {
		where = append(where, "type = "+q.arg(f.Type))
	}
	where = append(where, "seq > "+q.arg(afterSeq))
	q.add("SELECT ", eventColumns, " FROM events WHERE ", strings.Join(where, " AND "), " ORDER BY seq LIMIT ", strconv.Itoa(limit+1))
	rows, err := s.r.QueryContext(ctx, q.sb.String(), q.args...)
	if err != nil {
		return nil, false, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list events: %w", err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list events: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

func (s *sqlStore) DeleteCall(ctx context.Context, accountSID, sid string) error {
	return s.write(ctx, "delete call", sid, func(ctx context.Context, tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx,
			"SELECT status FROM calls WHERE sid = $1 AND account_sid = $2"+s.forUpdate(), sid, accountSID).Scan(&status)
		if err != nil {
			return notFound(err, "call", sid)
		}
		if !CallStatus(status).Final() {
			return fmt.Errorf("%w: call %s is %s, not finished", ErrConflict, sid, status)
		}
		for _, del := range []string{
			"DELETE FROM events WHERE account_sid = $1 AND call_sid = $2",
			"DELETE FROM notifications WHERE account_sid = $1 AND call_sid = $2",
			"DELETE FROM calls WHERE account_sid = $1 AND sid = $2",
		} {
			if _, err := tx.ExecContext(ctx, del, accountSID, sid); err != nil {
				return fmt.Errorf("delete call %s: %w", sid, err)
			}
		}
		return nil
	})
}

// ---- outbox ----

const callbackColumns = "id, account_sid, call_sid, url, method, params, max_attempts, attempts, next_attempt, date_created"

func scanCallback(sc scanner) (Callback, error) {
	var cb Callback
	var maxAttempts, attempts, next, created int64
	if err := sc.Scan(&cb.ID, &cb.AccountSID, &cb.CallSID, &cb.URL, &cb.Method, &cb.Params,
		&maxAttempts, &attempts, &next, &created); err != nil {
		return Callback{}, err
	}
	cb.MaxAttempts, cb.Attempts = int(maxAttempts), int(attempts)
	cb.NextAttempt, cb.DateCreated = fromOptMicros(next), fromMicros(created)
	return cb, nil
}

// ClaimCallbacks leases, in one statement, the due and free callbacks that
// head their call's line: those with no callback of a lower ID for the same
// call, whatever that one's state (leased, waiting for a retry). A lease is
// free when lease_until <= now (never leased, released by RetryCallback, or
// expired).
func (s *sqlStore) ClaimCallbacks(ctx context.Context, node string, now time.Time, lease time.Duration, limit int) ([]Callback, error) {
	if node == "" || lease <= 0 || limit < 1 {
		return nil, fmt.Errorf("%w: claim by node %q for %v, limit %d", ErrInvalid, node, lease, limit)
	}
	var out []Callback
	if err := s.writeStmt(ctx, "claim callbacks of", node, func(ctx context.Context, tx *sql.Tx) error {
		out = out[:0]
		rows, err := stmtIn(ctx, tx, s.callbackClaim).QueryContext(ctx,
			node, micros(now.Add(lease)), micros(now), int64(limit))
		if err != nil {
			return fmt.Errorf("claim callbacks: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			cb, err := scanCallback(rows)
			if err != nil {
				return fmt.Errorf("claim callbacks: %w", err)
			}
			out = append(out, cb)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim callbacks: %w", err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Callback) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (s *sqlStore) ExtendLeases(ctx context.Context, node string, until time.Time) error {
	if node == "" {
		return fmt.Errorf("%w: extend leases of no node", ErrInvalid)
	}
	return s.writeStmt(ctx, "extend leases of", node, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := execIn(ctx, tx, s.w,
			"UPDATE outbox SET lease_until = $1 WHERE lease_owner = $2", micros(until), node); err != nil {
			return fmt.Errorf("extend leases of %s: %w", node, err)
		}
		return nil
	})
}

func (s *sqlStore) AckCallback(ctx context.Context, node string, id int64) error {
	if node == "" {
		return fmt.Errorf("%w: ack by no node", ErrInvalid)
	}
	return s.writeStmt(ctx, "ack callback", strconv.FormatInt(id, 10), func(ctx context.Context, tx *sql.Tx) error {
		res, err := stmtIn(ctx, tx, s.callbackAck).ExecContext(ctx, id, node)
		return leaseHeld(res, err, "ack", node, id)
	})
}

func (s *sqlStore) RetryCallback(ctx context.Context, node string, id int64, next time.Time) error {
	if node == "" {
		return fmt.Errorf("%w: retry by no node", ErrInvalid)
	}
	return s.writeStmt(ctx, "retry callback", strconv.FormatInt(id, 10), func(ctx context.Context, tx *sql.Tx) error {
		res, err := stmtIn(ctx, tx, s.callbackRetry).ExecContext(ctx, optMicros(next), id, node)
		return leaseHeld(res, err, "retry", node, id)
	})
}

// leaseHeld turns the result of a statement on one leased callback into
// ErrNotFound when it touched no row: the callback is gone or another node
// holds it.
func leaseHeld(res sql.Result, err error, op, node string, id int64) error {
	if err != nil {
		return fmt.Errorf("%s callback %d: %w", op, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s callback %d: %w", op, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: callback %d leased to %s", ErrNotFound, id, node)
	}
	return nil
}

func (s *sqlStore) PendingCallbacks(ctx context.Context) (int, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox").Scan(&n); err != nil {
		return 0, fmt.Errorf("pending callbacks: %w", err)
	}
	return int(n), nil
}
