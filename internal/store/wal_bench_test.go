package store

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/sid"
)

// BenchmarkSaveCallWALFrames measures what a call's saves write to the WAL:
// one op is one call, begun every 0.5 ms (2,000 calls/s), whose goroutine
// saves it as ringing, in-progress and completed a millisecond apart, as the
// interpreter does (DateCreated known). The checkpointer's clock is fake, so
// the WAL keeps every frame; after the run the frames of each commit are
// counted from the WAL's frame headers and named after the b-tree their
// page belongs to (SQLite's dbstat). Reported per commit: frames, writes,
// and the frames of each b-tree ("<name>-frames/commit"). Run it on one
// processor, as the load runs run switchboard:
//
//	GOMAXPROCS=1 taskset -c 1 go test -run '^$' -bench SaveCallWALFrames -benchtime 3000x ./internal/store
func BenchmarkSaveCallWALFrames(b *testing.B) {
	dir := b.TempDir()
	s, err := openSQLite(b.Context(), dir, clock.NewFake(time.Now()), nil, options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	as := sid.New(sid.Account)
	now := time.Now()
	a, err := s.CreateAccount(ctx, Account{SID: as, OwnerAccountSID: as, FriendlyName: "main",
		AuthToken: sid.NewToken(), Status: StatusActive, DateCreated: now, DateUpdated: now})
	if err != nil {
		b.Fatal(err)
	}
	wal := filepath.Join(dir, FileName+"-wal")
	before, err := os.Stat(wal)
	if err != nil {
		b.Fatal(err)
	}
	batches, ops := s.batch.batches.Load(), s.batch.ops.Load()
	statuses := []CallStatus{CallRinging, CallInProgress, CallCompleted}
	tick := time.NewTicker(time.Second / 2000)
	defer tick.Stop()
	var wg sync.WaitGroup
	for b.Loop() {
		<-tick.C
		wg.Go(func() {
			c := Call{SID: sid.New(sid.Call), AccountSID: a.SID, From: "+15550001111", To: "+15550002222",
				Direction: DirectionInbound, APIVersion: "2010-04-01", DateCreated: time.Now()}
			for i, status := range statuses {
				if i > 0 {
					time.Sleep(time.Millisecond) // the call's progress
				}
				c.Status = status
				saved, err := s.SaveCall(ctx, c, Event{Payload: []byte(`{"Status":"` + string(status) + `"}`)}, nil)
				if err != nil {
					b.Error(err)
					return
				}
				c = saved
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	commits, writes := s.batch.batches.Load()-batches, s.batch.ops.Load()-ops

	names := map[uint32]string{}
	rows, err := s.r.QueryContext(ctx, "SELECT name, pageno FROM dbstat")
	if err != nil {
		b.Fatalf("dbstat: %v", err)
	}
	for rows.Next() {
		var name string
		var page int64
		if err := rows.Scan(&name, &page); err != nil {
			b.Fatal(err)
		}
		names[uint32(page)] = name
	}
	rows.Close()
	data, err := os.ReadFile(wal)
	if err != nil {
		b.Fatal(err)
	}
	// A WAL is a 32-byte header, then frames: a 24-byte header (the page
	// number first) and the page.
	pageSize := int64(binary.BigEndian.Uint32(data[8:12]))
	frames := 0
	perTree := map[string]int{}
	for off := before.Size(); off+24+pageSize <= int64(len(data)); off += 24 + pageSize {
		frames++
		name := names[binary.BigEndian.Uint32(data[off:off+4])]
		if name == "" {
			name = "other"
		}
		perTree[name]++
	}
	b.ReportMetric(float64(frames)/float64(commits), "frames/commit")
	b.ReportMetric(float64(writes)/float64(commits), "writes/commit")
	for name, n := range perTree {
		b.ReportMetric(float64(n)/float64(commits), name+"-frames/commit")
	}
}
