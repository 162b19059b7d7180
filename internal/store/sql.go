package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqlStore implements Store over database/sql. Its SQL text is shared by
// SQLite and PostgreSQL: $N placeholders (modernc.org/sqlite binds $N to the
// N-th argument), TEXT/BIGINT/BOOLEAN columns, LIMIT/OFFSET. The one dialect
// note is forUpdate.
type sqlStore struct {
	w       *sql.DB // writes (the single SQLite writer, or the PostgreSQL pool)
	r       *sql.DB // reads (read-only SQLite pool, or the same PostgreSQL pool)
	dialect dialect
	// batch is SQLite's group-commit writer (writer.go), which the write
	// paths of the hot methods go through; nil on PostgreSQL.
	batch *writer
	// checkpoints copies SQLite's WAL into the database, off the write
	// path (checkpoint.go); nil on PostgreSQL.
	checkpoints *checkpointer
	// cache keeps the accounts and numbers every call reads
	// (lookupcache.go); nil on PostgreSQL.
	cache *lookupCache

	// Prepared reads on the hot paths: every API request authenticates
	// through accountBySID, every INVITE is routed through numberByPhone.
	// Preparing once halves their cost on SQLite.
	accountBySID  *sql.Stmt
	numberByPhone *sql.Stmt
	numberBySID   *sql.Stmt

	// Prepared writes on the hot paths, on the write pool: every status
	// change of a call saves its row with an event (and its callbacks), every
	// callback is claimed and acknowledged. Used inside a transaction through
	// tx.StmtContext, which reuses the statement already prepared on the
	// connection (SQLite's single writer); preparing once spares SQLite a
	// parse per statement. Within the SQLite writer's batches a save's
	// statements go past database/sql instead (rawstmt.go).
	callForSave    *sql.Stmt
	callInsert     *sql.Stmt
	callUpdate     *sql.Stmt
	callUpdateOpen *sql.Stmt
	eventInsert    *sql.Stmt
	callbackInsert *sql.Stmt
	callbackClaim  *sql.Stmt
	callbackAck    *sql.Stmt
	callbackRetry  *sql.Stmt

	// The text of the statements of a call's save, which the SQLite writer
	// runs past database/sql (rawstmt.go).
	callInsertQ, callUpdateOpenQ, callUpdateKeptQ, eventInsertQ string
}

