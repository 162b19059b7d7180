package outbox

// Integration tests against the real store: SQLite always, PostgreSQL when
// SWITCHBOARD_TEST_POSTGRES names a server (scripts/test.sh starts one).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/store/storetest"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// backend opens stores on one fresh database; every call of open returns a
// new connection to the same database (a node of its own).
type backend struct {
	name string
	open func(t testing.TB) store.Store
}

func backends(t *testing.T) []backend {
	bs := []backend{{"sqlite", sqliteBackend(t)}}
	if os.Getenv(storetest.PostgresEnv) != "" {
		bs = append(bs, backend{"postgres", postgresBackend(t)})
	} else {
		t.Log(storetest.PostgresEnv + " not set: PostgreSQL skipped")
	}
	return bs
}

// sqliteBackend shares one store among the nodes: SQLite has a single
// writer per file, so nodes of one process share the connection.
func sqliteBackend(t *testing.T) func(testing.TB) store.Store {
	var once sync.Once
	var st store.Store
	return func(tb testing.TB) store.Store {
		once.Do(func() {
			var err error
			st, err = store.Open(context.Background(), "", t.TempDir())
			if err != nil {
				tb.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		})
		return st
	}
}

// postgresBackend makes a schema of its own on the server (dropped at the
// end) and opens a new store on it for each node, as separate processes
// would.
func postgresBackend(t *testing.T) func(testing.TB) store.Store {
	dsn := storetest.PostgresDSN(t)
	return func(tb testing.TB) store.Store {
		st, err := store.Open(context.Background(), dsn, "")
		if err != nil {
			tb.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := st.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return st
	}
}

// newAccount creates an account and tells the app its token.
func newAccount(t testing.TB, st store.Store, app *testApp) string {
	t.Helper()
	s := sid.New(sid.Account)
	now := time.Now()
	a, err := st.CreateAccount(context.Background(), store.Account{
		SID: s, OwnerAccountSID: s, FriendlyName: "outbox test", AuthToken: sid.NewToken(),
		Status: store.StatusActive, DateCreated: now, DateUpdated: now,
	})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	app.setToken(a.SID, a.AuthToken)
	return a.SID
}

// queueCalls queues perCall callbacks for each of calls calls, round robin
// (so that the calls' IDs interleave), each with its own event, and returns
// their keys.
func queueCalls(t testing.TB, st store.Store, app *testApp, account string, calls, perCall int) []string {
	t.Helper()
	sids := make([]string, calls)
	for c := range sids {
		sids[c] = sid.New(sid.Call)
	}
	var keys []string
	for i := range perCall {
		for c, call := range sids {
			key := fmt.Sprintf("c%d-%d", c, i)
			_, err := st.AppendEvent(context.Background(),
				store.Event{AccountSID: account, CallSID: call, ResourceSID: call, Type: store.EventCall, Name: "ringing"},
				[]store.Callback{{
					URL: app.URL(), Method: http.MethodPost, MaxAttempts: 3,
					Params: callbackParams(account, call, key, i),
				}})
			if err != nil {
				t.Fatalf("AppendEvent: %v", err)
			}
			keys = append(keys, key)
		}
	}
	return keys
}

// countingStore counts the acks of one node.
type countingStore struct {
	store.Store
	acks atomic.Int64
}

func (s *countingStore) AckCallback(ctx context.Context, node string, id int64) error {
	err := s.Store.AckCallback(ctx, node, id)
	if err == nil {
		s.acks.Add(1)
	}
	return err
}

func newClient(t testing.TB) *webhook.Client {
	c := webhook.New(webhook.Config{})
	t.Cleanup(c.Close)
	return c
}

// start runs d until stop is called or the test ends; stop returns Run's
// error.
func start(t testing.TB, d *Deliverer) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(waitTimeout):
				err = errors.New("Run did not return")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func pending(t testing.TB, st store.Store) int {
	t.Helper()
	n, err := st.PendingCallbacks(context.Background())
	if err != nil {
		t.Fatalf("PendingCallbacks: %v", err)
	}
	return n
}

// TestTwoNodesExactlyOnce: two nodes share one database; 500 callbacks over
// 50 calls are each delivered exactly once, each call's in order, signed.
func TestTwoNodesExactlyOnce(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			app := newTestApp(t, nil)
			stA, stB := &countingStore{Store: b.open(t)}, &countingStore{Store: b.open(t)}
			account := newAccount(t, stA.Store, app)
			keys := queueCalls(t, stA.Store, app, account, 50, 10)

			var failures atomic.Int64
			onError := func(e *webhook.Error) { failures.Add(1); t.Errorf("delivery failed: %v", e) }
			cfg := func(st *countingStore, node string) Config {
				return Config{Store: st, Client: newClient(t), Logger: discardLogger(), Node: node,
					Workers: 16, Poll: 20 * time.Millisecond, OnError: onError}
			}
			a, bb := New(cfg(stA, "node-a")), New(cfg(stB, "node-b"))
			stopA, stopB := start(t, a), start(t, bb)
			a.Kick()
			bb.Kick()
			app.waitKeys(len(keys))
			// Let the acks of the last deliveries land.
			for _, d := range []*Deliverer{a, bb} {
				if err := d.Drain(t.Context()); err != nil {
					t.Fatalf("Drain: %v", err)
				}
			}
			for _, stop := range []func() error{stopA, stopB} {
				if err := stop(); !errors.Is(err, context.Canceled) {
					t.Errorf("Run: %v", err)
				}
			}
			checkDelivered(t, app.requests(), keys, false)
			if n := pending(t, stA.Store); n != 0 {
				t.Errorf("%d callbacks still pending", n)
			}
			na, nb := stA.acks.Load(), stB.acks.Load()
			t.Logf("node-a delivered %d, node-b %d", na, nb)
			if na+nb != int64(len(keys)) || na == 0 || nb == 0 {
				t.Errorf("acks: node-a %d, node-b %d; want %d in all, shared", na, nb, len(keys))
			}
			app.mu.Lock()
			defer app.mu.Unlock()
			if app.maxInCall != 1 {
				t.Errorf("up to %d requests of one call at once", app.maxInCall)
			}
		})
	}
}

