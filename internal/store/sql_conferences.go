package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// placeholders returns "$1, $2, ..., $n".
func placeholders(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(i))
	}
	return b.String()
}

// openParticipant is the SQL condition "the participant is current" (its
// status is not final); the partial unique indexes of 00006 use the same one.
const openParticipant = "status NOT IN ('" + string(ParticipantComplete) + "', '" + string(ParticipantFailed) + "')"

// liveConference is the SQL condition "the conference is not completed", as
// in the partial unique index conferences_live_name_idx.
const liveConference = "status <> '" + string(ConferenceCompleted) + "'"

// finalizeReason is the Reason FinalizeOpenConferences gives the conferences
// it closes.
const finalizeReason = "switchboard restarted"

// ---- conferences ----

const conferenceColumns = "sid, account_sid, friendly_name, status, api_version, region, max_participants, " +
	"start_time, end_time, reason_conference_ended, reason, call_sid_ending_conference, " +
	"participant_label_ending_conference, unique_participants, max_concurrent_participants, " +
	"tags, settings, node, date_created, date_updated"

var conferenceInsert = "INSERT INTO conferences (" + conferenceColumns + ") VALUES (" + placeholders(20) + ")"

const conferenceUpdate = "UPDATE conferences SET status = $1, api_version = $2, region = $3, max_participants = $4, " +
	"start_time = $5, end_time = $6, reason_conference_ended = $7, reason = $8, call_sid_ending_conference = $9, " +
	"participant_label_ending_conference = $10, unique_participants = $11, max_concurrent_participants = $12, " +
	"tags = $13, settings = $14, date_updated = $15 WHERE sid = $16"

func scanConference(sc scanner) (Conference, error) {
	var c Conference
	var status, tags, settings string
	var maxParticipants, start, end, unique, concurrent, created, updated int64
	if err := sc.Scan(&c.SID, &c.AccountSID, &c.FriendlyName, &status, &c.APIVersion, &c.Region, &maxParticipants,
		&start, &end, &c.ReasonConferenceEnded, &c.Reason, &c.CallSIDEndingConference,
		&c.ParticipantLabelEndingConference, &unique, &concurrent,
		&tags, &settings, &c.Node, &created, &updated); err != nil {
		return Conference{}, err
	}
	c.Status = ConferenceStatus(status)
	c.MaxParticipants, c.UniqueParticipants, c.MaxConcurrentParticipants = int(maxParticipants), int(unique), int(concurrent)
	c.StartTime, c.EndTime = fromOptMicros(start), fromOptMicros(end)
	c.DateCreated, c.DateUpdated = fromMicros(created), fromMicros(updated)
	if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil {
		return Conference{}, fmt.Errorf("conference %s tags: %w", c.SID, err)
	}
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	if err := json.Unmarshal([]byte(settings), &c.Settings); err != nil {
		return Conference{}, fmt.Errorf("conference %s settings: %w", c.SID, err)
	}
	return c, nil
}

func (c *Conference) normalise() {
	c.StartTime, c.EndTime = optTruncate(c.StartTime), optTruncate(c.EndTime)
	c.DateCreated, c.DateUpdated = truncate(c.DateCreated), truncate(c.DateUpdated)
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
}

// jsonColumns encodes the conference's JSON columns: tags and settings.
func (c *Conference) jsonColumns() (tags, settings string, err error) {
	t := c.Tags
	if t == nil {
		t = []string{}
	}
	tb, err := json.Marshal(t)
	if err != nil {
		return "", "", fmt.Errorf("conference %s tags: %w", c.SID, err)
	}
	sb, err := json.Marshal(c.Settings)
	if err != nil {
		return "", "", fmt.Errorf("conference %s settings: %w", c.SID, err)
	}
	return string(tb), string(sb), nil
}

