package outbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// fixture is a fake store with one account, a test app and a fake clock.
type fixture struct {
	t       *testing.T
	st      *fakeStore
	app     *testApp
	clk     *clock.Fake
	account string
	waits   chan time.Time // the loop's wait deadlines (onWait)
}

func newFixture(t *testing.T, handle func(r *http.Request, req appRequest) int) *fixture {
	f := &fixture{
		t:       t,
		st:      newFakeStore(),
		app:     newTestApp(t, handle),
		clk:     clock.NewFake(t0),
		account: sid.New(sid.Account),
		waits:   make(chan time.Time, 4096),
	}
	token := sid.NewToken()
	f.st.addAccount(f.account, token)
	f.app.setToken(f.account, token)
	return f
}

// deliverer returns a Deliverer on the fixture, configured by cfg's
// non-zero fields. The webhook client keeps the real clock: only the
// Deliverer's own timers are faked.
func (f *fixture) deliverer(cfg Config) *Deliverer {
	cfg.Store = f.st
	cfg.Clock = f.clk
	if cfg.Client == nil {
		c := webhook.New(webhook.Config{})
		f.t.Cleanup(c.Close)
		cfg.Client = c
	}
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	if cfg.Node == "" {
		cfg.Node = "node-a"
	}
	d := New(cfg)
	d.onWait = func(deadline time.Time) {
		select {
		case f.waits <- deadline:
		default:
		}
	}
	return d
}

// queue adds n callbacks of call (or of no call when call is ""), keyed
// prefix-0, prefix-1...
func (f *fixture) queue(call, prefix string, n, maxAttempts int) (keys []string, ids []int64) {
	for i := range n {
		key := fmt.Sprintf("%s-%d", prefix, i)
		ids = append(ids, f.st.add(store.Callback{
			AccountSID: f.account, CallSID: call, URL: f.app.URL(), Method: http.MethodPost,
			Params: callbackParams(f.account, call, key, i), MaxAttempts: maxAttempts,
			DateCreated: t0,
		}))
		keys = append(keys, key)
	}
	return keys, ids
}

// waitUntil waits for the loop to start a wait that ends at deadline.
func (f *fixture) waitUntil(deadline time.Time) {
	f.t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case d := <-f.waits:
			if d.Equal(deadline) {
				return
			}
		case <-timeout:
			f.t.Fatalf("the deliverer never waited until %v", deadline)
		}
	}
}

func (f *fixture) waitEmpty() {
	f.t.Helper()
	f.st.waitFor(f.t, "the outbox to empty", func() bool { return len(f.st.pending) == 0 })
}

func TestOrderedPerCall(t *testing.T) {
	f := newFixture(t, nil)
	var want []string
	for c := range 20 {
		keys, _ := f.queue(sid.New(sid.Call), fmt.Sprint("c", c), 10, 1)
		want = append(want, keys...)
	}
	keys, _ := f.queue("", "nocall", 20, 1)
	want = append(want, keys...)
	runDeliverer(t, f.deliverer(Config{Workers: 16}))
	f.waitEmpty()
	reqs := f.app.waitRequests(len(want))
	checkDelivered(t, reqs, want, false)
	f.app.mu.Lock()
	defer f.app.mu.Unlock()
	if f.app.maxInCall != 1 {
		t.Errorf("at most %d requests of one call at once, want 1", f.app.maxInCall)
	}
}