// TestLeaseTakeover: node A is killed while the app stalls, holding the
// leases of the callbacks in flight; node B, started at once, delivers
// everything else but leaves those (and the rest of their calls) alone until
// A's leases expire, then takes them over. Nothing is lost; what A had in
// flight is delivered again, with the same idempotency token. Both nodes run
// on a fake clock (the store compares leases with the time the claimer
// gives), so expiry is exact; HTTP runs on the real one.
func TestLeaseTakeover(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			const calls, perCall, beforeStall, workers = 20, 10, 60, 8
			const lease = 30 * time.Second
			var (
				mu      sync.Mutex
				ok      int
				stalled = make(chan struct{}) // closed when A's requests are all stuck
				stuck   int
				unstall = make(chan struct{})
			)
			app := newTestApp(t, func(r *http.Request, req appRequest) int {
				mu.Lock()
				if ok < beforeStall {
					ok++
					mu.Unlock()
					return http.StatusOK
				}
				select {
				case <-unstall:
					mu.Unlock()
					return http.StatusOK
				default:
				}
				stuck++
				if stuck == workers {
					close(stalled)
				}
				mu.Unlock()
				select {
				case <-unstall:
					return http.StatusOK
				case <-r.Context().Done():
					return http.StatusServiceUnavailable
				}
			})
			stA, stB := b.open(t), b.open(t)
			account := newAccount(t, stA, app)
			keys := queueCalls(t, stA, app, account, calls, perCall)
			clk := clock.NewFake(time.Now())
			node := func(st Store, name string) *Deliverer {
				return New(Config{Store: st, Client: newClient(t), Clock: clk, Logger: discardLogger(),
					Node: name, Workers: workers, Lease: lease, Poll: time.Second})
			}

			stopA := start(t, node(stA, "node-a"))
			select {
			case <-stalled:
			case <-time.After(waitTimeout):
				t.Fatal("node A never stalled")
			}
			if err := stopA(); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run: %v", err)
			}
			// The app sees A's requests dropped before it unstalls.
			app.waitFor(func(reqs []appRequest) bool { return countAborted(reqs) == workers })
			close(unstall)
			abandoned := map[string]bool{}
			for _, r := range app.requests() {
				if r.Status == 0 {
					abandoned[r.Key] = true
				}
			}

			// B delivers all it can while A's leases hold...
			bnode := node(stB, "node-b")
			waiting := make(chan struct{}, 1)
			bnode.onWait = func(time.Time) {
				select {
				case waiting <- struct{}{}:
				default:
				}
			}
			stopB := start(t, bnode)
			select {
			case <-waiting: // Run's loop is going: Drain leaves it waiting
			case <-time.After(waitTimeout):
				t.Fatal("node B's loop never waited")
			}
			if err := bnode.Drain(t.Context()); err != nil {
				t.Fatalf("Drain: %v", err)
			}
			delivered := 0
			for _, r := range app.requests() {
				if r.Status/100 == 2 {
					delivered++
					if abandoned[r.Key] {
						t.Errorf("%s, leased to the dead node A, was delivered before its lease expired", r.Key)
					}
				}
			}
			// ... that is, all but what A held and what follows in its calls.
			held := 0
			for _, r := range app.requests() {
				if r.Status == 0 {
					held += perCall - r.Seq
				}
			}
			if n := pending(t, stB); delivered != len(keys)-held || n != held {
				t.Errorf("before expiry: %d delivered, %d pending; want %d pending", delivered, n, held)
			}

			// A's leases expire: B's next poll takes them over.
			clk.Advance(lease)
			app.waitKeysAdvancing(len(keys), clk, time.Second)
			if err := bnode.Drain(t.Context()); err != nil {
				t.Fatalf("Drain: %v", err)
			}
			if err := stopB(); !errors.Is(err, context.Canceled) {
				t.Errorf("Run: %v", err)
			}
			reqs := app.requests()
			checkDelivered(t, reqs, keys, true)
			if n := pending(t, stA); n != 0 {
				t.Errorf("%d callbacks still pending", n)
			}
			if len(abandoned) != workers {
				t.Errorf("%d requests abandoned by node A, want %d", len(abandoned), workers)
			}
			if len(reqs) != len(keys)+workers {
				t.Errorf("%d requests for %d callbacks; want each once and the %d abandoned twice", len(reqs), len(keys), workers)
			}
		})
	}
}

func countAborted(reqs []appRequest) int {
	n := 0
	for _, r := range reqs {
		if r.Status == 0 {
			n++
		}
	}
	return n
}
