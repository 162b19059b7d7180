package store

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// TestCheckpointerKeepsTheWALShort: the writer never checkpoints, so without
// the checkpointer the WAL file grows with every commit; after a round of
// the checkpointer, the writer starts the WAL over and reuses the file.
func TestCheckpointerKeepsTheWALShort(t *testing.T) {
	dir := t.TempDir()
	s, a := openWriterStore(t, dir)
	if err := s.checkpoints.close(); err != nil { // the one on real time
		t.Fatal(err)
	}
	s.checkpoints = nil
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

	cp, err := sql.Open("sqlite", sqliteURI(filepath.Join(dir, FileName), nil))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Unix(0, 0))
	ran := make(chan struct{}, 1)
	c := startCheckpointer(cp, clk, func() { ran <- struct{}{} })
	defer c.close()
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