// TestParallelAcrossCalls holds every request until as many as there are
// workers are in flight at once, and checks no more are.
func TestParallelAcrossCalls(t *testing.T) {
	for _, tc := range []struct{ calls, workers int }{{8, 8}, {12, 4}} {
		t.Run(fmt.Sprintf("calls=%d,workers=%d", tc.calls, tc.workers), func(t *testing.T) {
			var (
				mu      sync.Mutex
				arrived int
				full    = make(chan struct{})
			)
			f := newFixture(t, func(r *http.Request, req appRequest) int {
				mu.Lock()
				arrived++
				if arrived == tc.workers {
					close(full)
				}
				mu.Unlock()
				select {
				case <-full:
					return http.StatusOK
				case <-r.Context().Done():
					return http.StatusServiceUnavailable
				}
			})
			var want []string
			for c := range tc.calls {
				keys, _ := f.queue(sid.New(sid.Call), fmt.Sprint("c", c), 2, 1)
				want = append(want, keys...)
			}
			runDeliverer(t, f.deliverer(Config{Workers: tc.workers}))
			f.waitEmpty()
			checkDelivered(t, f.app.waitRequests(len(want)), want, false)
			f.app.mu.Lock()
			defer f.app.mu.Unlock()
			if f.app.maxInGroup != tc.workers {
				t.Errorf("at most %d requests at once, want %d (Workers)", f.app.maxInGroup, tc.workers)
			}
			if f.app.maxInCall != 1 {
				t.Errorf("at most %d requests of one call at once, want 1", f.app.maxInCall)
			}
		})
	}
}

