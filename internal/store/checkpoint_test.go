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
// opened as Open opens it, its checkpointer on a fake clock; the checkpoints
// run in-process, or in a helper process (this test binary, whose TestMain
// runs RunCheckpointHelper when asked), as switchboard serve has them.
func TestCheckpointerKeepsTheWALShort(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		s, wal, round := openCheckpointed(t, options{})
		checkWALStartsOver(t, s, wal, round)
	})
	t.Run("helper", func(t *testing.T) {
		s, wal, round := openCheckpointed(t, options{helperExe: testExecutable(t)})
		if s.checkpoints.helper == nil {
			t.Fatal("no helper started")
		}
		checkWALStartsOver(t, s, wal, round)
		if s.checkpoints.helper == nil {
			t.Fatal("the helper was dropped: the checkpoint ran in-process")
		}
	})
}

// testExecutable is this test binary, which TestMain makes a checkpoint
// helper when asked.
func testExecutable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// openCheckpointed opens a SQLite store with o, its checkpointer on a fake
// clock; round makes the checkpointer run once and waits for it.
func openCheckpointed(t *testing.T, o options) (s *sqlStore, wal string, round func()) {
	t.Helper()
	clk := clock.NewFake(time.Unix(0, 0))
	ran := make(chan struct{}, 1)
	dir := t.TempDir()
	s, err := openSQLite(t.Context(), dir, clk, func() { ran <- struct{}{} }, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, filepath.Join(dir, FileName+"-wal"), func() {
		t.Helper()
		clk.Advance(checkpointEvery)
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Fatal("no checkpoint after the ticker fired")
		}
	}
}

// checkWALStartsOver checks that s's WAL (the file wal) grows until round runs a
// checkpoint, and starts over after it.
func checkWALStartsOver(t *testing.T, s *sqlStore, wal string, round func()) {
	t.Helper()
	const acct = "AC00000000000000000000000000000001"
	a, err := s.CreateAccount(t.Context(), Account{SID: acct, OwnerAccountSID: acct, FriendlyName: "main",
		AuthToken: "00000000000000000000000000000001", Status: StatusActive})
	if err != nil {
		t.Fatal(err)
	}
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

	round()
	save(300, 400)
	if n := walSize(); n != grown {
		t.Errorf("WAL %d bytes after a checkpoint and 100 commits, was %d: not started over", n, grown)
	}
}

// TestCheckpointHelperDiesCheckpointsGoOn: a helper that dies is dropped at
// the next round, which runs in-process; the WAL still starts over.
func TestCheckpointHelperDiesCheckpointsGoOn(t *testing.T) {
	s, wal, round := openCheckpointed(t, options{helperExe: testExecutable(t)})
	h := s.checkpoints.helper
	if h == nil {
		t.Fatal("no helper started")
	}
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	checkWALStartsOver(t, s, wal, round)
	if s.checkpoints.helper != nil {
		t.Fatal("the dead helper was kept")
	}
}

// TestCheckpointHelperEndsWithTheStore: closing the store ends its helper,
// as the end of its standard input does when the server dies.
func TestCheckpointHelperEndsWithTheStore(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	s, err := openSQLite(t.Context(), t.TempDir(), clk, nil, options{helperExe: testExecutable(t)})
	if err != nil {
		t.Fatal(err)
	}
	h := s.checkpoints.helper
	if h == nil {
		t.Fatal("no helper started")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := h.cmd.ProcessState; st == nil || !st.Exited() || st.ExitCode() != 0 {
		t.Fatalf("helper after Close: %v", st)
	}
}

// TestCheckpointHelperThatCannotStart: the checkpoints run in-process.
func TestCheckpointHelperThatCannotStart(t *testing.T) {
	s, wal, round := openCheckpointed(t, options{helperExe: filepath.Join(t.TempDir(), "missing")})
	if s.checkpoints.helper != nil {
		t.Fatal("a helper that cannot start")
	}
	checkWALStartsOver(t, s, wal, round)
}

// TestCheckpointHelperThatFails: a helper that answers but whose every
// checkpoint fails (a script that says so) is given up after
// maxHelperFailures rounds; the checkpoints go on in-process.
func TestCheckpointHelperThatFails(t *testing.T) {
	script := filepath.Join(t.TempDir(), "helper")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho ready\nwhile read l; do echo 'error database is locked'; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, wal, round := openCheckpointed(t, options{helperExe: script})
	if s.checkpoints.helper == nil {
		t.Fatal("no helper started")
	}
	for range maxHelperFailures - 1 {
		round()
	}
	if s.checkpoints.helper == nil {
		t.Fatalf("the helper was given up before %d failures", maxHelperFailures)
	}
	checkWALStartsOver(t, s, wal, round)
	if s.checkpoints.helper != nil {
		t.Fatal("a helper that always fails was kept")
	}
}
