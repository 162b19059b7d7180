package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/store/storetest"
)

// TestPostgres runs the conformance suite against the PostgreSQL database
// named by SWITCHBOARD_TEST_POSTGRES (a postgres:// DSN). Each subtest gets a
// schema of its own, dropped afterwards.
func TestPostgres(t *testing.T) {
	dsn := os.Getenv("SWITCHBOARD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("SWITCHBOARD_TEST_POSTGRES not set")
	}
	storetest.Run(t, func(t *testing.T) store.Store { return openPostgres(t, dsn) })
}

// TestPostgresNodesShareOutbox has two stores on one database, as two nodes
// are, claim callbacks side by side.
func TestPostgresNodesShareOutbox(t *testing.T) {
	dsn := os.Getenv("SWITCHBOARD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("SWITCHBOARD_TEST_POSTGRES not set")
	}
	schema := createSchema(t, dsn)
	storetest.OutboxRace(t, openPostgresSchema(t, dsn, schema), openPostgresSchema(t, dsn, schema))
}

func openPostgres(t *testing.T, dsn string) store.Store {
	t.Helper()
	return openPostgresSchema(t, dsn, createSchema(t, dsn))
}

// createSchema creates a schema of a random name, dropped after the test.
func createSchema(t *testing.T, dsn string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "sbtest_" + hex.EncodeToString(b[:])

	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return schema
}

// openPostgresSchema opens a store on schema, closed after the test.
func openPostgresSchema(t *testing.T, dsn, schema string) store.Store {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := store.Open(t.Context(), u.String(), "")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}