func TestRetryBackoff(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	f := newFixture(t, func(r *http.Request, req appRequest) int {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if req.Key == "c-0" && calls <= 4 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	var errs []*webhook.Error
	var errMu sync.Mutex
	call := sid.New(sid.Call)
	keys, ids := f.queue(call, "c", 2, 10)
	d := f.deliverer(Config{
		Poll: time.Hour, Backoff: time.Second, MaxBackoff: 3 * time.Second,
		OnError: func(e *webhook.Error) {
			errMu.Lock()
			defer errMu.Unlock()
			errs = append(errs, e)
		},
	})
	runDeliverer(t, d)
	for i, backoff := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second} {
		f.st.waitFor(t, fmt.Sprintf("retry %d", i+1), func() bool { return len(f.st.retries) > i })
		now := f.clk.Now()
		f.st.mu.Lock()
		r := f.st.retries[i]
		f.st.mu.Unlock()
		if r.ID != ids[0] || !r.Next.Equal(now.Add(backoff)) {
			t.Fatalf("retry %d: %+v, want callback %d at now+%v", i+1, r, ids[0], backoff)
		}
		if got := len(f.app.requests()); got != i+1 {
			t.Fatalf("after failure %d: %d requests", i+1, got)
		}
		// Nothing is sent before the backoff has passed: the loop waits
		// for exactly that long (Poll is an hour).
		f.waitUntil(r.Next)
		if got := len(f.app.requests()); got != i+1 {
			t.Fatalf("retried before the backoff: %d requests", got)
		}
		f.clk.Advance(backoff)
	}
	f.waitEmpty()
	reqs := f.app.waitRequests(6)
	checkDelivered(t, reqs, keys, false)
	for _, r := range reqs[:5] {
		if r.Key != "c-0" || r.Token != reqs[0].Token {
			t.Errorf("request %+v: want c-0 with token %s", r, reqs[0].Token)
		}
	}
	errMu.Lock()
	defer errMu.Unlock()
	if len(errs) != 4 {
		t.Fatalf("OnError told of %d failures, want 4", len(errs))
	}
	for _, e := range errs {
		if e.Code != webhook.CodeRetrievalFailure || e.Status != http.StatusInternalServerError || e.CallSID != call {
			t.Errorf("OnError(%v): want 11200, status 500, call %s", e, call)
		}
	}
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	f := newFixture(t, func(r *http.Request, req appRequest) int {
		if req.Key == "c-0" {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	var mu sync.Mutex
	var failures int
	call := sid.New(sid.Call)
	_, ids := f.queue(call, "c", 2, 3)
	d := f.deliverer(Config{Poll: time.Hour, OnError: func(e *webhook.Error) {
		mu.Lock()
		defer mu.Unlock()
		failures++
		if e.Status != http.StatusServiceUnavailable {
			t.Errorf("OnError(%v): want status 503", e)
		}
	}})
	runDeliverer(t, d)
	for i, backoff := range []time.Duration{time.Second, 2 * time.Second} {
		f.st.waitFor(t, fmt.Sprintf("retry %d", i+1), func() bool { return len(f.st.retries) > i })
		f.waitUntil(f.clk.Now().Add(backoff))
		f.clk.Advance(backoff)
	}
	f.waitEmpty()
	reqs := f.app.waitRequests(4)
	var keys []string
	for _, r := range reqs {
		keys = append(keys, r.Key)
	}
	if fmt.Sprint(keys) != "[c-0 c-0 c-0 c-1]" {
		t.Errorf("requests %v, want c-0 three times then c-1", keys)
	}
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	if len(f.st.retries) != 2 || fmt.Sprint(f.st.acks) != fmt.Sprint(ids) {
		t.Errorf("retries %v, acks %v: want 2 retries, acks %v", f.st.retries, f.st.acks, ids)
	}
	mu.Lock()
	defer mu.Unlock()
	if failures != 3 {
		t.Errorf("OnError told of %d failures, want 3", failures)
	}
}

func TestLeaseRenewedWhileDelivering(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	f := newFixture(t, func(r *http.Request, req appRequest) int {
		arrived <- struct{}{}
		<-release
		return http.StatusOK
	})
	_, ids := f.queue(sid.New(sid.Call), "c", 1, 1)
	const lease = 30 * time.Second
	runDeliverer(t, f.deliverer(Config{Lease: lease, Poll: time.Hour}))
	select {
	case <-arrived:
	case <-time.After(waitTimeout):
		t.Fatal("no request")
	}
	for i := 1; i <= 3; i++ {
		f.clk.Advance(lease / 3)
		until := f.clk.Now().Add(lease)
		f.st.waitFor(t, fmt.Sprintf("lease renewal %d", i), func() bool { return len(f.st.extends) >= i })
		f.st.mu.Lock()
		e := f.st.extends[i-1]
		f.st.mu.Unlock()
		if e.Node != "node-a" || !e.Until.Equal(until) {
			t.Fatalf("renewal %d: %+v, want node-a until %v", i, e, until)
		}
	}
	// 40 s after the claim, past the first lease: still ours.
	f.clk.Advance(lease / 3)
	if cbs, _ := f.st.ClaimCallbacks(t.Context(), "node-b", f.clk.Now(), lease, 10); len(cbs) != 0 {
		t.Fatalf("another node claimed %+v while the delivery runs", cbs)
	}
	close(release)
	f.waitEmpty()
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	if fmt.Sprint(f.st.acks) != fmt.Sprint(ids) {
		t.Errorf("acks %v, want %v", f.st.acks, ids)
	}
}

func TestKickWakesAtOnce(t *testing.T) {
	f := newFixture(t, nil)
	d := f.deliverer(Config{Poll: time.Hour})
	runDeliverer(t, d)
	f.waitUntil(t0.Add(time.Hour)) // idle, waiting for the next poll
	f.st.mu.Lock()
	claims := f.st.claims
	f.st.mu.Unlock()
	keys, _ := f.queue(sid.New(sid.Call), "c", 3, 1)
	d.Kick()
	d.Kick() // coalesces, never blocks
	f.waitEmpty()
	checkDelivered(t, f.app.waitRequests(3), keys, false)
	if !f.clk.Now().Equal(t0) {
		t.Errorf("the clock moved")
	}
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	// One claim per kick and per delivery ended, plus a few coalesced:
	// never a busy loop.
	if n := f.st.claims - claims; n > 8 {
		t.Errorf("%d claims for 3 callbacks", n)
	}
}

func TestNoBusyLoopWhenIdle(t *testing.T) {
	f := newFixture(t, nil)
	runDeliverer(t, f.deliverer(Config{Poll: time.Second}))
	for i := 1; i <= 5; i++ {
		f.waitUntil(t0.Add(time.Duration(i) * time.Second))
		f.clk.Advance(time.Second)
	}
	f.waitUntil(t0.Add(6 * time.Second))
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	if f.st.claims != 6 {
		t.Errorf("%d claims in 5 polls, want 6", f.st.claims)
	}
}

func TestDrain(t *testing.T) {
	t.Run("not running", func(t *testing.T) {
		var mu sync.Mutex
		failed := false
		f := newFixture(t, func(r *http.Request, req appRequest) int {
			mu.Lock()
			defer mu.Unlock()
			if req.Key == "bad-0" && !failed {
				failed = true
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		var want []string
		for c := range 3 {
			keys, _ := f.queue(sid.New(sid.Call), fmt.Sprint("c", c), 5, 1)
			want = append(want, keys...)
		}
		_, bad := f.queue(sid.New(sid.Call), "bad", 2, 5)
		d := f.deliverer(Config{Workers: 4})
		if err := d.Drain(t.Context()); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		reqs := f.app.requests()
		checkDelivered(t, reqs, want, false)
		// The failed callback waits for its retry; its call's next one
		// waits behind it.
		f.st.mu.Lock()
		n := len(f.st.pending)
		f.st.mu.Unlock()
		if n != 2 {
			t.Errorf("%d callbacks pending after Drain, want 2", n)
		}
		if cb, ok := f.st.get(bad[0]); !ok || cb.Attempts != 1 || !cb.NextAttempt.Equal(t0.Add(time.Second)) {
			t.Errorf("failed callback: %+v, want 1 attempt, due at t0+1s", cb)
		}
		// A second Drain after the retry is due delivers what is left.
		f.clk.Advance(time.Second)
		if err := d.Drain(t.Context()); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		f.waitEmpty()
	})
	t.Run("running", func(t *testing.T) {
		f := newFixture(t, nil)
		d := f.deliverer(Config{Poll: time.Hour, Workers: 4})
		runDeliverer(t, d)
		f.waitUntil(t0.Add(time.Hour))
		var want []string
		for c := range 3 {
			keys, _ := f.queue(sid.New(sid.Call), fmt.Sprint("c", c), 5, 1)
			want = append(want, keys...)
		}
		if err := d.Drain(t.Context()); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		checkDelivered(t, f.app.requests(), want, false)
		f.st.mu.Lock()
		defer f.st.mu.Unlock()
		if len(f.st.pending) != 0 {
			t.Errorf("%d callbacks pending after Drain", len(f.st.pending))
		}
	})
	t.Run("ctx ends", func(t *testing.T) {
		arrived := make(chan struct{}, 1)
		f := newFixture(t, func(r *http.Request, req appRequest) int {
			arrived <- struct{}{}
			<-r.Context().Done()
			return http.StatusOK
		})
		_, ids := f.queue(sid.New(sid.Call), "c", 1, 1)
		d := f.deliverer(Config{})
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-arrived
			cancel()
		}()
		if err := d.Drain(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Drain: %v, want context.Canceled", err)
		}
		if cb, ok := f.st.get(ids[0]); !ok || cb.owner != "node-a" || cb.Attempts != 0 {
			t.Errorf("abandoned callback: %+v, want still leased, no attempt counted", cb)
		}
	})
}

// TestAbandonOnCancel: a delivery in flight when Run's ctx ends is neither
// acknowledged nor counted as a failure: its lease stays, to expire.
func TestAbandonOnCancel(t *testing.T) {
	arrived := make(chan struct{}, 1)
	f := newFixture(t, func(r *http.Request, req appRequest) int {
		arrived <- struct{}{}
		<-r.Context().Done()
		return http.StatusOK
	})
	_, ids := f.queue(sid.New(sid.Call), "c", 1, 3)
	d := f.deliverer(Config{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	<-arrived
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return")
	}
	cb, ok := f.st.get(ids[0])
	if !ok || cb.owner != "node-a" || cb.Attempts != 0 {
		t.Fatalf("callback after cancel: %+v (pending %v), want leased to node-a, no attempt counted", cb, ok)
	}
	// Run again: the lease still holds, so nothing happens until it expires.
	for len(f.waits) > 0 {
		<-f.waits
	}
	runDeliverer(t, d)
	f.waitUntil(t0.Add(time.Second))
	if _, ok := f.st.get(ids[0]); !ok {
		t.Fatal("delivered again under a held lease")
	}
}

func TestAccountGone(t *testing.T) {
	f := newFixture(t, nil)
	call := sid.New(sid.Call)
	gone := sid.New(sid.Account)
	f.st.add(store.Callback{AccountSID: gone, CallSID: call, URL: f.app.URL(), Params: callbackParams(gone, call, "gone", 0), MaxAttempts: 5})
	keys, _ := f.queue(call, "c", 1, 1)
	runDeliverer(t, f.deliverer(Config{}))
	f.waitEmpty()
	reqs := f.app.waitRequests(1)
	if len(reqs) != 1 || reqs[0].Key != keys[0] {
		t.Errorf("requests %+v, want only %s", reqs, keys[0])
	}
}

func TestGetAndRun(t *testing.T) {
	f := newFixture(t, nil)
	keys, _ := f.queue(sid.New(sid.Call), "c", 2, 1)
	f.st.mu.Lock()
	f.st.pending[1].URL = f.app.URL() + "?x=1&y=two"
	f.st.pending[1].Method = http.MethodGet
	f.st.mu.Unlock()
	d := f.deliverer(Config{})
	runDeliverer(t, d)
	f.waitEmpty()
	reqs := f.app.waitRequests(2)
	checkDelivered(t, reqs, keys, false)
	if reqs[1].Method != http.MethodGet {
		t.Errorf("method %s, want GET", reqs[1].Method)
	}
	if err := d.Run(t.Context()); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
}

func TestIdempotencyToken(t *testing.T) {
	cb := store.Callback{ID: 42, AccountSID: "AC1", CallSID: "CA1", DateCreated: t0}
	tok := IdempotencyToken(cb)
	if len(tok) != 32 {
		t.Errorf("token %q: want 32 hex digits", tok)
	}
	again := cb
	again.Attempts, again.NextAttempt = 3, t0.Add(time.Hour)
	if IdempotencyToken(again) != tok {
		t.Error("the token changes with the attempt")
	}
	other := cb
	other.ID = 43
	if IdempotencyToken(other) == tok {
		t.Error("two callbacks share a token")
	}
}

func TestBackoff(t *testing.T) {
	d := New(Config{Store: newFakeStore(), Backoff: time.Second, MaxBackoff: time.Minute})
	var got []time.Duration
	for n := 1; n <= 9; n++ {
		got = append(got, d.backoff(n))
	}
	if want := "[1s 2s 4s 8s 16s 32s 1m0s 1m0s 1m0s]"; fmt.Sprint(got) != want {
		t.Errorf("backoff: %v, want %s", got, want)
	}
}

// TestAckRetriedWhenStoreFails: a delivery whose ack fails is not sent again;
// the ack is tried again (100 ms, then 200 ms later) until it succeeds.
func TestAckRetriedWhenStoreFails(t *testing.T) {
	f := newFixture(t, nil)
	f.st.ackErrs = 2
	keys, _ := f.queue(sid.New(sid.Call), "c", 2, 1)
	runDeliverer(t, f.deliverer(Config{Poll: time.Hour}))
	for i, wait := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond} {
		f.st.waitFor(t, fmt.Sprintf("ack %d", i+1), func() bool { return f.st.ackCalls > i })
		f.waitUntil(f.clk.Now().Add(wait))
		f.clk.Advance(wait)
	}
	f.waitEmpty()
	checkDelivered(t, f.app.waitRequests(2), keys, false)
}

// TestRunWhileDraining: a Run that starts while a Drain runs its own loop
// waits for it, then takes over; it does not fail with ErrRunning.
func TestRunWhileDraining(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	f := newFixture(t, func(r *http.Request, req appRequest) int {
		if req.Key == "c-0" {
			arrived <- struct{}{}
			<-release
		}
		return http.StatusOK
	})
	keys, _ := f.queue(sid.New(sid.Call), "c", 2, 1)
	d := f.deliverer(Config{Poll: time.Hour})
	drained := make(chan error, 1)
	go func() { drained <- d.Drain(t.Context()) }()
	<-arrived // Drain's own loop is delivering
	runDeliverer(t, d)
	close(release)
	if err := <-drained; err != nil {
		t.Fatalf("Drain: %v", err)
	}
	f.waitEmpty()
	more, _ := f.queue(sid.New(sid.Call), "d", 1, 1)
	d.Kick() // Run's loop is the one delivering now
	f.waitEmpty()
	checkDelivered(t, f.app.waitRequests(3), append(keys, more...), false)
}