// newSQLStore prepares the hot statements on the read pool.
func newSQLStore(ctx context.Context, w, r *sql.DB, d dialect) (*sqlStore, error) {
	s := &sqlStore{w: w, r: r, dialect: d}
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&s.accountBySID, "SELECT " + accountColumns + " FROM accounts WHERE sid = $1"},
		{&s.numberByPhone, "SELECT " + numberColumns + " FROM incoming_phone_numbers WHERE phone_number = $1"},
		{&s.numberBySID, "SELECT " + numberColumns + " FROM incoming_phone_numbers WHERE sid = $1 AND account_sid = $2"},
	} {
		stmt, err := r.PrepareContext(ctx, p.query)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p.dst = stmt
	}
	s.callInsertQ = "INSERT INTO calls (" + callColumns + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) " +
		"ON CONFLICT (sid) DO NOTHING"
	// callUpdateOpen is callUpdate of a row of the same account whose
	// status may still change: saveCall's one statement for a call it has
	// saved before.
	s.callUpdateOpenQ = "UPDATE calls SET parent_call_sid = $1, phone_number_sid = $2, from_address = $3, to_address = $4, " +
		"status = $5, direction = $6, api_version = $7, forwarded_from = $8, caller_name = $9, answered_by = $10, " +
		"start_time = $11, answered_at = $12, end_time = $13, duration = $14, date_updated = $15 " +
		"WHERE sid = $16 AND account_sid = $17 AND (" + openCalls + " OR status = $5) RETURNING date_created, node"
	// callUpdateKept is callUpdateOpen of a row that also has the
	// DateCreated and Node the caller has ($18, $19): then the row keeps
	// what the caller knows, and the update needs no RETURNING, for which
	// SQLite builds a temporary table at every run.
	s.callUpdateKeptQ = strings.TrimSuffix(s.callUpdateOpenQ, " RETURNING date_created, node") +
		" AND date_created = $18 AND node = $19"
	s.eventInsertQ = "INSERT INTO events (account_sid, call_sid, resource_sid, type, name, time, payload) " +
		"VALUES ($1, $2, $3, $4, $5, $6, $7)" + s.returningSeq()
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&s.callForSave, "SELECT " + callColumns + " FROM calls WHERE sid = $1" + s.forUpdate()},
		{&s.callInsert, s.callInsertQ},
		{&s.callUpdate, "UPDATE calls SET parent_call_sid = $1, phone_number_sid = $2, from_address = $3, to_address = $4, " +
			"status = $5, direction = $6, api_version = $7, forwarded_from = $8, caller_name = $9, answered_by = $10, " +
			"start_time = $11, answered_at = $12, end_time = $13, duration = $14, date_updated = $15 WHERE sid = $16"},
		{&s.callUpdateOpen, s.callUpdateOpenQ},
		{&s.eventInsert, s.eventInsertQ},
		{&s.callbackInsert, "INSERT INTO outbox (account_sid, call_sid, url, method, params, max_attempts, attempts, " +
			"next_attempt, lease_owner, lease_until, date_created) " +
			"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', 0, $9)"},
		{&s.callbackClaim, "UPDATE outbox SET lease_owner = $1, lease_until = $2 WHERE " + s.claimable(
			"SELECT o.id FROM outbox o WHERE o.next_attempt <= $3 AND o.lease_until <= $3 "+
				"AND (o.call_sid = '' OR NOT EXISTS (SELECT 1 FROM outbox h WHERE h.call_sid = o.call_sid AND h.id < o.id)) "+
				"ORDER BY o.id LIMIT $4") +
			" RETURNING " + callbackColumns},
		{&s.callbackAck, "DELETE FROM outbox WHERE id = $1 AND lease_owner = $2"},
		{&s.callbackRetry, "UPDATE outbox SET attempts = attempts + 1, lease_owner = '', lease_until = 0, next_attempt = $1 " +
			"WHERE id = $2 AND lease_owner = $3"},
	} {
		stmt, err := w.PrepareContext(ctx, p.query)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p.dst = stmt
	}
	return s, nil
}

var _ Store = (*sqlStore)(nil)

// forUpdate locks the row read at the start of a read-modify-write
// transaction. PostgreSQL needs it; SQLite has no such clause and needs none,
// since its single writer already serialises those transactions.
// returningSeq is how an insert into events gets its seq: PostgreSQL
// returns it; on SQLite it is the rowid, which LastInsertId reads without a
// result set.
func (s *sqlStore) returningSeq() string {
	if s.dialect == dialectPostgres {
		return " RETURNING seq"
	}
	return ""
}

func (s *sqlStore) forUpdate() string {
	if s.dialect == dialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// forShare locks the parent account row while a child row is inserted, so
// that closing the account (which takes the row FOR UPDATE) either waits for
// the insert and then releases the new number, or has committed first and the
// insert sees the account closed. SQLite needs no such clause: its single
// writer serialises the two transactions.
func (s *sqlStore) forShare() string {
	if s.dialect == dialectPostgres {
		return " FOR SHARE"
	}
	return ""
}

// SetCommitDelay sets the SQLite writer's commit gap (see writer); on
// PostgreSQL, whose writes commit on their own connections, it does nothing.
func (s *sqlStore) SetCommitDelay(d time.Duration) {
	if s.batch != nil {
		s.batch.setGap(d)
	}
}

func (s *sqlStore) Close() error {
	if s.batch != nil {
		s.batch.close() // runs the writes queued, before the statements go
	}
	var err error
	for _, stmt := range []*sql.Stmt{s.accountBySID, s.numberByPhone, s.numberBySID,
		s.callForSave, s.callInsert, s.callUpdate, s.callUpdateOpen, s.eventInsert, s.callbackInsert,
		s.callbackClaim, s.callbackAck, s.callbackRetry} {
		if stmt != nil {
			err = errors.Join(err, stmt.Close())
		}
	}
	if s.checkpoints != nil {
		err = errors.Join(err, s.checkpoints.close())
	}
	err = errors.Join(err, s.w.Close())
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// micros and fromMicros convert times to the BIGINT columns and back.
func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func truncate(t time.Time) time.Time { return fromMicros(micros(t)) }

// classify maps driver errors to the sentinel errors: unique violations to
// ErrConflict, foreign-key violations to ErrNotFound (the parent row is
// missing).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
	}
	return err
}