func conferenceChange(c Conference) ConferenceChange {
	return ConferenceChange{
		Status: c.Status, FriendlyName: c.FriendlyName,
		ReasonConferenceEnded: c.ReasonConferenceEnded, Reason: c.Reason,
		CallSIDEndingConference:          c.CallSIDEndingConference,
		ParticipantLabelEndingConference: c.ParticipantLabelEndingConference,
	}
}

func (s *sqlStore) SaveConference(ctx context.Context, c Conference, parts []Participant, evs []Event, cbs []Callback) (Conference, error) {
	if c.SID == "" || c.AccountSID == "" || c.FriendlyName == "" || !c.Status.Valid() {
		return Conference{}, fmt.Errorf("%w: conference without SID, account, name or valid status", ErrInvalid)
	}
	if c.DateUpdated.IsZero() {
		c.DateUpdated = time.Now()
	}
	var saved Conference
	if err := s.write(ctx, "save conference", c.SID, func(ctx context.Context, tx *sql.Tx) (err error) {
		saved, err = s.saveConference(ctx, tx, c, parts, evs, cbs)
		return err
	}); err != nil {
		return Conference{}, err
	}
	return saved, nil
}

// saveConference is SaveConference within tx.
func (s *sqlStore) saveConference(ctx context.Context, tx *sql.Tx, c Conference, parts []Participant, evs []Event, cbs []Callback) (Conference, error) {
	// The room row first, locked (or inserted): every write of a room and
	// its participants goes through it, so saves of one room serialise.
	maxConcurrent := 0
	old, err := scanConference(tx.QueryRowContext(ctx,
		"SELECT "+conferenceColumns+" FROM conferences WHERE sid = $1"+s.forUpdate(), c.SID))
	switch {
	case err == nil:
		if old.AccountSID != c.AccountSID {
			return Conference{}, fmt.Errorf("%w: conference SID %s is another account's", ErrConflict, c.SID)
		}
		if old.Status == ConferenceCompleted && c.Status != ConferenceCompleted {
			return Conference{}, fmt.Errorf("%w: conference %s already completed", ErrConflict, c.SID)
		}
		c.DateCreated, c.FriendlyName, c.Node = old.DateCreated, old.FriendlyName, old.Node
		maxConcurrent = old.MaxConcurrentParticipants
		c.normalise()
	case errors.Is(err, sql.ErrNoRows):
		if c.DateCreated.IsZero() {
			c.DateCreated = c.DateUpdated
		}
		c.UniqueParticipants, c.MaxConcurrentParticipants = 0, 0
		c.normalise()
		tags, settings, err := c.jsonColumns()
		if err != nil {
			return Conference{}, err
		}
		if _, err := tx.ExecContext(ctx, conferenceInsert,
			c.SID, c.AccountSID, c.FriendlyName, string(c.Status), c.APIVersion, c.Region, int64(c.MaxParticipants),
			optMicros(c.StartTime), optMicros(c.EndTime), c.ReasonConferenceEnded, c.Reason, c.CallSIDEndingConference,
			c.ParticipantLabelEndingConference, int64(0), int64(0),
			tags, settings, c.Node, micros(c.DateCreated), micros(c.DateUpdated)); err != nil {
			return Conference{}, fmt.Errorf("save conference %s: %w", c.SID, classify(err))
		}
	default:
		return Conference{}, notFound(err, "conference", c.SID)
	}

	saved := make(map[string]Participant, len(parts))
	for _, p := range parts {
		p, err := s.saveParticipant(ctx, tx, c, p)
		if err != nil {
			return Conference{}, fmt.Errorf("save conference %s: %w", c.SID, err)
		}
		saved[p.SID] = p
	}

	// The counts Insights reports, from the rows as they now are.
	var connected, unique, open int64
	if err := tx.QueryRowContext(ctx,
		"SELECT COALESCE(SUM(CASE WHEN status = $2 THEN 1 ELSE 0 END), 0), "+
			"COUNT(DISTINCT CASE WHEN join_time <> 0 THEN "+
			"CASE WHEN direction = $3 THEN from_address ELSE to_address END END), "+
			"COALESCE(SUM(CASE WHEN "+openParticipant+" THEN 1 ELSE 0 END), 0) "+
			"FROM conference_participants WHERE conference_sid = $1",
		c.SID, string(ParticipantConnected), DirectionInbound).Scan(&connected, &unique, &open); err != nil {
		return Conference{}, fmt.Errorf("save conference %s: count participants: %w", c.SID, err)
	}
	if c.Status == ConferenceCompleted && open > 0 {
		return Conference{}, fmt.Errorf("%w: conference %s completed with %d participants still in it", ErrConflict, c.SID, open)
	}
	c.UniqueParticipants, c.MaxConcurrentParticipants = int(unique), max(maxConcurrent, int(connected))
	tags, settings, err := c.jsonColumns()
	if err != nil {
		return Conference{}, err
	}
	if _, err := tx.ExecContext(ctx, conferenceUpdate,
		string(c.Status), c.APIVersion, c.Region, int64(c.MaxParticipants),
		optMicros(c.StartTime), optMicros(c.EndTime), c.ReasonConferenceEnded, c.Reason, c.CallSIDEndingConference,
		c.ParticipantLabelEndingConference, int64(c.UniqueParticipants), int64(c.MaxConcurrentParticipants),
		tags, settings, micros(c.DateUpdated), c.SID); err != nil {
		return Conference{}, fmt.Errorf("save conference %s: %w", c.SID, classify(err))
	}

	for _, ev := range evs {
		ev.AccountSID = c.AccountSID
		if ev.Type == "" {
			ev.Type = EventConference
		}
		if ev.ResourceSID == "" {
			if ev.Type == EventParticipant {
				if len(parts) != 1 {
					return Conference{}, fmt.Errorf("%w: participant event without ResourceSID saved with %d participants",
						ErrInvalid, len(parts))
				}
				ev.ResourceSID = parts[0].SID
			} else {
				ev.ResourceSID = c.SID
			}
		}
		p, isPart := saved[ev.ResourceSID]
		if isPart && ev.CallSID == "" {
			ev.CallSID = p.CallSID
		}
		if ev.Time.IsZero() {
			ev.Time = c.DateUpdated
		}
		var payload any
		switch {
		case ev.Type == EventConference && ev.ResourceSID == c.SID:
			if ev.Name == "" {
				ev.Name = string(c.Status)
			}
			payload = conferenceChange(c)
		case ev.Type == EventParticipant && isPart:
			if ev.Name == "" {
				ev.Name = string(p.Status)
			}
			payload = participantChange(p)
		}
		if len(ev.Payload) == 0 && payload != nil {
			if ev.Payload, err = json.Marshal(payload); err != nil {
				return Conference{}, fmt.Errorf("save conference %s: %w", c.SID, err)
			}
		}
		if _, err := s.insertEvent(ctx, tx, ev); err != nil {
			return Conference{}, fmt.Errorf("save conference %s: %w", c.SID, err)
		}
	}
	if err := s.insertCallbacks(ctx, tx, cbs, c.AccountSID, c.SID); err != nil {
		return Conference{}, fmt.Errorf("save conference %s: %w", c.SID, err)
	}
	return c, nil
}

