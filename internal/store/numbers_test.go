package store_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/store/storetest"
)

func TestCanonicalPhoneNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+15551234567", "+15551234567"},
		{"15551234567", "+15551234567"},
		{"+1 555-123-4567", "+15551234567"},
		{"+1 (555) 123.4567", "+15551234567"},
		{"1-555-123-4567", "+15551234567"},
		{"  +15551234567 ", "+15551234567"},
		{"442071838750", "+442071838750"},
		{"12345678", "+12345678"},                // 8 digits: international
		{"1234567", "1234567"},                   // 7: an extension, a name
		{"1234567890123456", "1234567890123456"}, // 16: too long for E.164, a name
		{"0312345678", "0312345678"},             // a national trunk prefix
		{"+0312345678", "+0312345678"},           // kept for the caller to refuse
		{"+12", "+12"},                           // short E.164 is the caller's to judge
		{"support", "support"},                   // names as written
		{"Support", "Support"},                   // case-sensitive, as SIP user parts
		{"room1", "room1"},
		{"1-800-FLOWERS", "1-800-FLOWERS"},
		{"+", "+"},
		{"", ""},
		{"+1415555010a", "+1415555010a"},
	}
	for _, tt := range tests {
		if got := store.CanonicalPhoneNumber(tt.in); got != tt.want {
			t.Errorf("CanonicalPhoneNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// Canonical is a fixed point.
		if again := store.CanonicalPhoneNumber(tt.want); again != tt.want {
			t.Errorf("CanonicalPhoneNumber(%q) = %q: not a fixed point", tt.want, again)
		}
	}
	// The routing path: a canonical number or a name costs no allocation.
	for _, s := range []string{"+15551234567", "support"} {
		if n := testing.AllocsPerRun(100, func() { store.CanonicalPhoneNumber(s) }); n != 0 {
			t.Errorf("CanonicalPhoneNumber(%q): %v allocations, want 0", s, n)
		}
	}
}

// TestNumberMigrationCanonicalises writes rows as the store wrote them before
// migration 00008 (numbers without their '+'), runs the migration's SQL on
// them (every Open runs it through goose on an empty table), and checks
// that lookups find the right number: the E.164 row's owner keeps its calls,
// a lone variant becomes E.164, and of two variants the older wins. Nothing
// is deleted.
func TestNumberMigrationCanonicalises(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		dir := t.TempDir()
		testNumberMigration(t, func() store.Store {
			st, err := store.Open(t.Context(), "", dir)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return st
		}, func() (*sql.DB, error) {
			return sql.Open("sqlite", filepath.Join(dir, store.FileName))
		})
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		if os.Getenv(storetest.PostgresEnv) == "" {
			t.Skip(storetest.PostgresEnv + " not set")
		}
		dsn := storetest.PostgresDSN(t)
		testNumberMigration(t, func() store.Store {
			st, err := store.Open(t.Context(), dsn, "")
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return st
		}, func() (*sql.DB, error) { return sql.Open("pgx", dsn) })
	})
}