// query builds one SQL statement and numbers its placeholders.
type query struct {
	sb   strings.Builder
	args []any
}

// arg adds v to the arguments and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *query) add(parts ...string) {
	for _, p := range parts {
		q.sb.WriteString(p)
	}
}

// page appends the keyset condition, order and limit for p to q, whose text
// must end inside a WHERE clause. It fetches one row more than asked so the
// caller learns whether more rows lie beyond.
//
// A page is read in its direction of travel: forwards in the list's order
// from an After cursor or an offset, backwards from a Before cursor (trim
// then restores the list's order). In a descending list, forwards means
// towards older rows.
func (q *query) page(p Page) error {
	if p.Size < 1 {
		return fmt.Errorf("%w: page size %d", ErrInvalid, p.Size)
	}
	if p.After != nil && p.Before != nil {
		return fmt.Errorf("%w: both After and Before set", ErrInvalid)
	}
	if p.Offset < 0 {
		return fmt.Errorf("%w: negative offset", ErrInvalid)
	}
	limit := strconv.Itoa(p.Size + 1)
	// up is true when the rows are read in ascending key order.
	up := !p.Desc
	cursor := p.After
	if p.Before != nil {
		cursor, up = p.Before, !up
	}
	cmp, order := ">", " ORDER BY date_created, sid LIMIT "
	if !up {
		cmp, order = "<", " ORDER BY date_created DESC, sid DESC LIMIT "
	}
	if cursor == nil {
		q.add(order, limit, " OFFSET ", strconv.Itoa(p.Offset))
		return nil
	}
	t, s := q.arg(micros(cursor.DateCreated)), q.arg(cursor.SID)
	q.add(" AND (date_created ", cmp, " ", t, " OR (date_created = ", t, " AND sid ", cmp, " ", s, "))", order, limit)
	return nil
}

// trim cuts a page fetched with one extra row back to size, puts a
// backwards page back in the list's order, and reports whether there were
// more.
func trim[T any](rows []T, p Page) ([]T, bool) {
	more := len(rows) > p.Size
	if more {
		rows = rows[:p.Size]
	}
	if p.Before != nil {
		slices.Reverse(rows)
	}
	return rows, more
}

