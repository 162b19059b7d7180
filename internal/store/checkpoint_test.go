package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// TestCheckpointerKeepsTheWALShort: the writer never checkpoints, so until
// the checkpointer's first round the WAL file grows with every commit; after
// a round, the writer starts the WAL over and reuses the file. The store is
// opened as Open opens it, its checkpointer on a fake clock.
func TestCheckpointerKeepsTheWALShort(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFake(time.Unix(0, 0))
	ran := make(chan struct{}, 1)
	s, err := openSQLite(t.Context(), dir, clk, func() { ran <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	const acct = "AC00000000000000000000000000000001"
	a, err := s.CreateAccount(t.Context(), Account{SID: acct, OwnerAccountSID: acct, FriendlyName: "main",
		AuthToken: "00000000000000000000000000000001", Status: StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	wal := filepath.Join(dir, FileName+"-wal")
	walSize := func() int64 {
		t.Helper()
		fi, err := os.Stat(wal)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	save := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if _, err := s.CreateCall(t.Context(), testCall(a, i, CallQueued)); err != nil {
				t.Fatal(err)
			}
		}
	}

	save(0, 200)
	grown := walSize()
	save(200, 300)
	if n := walSize(); n <= grown {
		t.Fatalf("WAL %d bytes after 100 more commits, was %d: checkpointed without the checkpointer", n, grown)
	}
	grown = walSize()

	clk.Advance(checkpointEvery)
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("no checkpoint after the ticker fired")
	}
	save(300, 400)
	if n := walSize(); n != grown {
		t.Errorf("WAL %d bytes after a checkpoint and 100 commits, was %d: not started over", n, grown)
	}
}
