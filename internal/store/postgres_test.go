package store_test

import (
	"os"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/store/storetest"
)

// TestPostgres runs the conformance suite against the PostgreSQL database
// named by SWITCHBOARD_TEST_POSTGRES (a postgres:// DSN). Each subtest gets a
// schema of its own, dropped afterwards.
func TestPostgres(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip(storetest.PostgresEnv + " not set")
	}
	storetest.Run(t, func(t *testing.T) store.Store { return openPostgres(t, storetest.PostgresDSN(t)) })
}

// TestPostgresNodesShareOutbox has two stores on one database, as two nodes
// are, claim callbacks side by side.
func TestPostgresNodesShareOutbox(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	storetest.OutboxRace(t, openPostgres(t, dsn), openPostgres(t, dsn))
}

// openPostgres opens a store on dsn, closed after the test.
func openPostgres(t *testing.T, dsn string) store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), dsn, "")
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
