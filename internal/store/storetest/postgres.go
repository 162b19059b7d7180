package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
)

// PostgresEnv names the PostgreSQL server tests may use (a postgres:// DSN);
// scripts/test.sh starts a throwaway one and sets it.
const PostgresEnv = "SWITCHBOARD_TEST_POSTGRES"

// PostgresDSN returns the DSN of the server PostgresEnv names with a fresh
// schema of its own as search_path, dropped when the test ends (register it
// before anything that uses the schema, so that it is dropped after). It
// skips the test when PostgresEnv is not set. Stores opened on the DSN share
// the schema, as nodes sharing a database do.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Skip(PostgresEnv + " not set")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "sbtest_" + hex.EncodeToString(b[:])
	exec := func(ctx context.Context, stmt string) error {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, stmt)
		return err
	}
	if err := exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
