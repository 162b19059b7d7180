package outbox

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// BenchmarkDeliver measures how fast one Deliverer drains the outbox of a
// SQLite store to a local app (signatures checked by the app, every callback
// acknowledged): "backlog" queues b.N callbacks over 100 calls first, then
// times their delivery; "rate=2000" queues them at 2,000/s (one event and
// callback per transaction, with a Kick, from 8 goroutines as calls in
// progress would) while the
// Deliverer delivers, and times until the last is delivered. Both report
// callbacks/s and the process's CPU time per callback (deliverer, store, the
// app and, for rate=2000, the producers: the figure that hardly moves when
// the machine is shared); nothing may be lost or delivered twice.
//
//	go test -run '^$' -bench Deliver -benchtime 20000x ./internal/outbox/
func BenchmarkDeliver(b *testing.B) {
	b.Run("backlog", func(b *testing.B) {
		st, app, account := benchStore(b)
		keys := queueCalls(b, st, app, account, 100, (b.N+99)/100)
		d := New(Config{Store: st, Client: newClient(b), Logger: discardLogger()})
		b.ResetTimer()
		cpu := cpuTime()
		start(b, d)
		app.waitKeys(len(keys))
		if err := d.Drain(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(len(keys))/b.Elapsed().Seconds(), "callbacks/s")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(len(keys)), "cpu-µs/callback")
		benchCheck(b, st, app, keys)
	})
	b.Run("rate=2000", func(b *testing.B) {
		st, app, account := benchStore(b)
		d := New(Config{Store: st, Client: newClient(b), Logger: discardLogger()})
		start(b, d)
		const rate, calls = 2000, 200
		sids := make([]string, calls)
		for i := range sids {
			sids[i] = sid.New(sid.Call)
		}
		// Producers, as calls in progress are: each owns the calls
		// p, p+producers... and queues callback i at begin + i/rate.
		const producers = 8
		var maxPending atomic.Int64
		keys := make([]string, b.N)
		b.ResetTimer()
		cpu := cpuTime()
		begin := time.Now()
		var wg sync.WaitGroup
		for p := range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := p; i < b.N; i += producers {
					if wait := time.Until(begin.Add(time.Duration(i) * time.Second / rate)); wait > 0 {
						time.Sleep(wait)
					}
					call, seq := sids[i%calls], i/calls
					key := fmt.Sprintf("c%d-%d", i%calls, seq)
					if _, err := st.AppendEvent(context.Background(),
						store.Event{AccountSID: account, CallSID: call, ResourceSID: call, Type: store.EventCall, Name: "ringing"},
						[]store.Callback{{URL: app.URL(), Method: http.MethodPost, MaxAttempts: 3, Params: callbackParams(account, call, key, seq)}},
					); err != nil {
						b.Error(err)
						return
					}
					keys[i] = key
					d.Kick()
					if i%rate == p {
						n, err := st.PendingCallbacks(context.Background())
						if err != nil {
							b.Error(err)
							return
						}
						for {
							m := maxPending.Load()
							if int64(n) <= m || maxPending.CompareAndSwap(m, int64(n)) {
								break
							}
						}
					}
				}
			}()
		}
		wg.Wait()
		if b.Failed() {
			return
		}
		offered := float64(b.N) / time.Since(begin).Seconds()
		app.waitKeys(len(keys))
		if err := d.Drain(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(offered, "offered/s")
		b.ReportMetric(float64(len(keys))/b.Elapsed().Seconds(), "callbacks/s")
		b.ReportMetric(float64(maxPending.Load()), "max-pending")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(len(keys)), "cpu-µs/callback")
		benchCheck(b, st, app, keys)
	})
}

func benchStore(b *testing.B) (store.Store, *testApp, string) {
	st, err := store.Open(context.Background(), "", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	app := newTestApp(b, nil)
	return st, app, newAccount(b, st, app)
}

func benchCheck(b *testing.B, st store.Store, app *testApp, keys []string) {
	checkDelivered(b, app.requests(), keys, false)
	if n := pending(b, st); n != 0 {
		b.Errorf("%d callbacks still pending", n)
	}
}