func (s *sqlStore) Conference(ctx context.Context, accountSID, sid string) (Conference, error) {
	c, err := scanConference(s.r.QueryRowContext(ctx,
		"SELECT "+conferenceColumns+" FROM conferences WHERE sid = $1 AND account_sid = $2", sid, accountSID))
	if err != nil {
		return Conference{}, notFound(err, "conference", sid)
	}
	return c, nil
}

func (s *sqlStore) LiveConference(ctx context.Context, accountSID, friendlyName string) (Conference, error) {
	c, err := scanConference(s.r.QueryRowContext(ctx,
		"SELECT "+conferenceColumns+" FROM conferences WHERE account_sid = $1 AND friendly_name = $2 AND "+liveConference,
		accountSID, friendlyName))
	if err != nil {
		return Conference{}, notFound(err, "live conference", friendlyName)
	}
	return c, nil
}

func (s *sqlStore) ListConferences(ctx context.Context, f ConferenceFilter, p Page) ([]Conference, bool, error) {
	if f.AccountSID == "" {
		return nil, false, fmt.Errorf("%w: conference filter without AccountSID", ErrInvalid)
	}
	var q query
	q.add("SELECT ", conferenceColumns, " FROM conferences WHERE account_sid = ", q.arg(f.AccountSID))
	if f.FriendlyName != "" {
		q.add(" AND friendly_name = ", q.arg(f.FriendlyName))
	}
	if f.Status != "" {
		q.add(" AND status = ", q.arg(string(f.Status)))
	}
	if f.Region != "" {
		q.add(" AND region = ", q.arg(f.Region))
	}
	if f.ReasonConferenceEnded != "" {
		q.add(" AND reason_conference_ended = ", q.arg(f.ReasonConferenceEnded))
	}
	for _, b := range []struct {
		col, op string
		t       time.Time
	}{
		{"date_created", ">=", f.DateCreatedAfter},
		{"date_created", "<=", f.DateCreatedBefore},
		{"date_updated", ">=", f.DateUpdatedAfter},
		{"date_updated", "<=", f.DateUpdatedBefore},
	} {
		if !b.t.IsZero() {
			q.add(" AND ", b.col, " ", b.op, " ", q.arg(micros(b.t)))
		}
	}
	if err := q.page(p); err != nil {
		return nil, false, err
	}
	return list(ctx, s.r, "conferences", &q, p, scanConference)
}