// likePattern turns a Twilio phone-number filter into a LIKE pattern: the
// value may appear anywhere, '*' matches any one character, and LIKE's own
// wildcards are escaped with '\'.
func likePattern(filter string) string {
	var b strings.Builder
	b.WriteByte('%')
	for _, r := range filter {
		switch r {
		case '*':
			b.WriteByte('_')
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('%')
	return strings.ToLower(b.String())
}

// ---- accounts ----

const accountColumns = "sid, owner_account_sid, friendly_name, auth_token, status, date_created, date_updated"

type scanner interface{ Scan(dest ...any) error }

func scanAccount(sc scanner) (Account, error) {
	var a Account
	var status string
	var created, updated int64
	if err := sc.Scan(&a.SID, &a.OwnerAccountSID, &a.FriendlyName, &a.AuthToken, &status, &created, &updated); err != nil {
		return Account{}, err
	}
	a.Status = AccountStatus(status)
	a.DateCreated, a.DateUpdated = fromMicros(created), fromMicros(updated)
	return a, nil
}

func notFound(err error, what, sid string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s %s", ErrNotFound, what, sid)
	}
	return fmt.Errorf("read %s %s: %w", what, sid, err)
}

func (s *sqlStore) CreateAccount(ctx context.Context, a Account) (Account, error) {
	defer s.cache.invalidate()
	if a.SID == "" || a.OwnerAccountSID == "" {
		return Account{}, fmt.Errorf("%w: account without SID or owner", ErrInvalid)
	}
	a.DateCreated, a.DateUpdated = truncate(a.DateCreated), truncate(a.DateUpdated)
	_, err := s.w.ExecContext(ctx,
		"INSERT INTO accounts ("+accountColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
		a.SID, a.OwnerAccountSID, a.FriendlyName, a.AuthToken, string(a.Status),
		micros(a.DateCreated), micros(a.DateUpdated))
	if err != nil {
		return Account{}, fmt.Errorf("create account %s: %w", a.SID, classify(err))
	}
	return a, nil
}

func (s *sqlStore) Account(ctx context.Context, sid string) (Account, error) {
	if a, ok := s.cache.account(sid); ok {
		return a, nil
	}
	gen := s.cache.generation()
	a, err := scanAccount(s.accountBySID.QueryRowContext(ctx, sid))
	if err != nil {
		return Account{}, notFound(err, "account", sid)
	}
	s.cache.putAccount(a, gen)
	return a, nil
}

func (s *sqlStore) MainAccount(ctx context.Context) (Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx,
		"SELECT "+accountColumns+" FROM accounts WHERE sid = owner_account_sid ORDER BY date_created, sid LIMIT 1"))
	if err != nil {
		return Account{}, notFound(err, "account", "main")
	}
	return a, nil
}

func (s *sqlStore) ListAccounts(ctx context.Context, f AccountFilter, p Page) ([]Account, bool, error) {
	if f.VisibleTo == "" {
		return nil, false, fmt.Errorf("%w: account filter without VisibleTo", ErrInvalid)
	}
	var q query
	v := q.arg(f.VisibleTo)
	q.add("SELECT ", accountColumns, " FROM accounts WHERE (sid = ", v, " OR owner_account_sid = ", v, ")")
	if f.FriendlyName != "" {
		q.add(" AND friendly_name = ", q.arg(f.FriendlyName))
	}
	if f.Status != "" {
		q.add(" AND status = ", q.arg(string(f.Status)))
	}
	if err := q.page(p); err != nil {
		return nil, false, err
	}
	rows, err := s.r.QueryContext(ctx, q.sb.String(), q.args...)
	if err != nil {
		return nil, false, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list accounts: %w", err)
	}
	out, more := trim(out, p)
	return out, more, nil
}

