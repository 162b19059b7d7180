package store_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/store/storetest"
)

func TestMain(m *testing.M) {
	// The tests of the checkpoint helper start this binary as the helper.
	if store.CheckpointHelperRequested() {
		os.Exit(store.RunCheckpointHelper(os.Stdin, os.Stdout))
	}
	goleak.VerifyTestMain(m)
}

// openSQLite opens a fresh SQLite store in a temporary directory.
func openSQLite(t testing.TB) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "", t.TempDir())
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

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openSQLite(t) })
}

// TestSQLiteNodesShareOutbox has two stores on one database file, as two
// processes would, claim callbacks side by side.
func TestSQLiteNodesShareOutbox(t *testing.T) {
	dir := t.TempDir()
	open := func() store.Store {
		st, err := store.Open(t.Context(), "", dir)
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
	storetest.OutboxRace(t, open(), open())
}

// TestDialectMigrationsInStep checks that every dialect-specific migration
// exists for both dialects.
func TestDialectMigrationsInStep(t *testing.T) {
	names := func(dir string) []string {
		entries, err := os.ReadDir(filepath.Join("migrations", dir))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	sqlite, postgres := names("sqlite"), names("postgres")
	if !slices.Equal(sqlite, postgres) || len(sqlite) == 0 {
		t.Errorf("migrations/sqlite has %v, migrations/postgres %v: want the same files", sqlite, postgres)
	}
}

func TestOpenSQLiteCreatesDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?with#odd chars", "data")
	st, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer st.Close()
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); err != nil {
		t.Fatalf("database file: %v", err)
	}
	wal, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	// The SQLite header's write and read format versions are 2 in WAL mode.
	if len(wal) < 20 || wal[18] != 2 || wal[19] != 2 {
		t.Errorf("database is not in WAL mode (header bytes 18-19 = %v)", wal[18:20])
	}
}

func TestOpenSQLiteReopensAndKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	st, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	a := store.Account{SID: "AC00000000000000000000000000000001", OwnerAccountSID: "AC00000000000000000000000000000001",
		FriendlyName: "main", AuthToken: "00000000000000000000000000000001", Status: store.StatusActive}
	if _, err := st.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// A second Open finds the schema current and the data in place.
	st, err = store.Open(ctx, "", dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st.Close()
	got, err := st.MainAccount(ctx)
	if err != nil || got.SID != a.SID {
		t.Fatalf("MainAccount after reopen = %v, %v", got.SID, err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, dsn, dir string
	}{
		{"unknown scheme", "mysql://localhost/db", t.TempDir()},
		{"no data dir", "", ""},
		{"data dir is a file", "", filepath.Join(writeFile(t), "sub")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := store.Open(t.Context(), tt.dsn, tt.dir)
			if err == nil {
				st.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}

func writeFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