// list runs a page query built by q and scans its rows with scan.
func list[T any](ctx context.Context, db *sql.DB, what string, q *query, p Page, scan func(scanner) (T, error)) ([]T, bool, error) {
	rows, err := db.QueryContext(ctx, q.sb.String(), q.args...)
	if err != nil {
		return nil, false, fmt.Errorf("list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list %s: %w", what, err)
	}
	out, more := trim(out, p)
	return out, more, nil
}

// ---- participants ----

const participantColumns = "sid, account_sid, conference_sid, call_sid, label, from_address, to_address, direction, " +
	"call_status, status, muted, hold, coaching, call_sid_to_coach, start_conference_on_enter, end_conference_on_exit, " +
	"beep_on_enter, beep_on_exit, jitter_buffer_size, join_time, leave_time, reason_participant_left, node, " +
	"date_created, date_updated"

var participantInsert = "INSERT INTO conference_participants (" + participantColumns + ") VALUES (" + placeholders(25) + ")"

const participantUpdate = "UPDATE conference_participants SET label = $1, from_address = $2, to_address = $3, " +
	"direction = $4, call_status = $5, status = $6, muted = $7, hold = $8, coaching = $9, call_sid_to_coach = $10, " +
	"start_conference_on_enter = $11, end_conference_on_exit = $12, beep_on_enter = $13, beep_on_exit = $14, " +
	"jitter_buffer_size = $15, join_time = $16, leave_time = $17, reason_participant_left = $18, date_updated = $19 " +
	"WHERE sid = $20"

func scanParticipant(sc scanner) (Participant, error) {
	var p Participant
	var callStatus, status string
	var join, leave, created, updated int64
	if err := sc.Scan(&p.SID, &p.AccountSID, &p.ConferenceSID, &p.CallSID, &p.Label, &p.From, &p.To, &p.Direction,
		&callStatus, &status, &p.Muted, &p.Hold, &p.Coaching, &p.CallSIDToCoach,
		&p.StartConferenceOnEnter, &p.EndConferenceOnExit, &p.BeepOnEnter, &p.BeepOnExit,
		&p.JitterBufferSize, &join, &leave, &p.ReasonParticipantLeft, &p.Node, &created, &updated); err != nil {
		return Participant{}, err
	}
	p.CallStatus, p.Status = CallStatus(callStatus), ParticipantStatus(status)
	p.JoinTime, p.LeaveTime = fromOptMicros(join), fromOptMicros(leave)
	p.DateCreated, p.DateUpdated = fromMicros(created), fromMicros(updated)
	return p, nil
}