func (s *sqlStore) UpdateAccount(ctx context.Context, sid string, update func(*Account) error) (Account, error) {
	defer s.cache.invalidate()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return Account{}, fmt.Errorf("update account %s: %w", sid, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	old, err := scanAccount(tx.QueryRowContext(ctx,
		"SELECT "+accountColumns+" FROM accounts WHERE sid = $1"+s.forUpdate(), sid))
	if err != nil {
		return Account{}, notFound(err, "account", sid)
	}
	a := old
	if err := update(&a); err != nil {
		return Account{}, err
	}
	a.SID, a.OwnerAccountSID, a.DateCreated = old.SID, old.OwnerAccountSID, old.DateCreated
	a.DateUpdated = truncate(a.DateUpdated)
	if old.Status == StatusClosed && a.Status != StatusClosed {
		return Account{}, fmt.Errorf("%w: account %s", ErrClosed, sid)
	}
	if _, err := tx.ExecContext(ctx,
		"UPDATE accounts SET friendly_name = $1, auth_token = $2, status = $3, date_updated = $4 WHERE sid = $5",
		a.FriendlyName, a.AuthToken, string(a.Status), micros(a.DateUpdated), sid); err != nil {
		return Account{}, fmt.Errorf("update account %s: %w", sid, classify(err))
	}
	if a.Status == StatusClosed && old.Status != StatusClosed {
		// Twilio releases every phone number of a closed subaccount.
		if _, err := tx.ExecContext(ctx,
			"DELETE FROM incoming_phone_numbers WHERE account_sid = $1", sid); err != nil {
			return Account{}, fmt.Errorf("release numbers of %s: %w", sid, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Account{}, fmt.Errorf("update account %s: %w", sid, classify(err))
	}
	return a, nil
}

// ---- incoming phone numbers ----

// CanonicalPhoneNumber returns the one form in which a phone number is stored
// and looked up, so that the ways of writing a number are one number:
//
//   - A telephone number, an optional '+' then digits and the visual
//     separators of RFC 3966 (spaces and - . ( )), becomes '+' and its
//     digits: E.164, the form in which Twilio stores IncomingPhoneNumbers.
//     "+1 (555) 123-4567", "+1.555.123.4567" and "15551234567" are all
//     "+15551234567". Without the '+', the digits are taken as an
//     international number (country code first, as trunks commonly send
//     them) when there are 8 to 15 of them and the first is not 0: the rule
//     the SIP layer applies to Request-URIs (sip.E164), so that what the API
//     stores and what routing looks up agree. Fewer digits (an extension,
//     "1001") or a leading 0 (a national number, "0312345678") make a name.
//   - Anything else is a SIP user name ("support", "room1"), returned as
//     written: SIP compares user parts case-sensitively once percent-escapes
//     are decoded (RFC 3261 section 19.1.4), and the SIP layer decodes them
//     before routing ("%2B15551234567" arrives as "+15551234567").
//
// Surrounding spaces are trimmed. Whether the result is an acceptable number
// (length, a leading 0 after the '+', the characters of a name) is for the
// caller to check. A string already canonical is returned as is, without
// allocating.
func CanonicalPhoneNumber(s string) string {
	s = strings.TrimSpace(s)
	body := strings.TrimPrefix(s, "+")
	plus := len(body) < len(s)
	digits, first, clean := 0, byte(0), true
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case '0' <= c && c <= '9':
			if digits == 0 {
				first = c
			}
			digits++
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
			clean = false
		default:
			return s // a name
		}
	}
	switch {
	case digits == 0:
		return s
	case !plus && (digits < 8 || digits > 15 || first == '0'):
		return s // an extension or a national number: a name
	case plus && clean:
		return s
	}
	b := make([]byte, 0, digits+1)
	b = append(b, '+')
	for i := 0; i < len(body); i++ {
		if c := body[i]; '0' <= c && c <= '9' {
			b = append(b, c)
		}
	}
	return string(b)
}

const numberColumns = "sid, account_sid, phone_number, friendly_name, api_version, " +
	"voice_url, voice_method, voice_fallback_url, voice_fallback_method, voice_application_sid, voice_caller_id_lookup, " +
	"status_callback, status_callback_method, " +
	"sms_url, sms_method, sms_fallback_url, sms_fallback_method, " +
	"date_created, date_updated"

func scanNumber(sc scanner) (IncomingPhoneNumber, error) {
	var n IncomingPhoneNumber
	var created, updated int64
	err := sc.Scan(&n.SID, &n.AccountSID, &n.PhoneNumber, &n.FriendlyName, &n.APIVersion,
		&n.VoiceURL, &n.VoiceMethod, &n.VoiceFallbackURL, &n.VoiceFallbackMethod, &n.VoiceApplicationSID, &n.VoiceCallerIDLookup,
		&n.StatusCallback, &n.StatusCallbackMethod,
		&n.SMSURL, &n.SMSMethod, &n.SMSFallbackURL, &n.SMSFallbackMethod,
		&created, &updated)
	if err != nil {
		return IncomingPhoneNumber{}, err
	}
	n.DateCreated, n.DateUpdated = fromMicros(created), fromMicros(updated)
	return n, nil
}

func (s *sqlStore) CreateNumber(ctx context.Context, n IncomingPhoneNumber) (IncomingPhoneNumber, error) {
	defer s.cache.invalidate()
	n.PhoneNumber = CanonicalPhoneNumber(n.PhoneNumber)
	if n.SID == "" || n.AccountSID == "" || n.PhoneNumber == "" {
		return IncomingPhoneNumber{}, fmt.Errorf("%w: number without SID, account or phone number", ErrInvalid)
	}
	n.DateCreated, n.DateUpdated = truncate(n.DateCreated), truncate(n.DateUpdated)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return IncomingPhoneNumber{}, fmt.Errorf("create number %s: %w", n.PhoneNumber, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var status string
	err = tx.QueryRowContext(ctx, "SELECT status FROM accounts WHERE sid = $1"+s.forShare(), n.AccountSID).Scan(&status)
	if err != nil {
		return IncomingPhoneNumber{}, notFound(err, "account", n.AccountSID)
	}
	if AccountStatus(status) == StatusClosed {
		return IncomingPhoneNumber{}, fmt.Errorf("%w: account %s", ErrClosed, n.AccountSID)
	}
	_, err = tx.ExecContext(ctx,
		"INSERT INTO incoming_phone_numbers ("+numberColumns+") VALUES "+
			"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
		n.SID, n.AccountSID, n.PhoneNumber, n.FriendlyName, n.APIVersion,
		n.VoiceURL, n.VoiceMethod, n.VoiceFallbackURL, n.VoiceFallbackMethod, n.VoiceApplicationSID, n.VoiceCallerIDLookup,
		n.StatusCallback, n.StatusCallbackMethod,
		n.SMSURL, n.SMSMethod, n.SMSFallbackURL, n.SMSFallbackMethod,
		micros(n.DateCreated), micros(n.DateUpdated))
	if err != nil {
		return IncomingPhoneNumber{}, fmt.Errorf("create number %s: %w", n.PhoneNumber, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return IncomingPhoneNumber{}, fmt.Errorf("create number %s: %w", n.PhoneNumber, classify(err))
	}
	return n, nil
}

func (s *sqlStore) Number(ctx context.Context, accountSID, sid string) (IncomingPhoneNumber, error) {
	n, err := scanNumber(s.numberBySID.QueryRowContext(ctx, sid, accountSID))
	if err != nil {
		return IncomingPhoneNumber{}, notFound(err, "number", sid)
	}
	return n, nil
}

func (s *sqlStore) FindNumber(ctx context.Context, phone string) (IncomingPhoneNumber, error) {
	phone = CanonicalPhoneNumber(phone)
	if n, ok := s.cache.number(phone); ok {
		return n, nil
	}
	gen := s.cache.generation()
	n, err := scanNumber(s.numberByPhone.QueryRowContext(ctx, phone))
	if err != nil {
		return IncomingPhoneNumber{}, notFound(err, "number", phone)
	}
	s.cache.putNumber(n, gen)
	return n, nil
}

func (s *sqlStore) ListNumbers(ctx context.Context, f NumberFilter, p Page) ([]IncomingPhoneNumber, bool, error) {
	if f.AccountSID == "" {
		return nil, false, fmt.Errorf("%w: number filter without AccountSID", ErrInvalid)
	}
	var q query
	q.add("SELECT ", numberColumns, " FROM incoming_phone_numbers WHERE account_sid = ", q.arg(f.AccountSID))
	if f.PhoneNumber != "" {
		// LOWER on both sides: SQLite's LIKE ignores ASCII case and
		// PostgreSQL's does not; this makes both ignore it.
		q.add(" AND LOWER(phone_number) LIKE ", q.arg(likePattern(f.PhoneNumber)), " ESCAPE '\\'")
	}
	if f.FriendlyName != "" {
		q.add(" AND friendly_name = ", q.arg(f.FriendlyName))
	}
	if err := q.page(p); err != nil {
		return nil, false, err
	}
	rows, err := s.r.QueryContext(ctx, q.sb.String(), q.args...)
	if err != nil {
		return nil, false, fmt.Errorf("list numbers: %w", err)
	}
	defer rows.Close()
	var out []IncomingPhoneNumber
	for rows.Next() {
		n, err := scanNumber(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list numbers: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list numbers: %w", err)
	}
	out, more := trim(out, p)
	return out, more, nil
}

func (s *sqlStore) UpdateNumber(ctx context.Context, accountSID, sid string, update func(*IncomingPhoneNumber) error) (IncomingPhoneNumber, error) {
	defer s.cache.invalidate()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return IncomingPhoneNumber{}, fmt.Errorf("update number %s: %w", sid, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	old, err := scanNumber(tx.QueryRowContext(ctx,
		"SELECT "+numberColumns+" FROM incoming_phone_numbers WHERE sid = $1 AND account_sid = $2"+s.forUpdate(),
		sid, accountSID))
	if err != nil {
		return IncomingPhoneNumber{}, notFound(err, "number", sid)
	}
	n := old
	if err := update(&n); err != nil {
		return IncomingPhoneNumber{}, err
	}
	n.SID, n.AccountSID, n.DateCreated = old.SID, old.AccountSID, old.DateCreated
	n.DateUpdated = truncate(n.DateUpdated)
	if n.PhoneNumber != old.PhoneNumber {
		// Only a new number is canonicalised: a row left in an old form
		// because another row has its canonical form (migration 00008)
		// can still be renamed or deleted, though it routes nothing.
		n.PhoneNumber = CanonicalPhoneNumber(n.PhoneNumber)
	}
	if n.PhoneNumber == "" {
		return IncomingPhoneNumber{}, fmt.Errorf("%w: empty phone number", ErrInvalid)
	}
	_, err = tx.ExecContext(ctx,
		"UPDATE incoming_phone_numbers SET phone_number = $1, friendly_name = $2, api_version = $3, "+
			"voice_url = $4, voice_method = $5, voice_fallback_url = $6, voice_fallback_method = $7, "+
			"voice_application_sid = $8, voice_caller_id_lookup = $9, "+
			"status_callback = $10, status_callback_method = $11, "+
			"sms_url = $12, sms_method = $13, sms_fallback_url = $14, sms_fallback_method = $15, "+
			"date_updated = $16 WHERE sid = $17",
		n.PhoneNumber, n.FriendlyName, n.APIVersion,
		n.VoiceURL, n.VoiceMethod, n.VoiceFallbackURL, n.VoiceFallbackMethod,
		n.VoiceApplicationSID, n.VoiceCallerIDLookup,
		n.StatusCallback, n.StatusCallbackMethod,
		n.SMSURL, n.SMSMethod, n.SMSFallbackURL, n.SMSFallbackMethod,
		micros(n.DateUpdated), sid)
	if err != nil {
		return IncomingPhoneNumber{}, fmt.Errorf("update number %s: %w", sid, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return IncomingPhoneNumber{}, fmt.Errorf("update number %s: %w", sid, classify(err))
	}
	return n, nil
}

func (s *sqlStore) DeleteNumber(ctx context.Context, accountSID, sid string) error {
	defer s.cache.invalidate()
	res, err := s.w.ExecContext(ctx,
		"DELETE FROM incoming_phone_numbers WHERE sid = $1 AND account_sid = $2", sid, accountSID)
	if err != nil {
		return fmt.Errorf("delete number %s: %w", sid, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete number %s: %w", sid, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: number %s", ErrNotFound, sid)
	}
	return nil
}