func testNumberMigration(t *testing.T, open func() store.Store, raw func() (*sql.DB, error)) {
	ctx := t.Context()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	st := open()
	mainSID, subSID := sid.New(sid.Account), sid.New(sid.Account)
	for _, a := range []store.Account{
		{SID: mainSID, OwnerAccountSID: mainSID, FriendlyName: "main", AuthToken: sid.NewToken(), Status: store.StatusActive, DateCreated: t0, DateUpdated: t0},
		{SID: subSID, OwnerAccountSID: mainSID, FriendlyName: "sub", AuthToken: sid.NewToken(), Status: store.StatusActive, DateCreated: t0, DateUpdated: t0},
	} {
		if _, err := st.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := raw()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := []struct {
		account, phone string
		at             time.Duration // after t0
		sid            string
	}{
		{mainSID, "+15551234567", 0, ""},       // the owner, in E.164
		{subSID, "15551234567", time.Hour, ""}, // the takeover: stays, routes nothing
		{subSID, "1-555-000-1111", 0, ""},      // alone: becomes +15550001111
		{mainSID, "442071838750", 0, ""},       // two variants: the older wins
		{subSID, "44.20.7183.8750", time.Minute, ""},
		{mainSID, "1001", 0, ""}, // names stay names
		{mainSID, "support", 0, ""},
		{mainSID, "0312345678", 0, ""},
		{mainSID, "555-12-34", 0, ""}, // 7 digits: a name
	}
	for i := range rows {
		r := &rows[i]
		r.sid = sid.New(sid.IncomingPhoneNumber)
		at := t0.Add(r.at).UnixMicro()
		if _, err := db.ExecContext(ctx, "INSERT INTO incoming_phone_numbers (sid, account_sid, phone_number, friendly_name, api_version, "+
			"voice_url, voice_method, voice_fallback_url, voice_fallback_method, voice_application_sid, voice_caller_id_lookup, "+
			"status_callback, status_callback_method, sms_url, sms_method, sms_fallback_url, sms_fallback_method, date_created, date_updated) "+
			"VALUES ($1, $2, $3, $4, '2010-04-01', '', 'POST', '', 'POST', '', false, '', 'POST', '', 'POST', '', 'POST', $5, $5)",
			r.sid, r.account, r.phone, r.phone, at); err != nil {
			t.Fatalf("insert %s: %v", r.phone, err)
		}
	}
	// The rows are in; 00008 ran (on no rows) when the store was created.
	// Run its Up statements again, as goose does: one transaction.
	runMigrationUp(t, db, "migrations/00008_canonical_numbers.sql")
	db.Close()

	st = open()
	defer st.Close()
	stored := map[string]string{
		rows[0].sid: "+15551234567",
		rows[1].sid: "15551234567",
		rows[2].sid: "+15550001111",
		rows[3].sid: "+442071838750",
		rows[4].sid: "44.20.7183.8750",
		rows[5].sid: "1001",
		rows[6].sid: "support",
		rows[7].sid: "0312345678",
		rows[8].sid: "555-12-34",
	}
	for _, r := range rows {
		n, err := st.Number(ctx, r.account, r.sid)
		if err != nil {
			t.Fatalf("Number(%s) after the migration: %v", r.phone, err)
		}
		if n.PhoneNumber != stored[r.sid] {
			t.Errorf("%q is stored as %q after the migration, want %q", r.phone, n.PhoneNumber, stored[r.sid])
		}
	}
	routes := map[string]string{
		"15551234567":     rows[0].sid,
		"+15551234567":    rows[0].sid,
		"+1-555-123-4567": rows[0].sid,
		"15550001111":     rows[2].sid,
		"+15550001111":    rows[2].sid,
		"442071838750":    rows[3].sid,
		"1001":            rows[5].sid,
		"support":         rows[6].sid,
		"0312345678":      rows[7].sid,
	}
	for user, want := range routes {
		n, err := st.FindNumber(ctx, user)
		if err != nil || n.SID != want {
			t.Errorf("FindNumber(%q) = %s, %v; want %s", user, n.SID, err, want)
		}
	}
	// The row left in its old spelling can be renamed, and given a free
	// number, but not its taken canonical form.
	if _, err := st.UpdateNumber(ctx, subSID, rows[1].sid, func(n *store.IncomingPhoneNumber) error {
		n.FriendlyName = "renamed"
		return nil
	}); err != nil {
		t.Errorf("renaming the leftover variant: %v", err)
	}
	if _, err := st.UpdateNumber(ctx, subSID, rows[1].sid, func(n *store.IncomingPhoneNumber) error {
		n.PhoneNumber = "+15551234567"
		return nil
	}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("leftover variant to its canonical form: err = %v, want ErrConflict", err)
	}
}

// runMigrationUp runs the statements of a goose migration's Up section in one
// transaction. Statements end with a ';' at the end of a line, as goose
// splits them.
func runMigrationUp(t *testing.T, db *sql.DB, file string) {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, up, ok := strings.Cut(string(text), "-- +goose Up\n")
	if !ok {
		t.Fatalf("%s: no Up section", file)
	}
	up, _, _ = strings.Cut(up, "-- +goose Down")
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var stmt strings.Builder
	for line := range strings.SplitSeq(up, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		stmt.WriteString(line + "\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if _, err := tx.ExecContext(t.Context(), stmt.String()); err != nil {
				t.Fatalf("%s: %v\n%s", file, err, stmt.String())
			}
			stmt.Reset()
		}
	}
	if strings.TrimSpace(stmt.String()) != "" {
		t.Fatalf("%s: unterminated statement %q", file, stmt.String())
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