func (p *Participant) normalise() {
	p.JoinTime, p.LeaveTime = optTruncate(p.JoinTime), optTruncate(p.LeaveTime)
	p.DateCreated, p.DateUpdated = truncate(p.DateCreated), truncate(p.DateUpdated)
}

func participantChange(p Participant) ParticipantChange {
	return ParticipantChange{
		Status: p.Status, CallSID: p.CallSID, Label: p.Label, CallStatus: p.CallStatus,
		Muted: p.Muted, Hold: p.Hold, Coaching: p.Coaching, CallSIDToCoach: p.CallSIDToCoach,
		ReasonParticipantLeft: p.ReasonParticipantLeft,
	}
}

// saveParticipant inserts or replaces p, a participant of c (whose row is
// locked), within tx, and returns it as stored.
func (s *sqlStore) saveParticipant(ctx context.Context, tx *sql.Tx, c Conference, p Participant) (Participant, error) {
	if p.ConferenceSID == "" {
		p.ConferenceSID = c.SID
	}
	if p.AccountSID == "" {
		p.AccountSID = c.AccountSID
	}
	if p.SID == "" || p.CallSID == "" || !p.Status.Valid() || p.ConferenceSID != c.SID || p.AccountSID != c.AccountSID {
		return Participant{}, fmt.Errorf("%w: participant %q without SID, call or valid status, or of another conference",
			ErrInvalid, p.SID)
	}
	if p.DateUpdated.IsZero() {
		p.DateUpdated = c.DateUpdated
	}
	old, err := scanParticipant(tx.QueryRowContext(ctx,
		"SELECT "+participantColumns+" FROM conference_participants WHERE sid = $1"+s.forUpdate(), p.SID))
	switch {
	case err == nil:
		if old.ConferenceSID != p.ConferenceSID || old.AccountSID != p.AccountSID || old.CallSID != p.CallSID {
			return Participant{}, fmt.Errorf("%w: participant SID %s is another conference's or call's", ErrConflict, p.SID)
		}
		if old.Status.Final() && p.Status != old.Status {
			return Participant{}, fmt.Errorf("%w: participant %s already %s", ErrConflict, p.SID, old.Status)
		}
		p.DateCreated, p.Node = old.DateCreated, old.Node
		p.normalise()
		_, err = tx.ExecContext(ctx, participantUpdate,
			p.Label, p.From, p.To, p.Direction, string(p.CallStatus), string(p.Status),
			p.Muted, p.Hold, p.Coaching, p.CallSIDToCoach,
			p.StartConferenceOnEnter, p.EndConferenceOnExit, p.BeepOnEnter, p.BeepOnExit,
			p.JitterBufferSize, optMicros(p.JoinTime), optMicros(p.LeaveTime), p.ReasonParticipantLeft,
			micros(p.DateUpdated), p.SID)
	case errors.Is(err, sql.ErrNoRows):
		if p.DateCreated.IsZero() {
			p.DateCreated = p.DateUpdated
		}
		if p.Node == "" {
			p.Node = c.Node
		}
		p.normalise()
		_, err = tx.ExecContext(ctx, participantInsert,
			p.SID, p.AccountSID, p.ConferenceSID, p.CallSID, p.Label, p.From, p.To, p.Direction,
			string(p.CallStatus), string(p.Status), p.Muted, p.Hold, p.Coaching, p.CallSIDToCoach,
			p.StartConferenceOnEnter, p.EndConferenceOnExit, p.BeepOnEnter, p.BeepOnExit,
			p.JitterBufferSize, optMicros(p.JoinTime), optMicros(p.LeaveTime), p.ReasonParticipantLeft, p.Node,
			micros(p.DateCreated), micros(p.DateUpdated))
	default:
		return Participant{}, notFound(err, "participant", p.SID)
	}
	if err != nil {
		return Participant{}, fmt.Errorf("save participant %s: %w", p.SID, classify(err))
	}
	return p, nil
}

