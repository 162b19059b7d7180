package store_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// seed creates a main account with n numbers +1555000NNNN.
func seed(b *testing.B, st store.Store, n int) store.Account {
	b.Helper()
	ctx := b.Context()
	s := sid.New(sid.Account)
	now := time.Now()
	a, err := st.CreateAccount(ctx, store.Account{SID: s, OwnerAccountSID: s, FriendlyName: "main",
		AuthToken: sid.NewToken(), Status: store.StatusActive, DateCreated: now, DateUpdated: now})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if _, err := st.CreateNumber(ctx, store.IncomingPhoneNumber{
			SID: sid.New(sid.IncomingPhoneNumber), AccountSID: a.SID, PhoneNumber: fmt.Sprintf("+1555000%04d", i),
			FriendlyName: "n", APIVersion: "2010-04-01", VoiceURL: "https://example.com/voice", VoiceMethod: "POST",
			DateCreated: now.Add(time.Duration(i)), DateUpdated: now,
		}); err != nil {
			b.Fatal(err)
		}
	}
	return a
}

// BenchmarkFindNumber measures the lookup every incoming INVITE makes.
func BenchmarkFindNumber(b *testing.B) {
	st := openSQLite(b)
	seed(b, st, 1000)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := st.FindNumber(ctx, fmt.Sprintf("+1555000%04d", i%1000)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkFindNumberParallel(b *testing.B) {
	st := openSQLite(b)
	seed(b, st, 1000)
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := st.FindNumber(ctx, fmt.Sprintf("+1555000%04d", i%1000)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkListNumbersPage measures one page of 50 by keyset from deep in a
// list of 1000.
func BenchmarkListNumbersPage(b *testing.B) {
	st := openSQLite(b)
	a := seed(b, st, 1000)
	ctx := b.Context()
	f := store.NumberFilter{AccountSID: a.SID}
	mid, _, err := st.ListNumbers(ctx, f, store.Page{Size: 1, Offset: 900})
	if err != nil {
		b.Fatal(err)
	}
	c := &store.Cursor{DateCreated: mid[0].DateCreated, SID: mid[0].SID}
	b.ReportAllocs()
	for b.Loop() {
		ns, _, err := st.ListNumbers(ctx, f, store.Page{Size: 50, After: c})
		if err != nil || len(ns) != 50 {
			b.Fatal(len(ns), err)
		}
	}
}

func openSQLiteDir(b *testing.B, dir string) store.Store {
	st, err := store.Open(b.Context(), "", dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkSaveCallParallel measures concurrent SaveCall throughput, as calls
// write their records: 64 goroutines per GOMAXPROCS each take calls through
// ringing, in-progress and completed (three saves, each with its event), so
// the first save of a call inserts and the next two update. One op is one
// SaveCall; saves/s is the throughput, cpu-µs/save the CPU time of the whole
// process per save (the figure that holds still on a shared machine).
func BenchmarkSaveCallParallel(b *testing.B) {
	st := openSQLite(b)
	a := seed(b, st, 0)
	ctx := b.Context()
	statuses := []store.CallStatus{store.CallRinging, store.CallInProgress, store.CallCompleted}
	b.SetParallelism(64)
	b.ReportAllocs()
	b.ResetTimer()
	cpu, wrote := cpuTime(), writtenBytes()
	b.RunParallel(func(pb *testing.PB) {
		var c store.Call
		for i := 0; pb.Next(); i++ {
			if i%len(statuses) == 0 {
				c = store.Call{SID: sid.New(sid.Call), AccountSID: a.SID, From: "+15550001111", To: "+15550002222",
					Direction: store.DirectionInbound, APIVersion: "2010-04-01"}
			}
			c.Status = statuses[i%len(statuses)]
			if _, err := st.SaveCall(ctx, c, store.Event{}, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "saves/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/save")
	if wrote >= 0 {
		b.ReportMetric(float64(writtenBytes()-wrote)/float64(b.N), "written-B/save")
	}
}

// writtenBytes returns the bytes the process has written so far by write
// system calls (wchar of /proc/self/io, Linux), or -1 where that is not
// known. Per save it counts the WAL frames a save costs.
func writtenBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// BenchmarkSaveCallPaced measures what a call's saves cost at a steady rate
// below the writer's capacity, as in a load run: one op is one call, begun
// every 1.25 ms (800 calls/s), whose goroutine saves it as ringing,
// in-progress and completed, a millisecond apart. Without a commit delay
// the writer commits as soon as it gets the processor, a few writes at a
// time; with one (store.CommitDelayer, which the server sets when the
// processors are busy) it commits less often, more writes at a time. Run it
// on one processor (GOMAXPROCS=1 and taskset), as the load runs run
// switchboard.
func BenchmarkSaveCallPaced(b *testing.B) {
	for _, delay := range []time.Duration{0, 3 * time.Millisecond} {
		b.Run("delay="+delay.String(), func(b *testing.B) {
			st := openSQLite(b)
			a := seed(b, st, 0)
			st.(store.CommitDelayer).SetCommitDelay(delay)
			ctx := b.Context()
			statuses := []store.CallStatus{store.CallRinging, store.CallInProgress, store.CallCompleted}
			tick := time.NewTicker(time.Second / 800)
			defer tick.Stop()
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			cpu, wrote := cpuTime(), writtenBytes()
			for b.Loop() {
				<-tick.C
				wg.Go(func() {
					// As the interpreter: DateCreated set from the start,
					// each save from the record the last returned.
					c := store.Call{SID: sid.New(sid.Call), AccountSID: a.SID, From: "+15550001111", To: "+15550002222",
						Direction: store.DirectionInbound, APIVersion: "2010-04-01", DateCreated: time.Now()}
					for i, status := range statuses {
						if i > 0 {
							time.Sleep(time.Millisecond) // the call's progress
						}
						c.Status = status
						saved, err := st.SaveCall(ctx, c, store.Event{Payload: []byte(`{}`)}, nil)
						if err != nil {
							b.Error(err)
							return
						}
						c = saved
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/call")
			if wrote >= 0 {
				b.ReportMetric(float64(writtenBytes()-wrote)/float64(b.N), "written-B/call")
			}
		})
	}
}