func (s *sqlStore) Participant(ctx context.Context, accountSID, conferenceSID, callSIDOrLabel string) (Participant, error) {
	// The current participant first; among the others, a call SID match
	// before a label match, then the latest.
	p, err := scanParticipant(s.r.QueryRowContext(ctx,
		"SELECT "+participantColumns+" FROM conference_participants "+
			"WHERE account_sid = $1 AND conference_sid = $2 AND (call_sid = $3 OR (label = $3 AND label <> '')) "+
			"ORDER BY CASE WHEN "+openParticipant+" THEN 0 ELSE 1 END, "+
			"CASE WHEN call_sid = $3 THEN 0 ELSE 1 END, date_created DESC, sid DESC LIMIT 1",
		accountSID, conferenceSID, callSIDOrLabel))
	if err != nil {
		return Participant{}, notFound(err, "participant", callSIDOrLabel)
	}
	return p, nil
}

func (s *sqlStore) ParticipantBySID(ctx context.Context, accountSID, sid string) (Participant, error) {
	p, err := scanParticipant(s.r.QueryRowContext(ctx,
		"SELECT "+participantColumns+" FROM conference_participants WHERE sid = $1 AND account_sid = $2",
		sid, accountSID))
	if err != nil {
		return Participant{}, notFound(err, "participant", sid)
	}
	return p, nil
}

func (s *sqlStore) ListParticipants(ctx context.Context, f ParticipantFilter, p Page) ([]Participant, bool, error) {
	if f.AccountSID == "" {
		return nil, false, fmt.Errorf("%w: participant filter without AccountSID", ErrInvalid)
	}
	var q query
	q.add("SELECT ", participantColumns, " FROM conference_participants WHERE account_sid = ", q.arg(f.AccountSID))
	if f.ConferenceSID != "" {
		q.add(" AND conference_sid = ", q.arg(f.ConferenceSID))
	}
	if f.CallSID != "" {
		q.add(" AND call_sid = ", q.arg(f.CallSID))
	}
	if f.Label != "" {
		q.add(" AND label = ", q.arg(f.Label))
	}
	for _, b := range []struct {
		col string
		v   *bool
	}{{"muted", f.Muted}, {"hold", f.Hold}, {"coaching", f.Coaching}} {
		if b.v != nil {
			q.add(" AND ", b.col, " = ", q.arg(*b.v))
		}
	}
	if f.Current {
		q.add(" AND ", openParticipant)
	}
	if err := q.page(p); err != nil {
		return nil, false, err
	}
	return list(ctx, s.r, "participants", &q, p, scanParticipant)
}

// ---- crash recovery ----

func (s *sqlStore) FinalizeOpenConferences(ctx context.Context, node string) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("finalize open conferences: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// Each row ends when its node was last known alive: the later of its
	// last update and the node's last heartbeat.
	hb, err := heartbeats(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("finalize open conferences: %w", err)
	}

	readAll := func(query string, scan func(*sql.Rows) error) error {
		rows, err := tx.QueryContext(ctx, query, node)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	var confs []Conference
	if err := readAll("SELECT "+conferenceColumns+" FROM conferences WHERE "+liveConference+
		" AND ($1 = '' OR node = $1) ORDER BY date_created, sid"+s.forUpdate(), func(rows *sql.Rows) error {
		c, err := scanConference(rows)
		confs = append(confs, c)
		return err
	}); err != nil {
		return 0, fmt.Errorf("finalize open conferences: %w", err)
	}
	// The current participants of those rooms, and those of node's calls in
	// rooms other nodes mix.
	var parts []Participant
	if err := readAll("SELECT "+participantColumns+" FROM conference_participants WHERE "+openParticipant+
		" AND ($1 = '' OR node = $1 OR conference_sid IN (SELECT sid FROM conferences WHERE "+liveConference+
		" AND node = $1)) ORDER BY date_created, sid"+s.forUpdate(), func(rows *sql.Rows) error {
		p, err := scanParticipant(rows)
		parts = append(parts, p)
		return err
	}); err != nil {
		return 0, fmt.Errorf("finalize open conferences: %w", err)
	}

	// A participant left when the node that stopped did: the room's node when
	// the room is closed here, its call's node otherwise (its call ran on a
	// node that stopped, in a room another node still mixes). A room ends
	// no earlier than the last of its participants leaves.
	roomNode := make(map[string]string, len(confs))
	for _, c := range confs {
		roomNode[c.SID] = c.Node
	}
	lastLeave := make(map[string]time.Time)
	for _, p := range parts {
		dead := p.Node
		if n, ok := roomNode[p.ConferenceSID]; ok {
			dead = n
		}
		end := lastAlive(hb, dead, p.DateUpdated)
		switch p.Status {
		case ParticipantConnecting, ParticipantConnected:
			p.Status, p.CallStatus, p.ReasonParticipantLeft = ParticipantComplete, CallCompleted, ParticipantLeftHungUp
			p.LeaveTime = end
		default: // its call was still being placed
			p.Status, p.CallStatus, p.ReasonParticipantLeft = ParticipantFailed, CallFailed, ParticipantLeftAddFailed
		}
		p.DateUpdated = end
		if end.After(lastLeave[p.ConferenceSID]) {
			lastLeave[p.ConferenceSID] = end
		}
		if _, err := tx.ExecContext(ctx,
			"UPDATE conference_participants SET status = $1, call_status = $2, reason_participant_left = $3, "+
				"leave_time = $4, date_updated = $5 WHERE sid = $6",
			string(p.Status), string(p.CallStatus), p.ReasonParticipantLeft,
			optMicros(p.LeaveTime), micros(p.DateUpdated), p.SID); err != nil {
			return 0, fmt.Errorf("finalize participant %s: %w", p.SID, err)
		}
		payload, err := json.Marshal(participantChange(p))
		if err != nil {
			return 0, fmt.Errorf("finalize participant %s: %w", p.SID, err)
		}
		if _, err := s.insertEvent(ctx, tx, Event{
			AccountSID: p.AccountSID, CallSID: p.CallSID, ResourceSID: p.SID,
			Type: EventParticipant, Name: ParticipantEventLeave, Time: p.DateUpdated, Payload: payload,
		}); err != nil {
			return 0, fmt.Errorf("finalize participant %s: %w", p.SID, err)
		}
	}
	for _, c := range confs {
		end := lastAlive(hb, c.Node, c.DateUpdated)
		if l := lastLeave[c.SID]; l.After(end) {
			end = l
		}
		c.Status, c.EndTime, c.DateUpdated = ConferenceCompleted, end, end
		c.ReasonConferenceEnded, c.Reason = ConferenceEndedLastLeft, finalizeReason
		if _, err := tx.ExecContext(ctx,
			"UPDATE conferences SET status = $1, end_time = $2, reason_conference_ended = $3, reason = $4, "+
				"date_updated = $5 WHERE sid = $6",
			string(c.Status), micros(c.EndTime), c.ReasonConferenceEnded, c.Reason, micros(c.DateUpdated), c.SID); err != nil {
			return 0, fmt.Errorf("finalize conference %s: %w", c.SID, err)
		}
		payload, err := json.Marshal(conferenceChange(c))
		if err != nil {
			return 0, fmt.Errorf("finalize conference %s: %w", c.SID, err)
		}
		if _, err := s.insertEvent(ctx, tx, Event{
			AccountSID: c.AccountSID, ResourceSID: c.SID,
			Type: EventConference, Name: ConferenceEventEnd, Time: end, Payload: payload,
		}); err != nil {
			return 0, fmt.Errorf("finalize conference %s: %w", c.SID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("finalize open conferences: %w", classify(err))
	}
	return len(confs), nil
}
