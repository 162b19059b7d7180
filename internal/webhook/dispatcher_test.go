package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

var epoch = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDispatcherOrderAndSequenceNumbers(t *testing.T) {
	var mu sync.Mutex
	inflight := map[string]int{}
	overlap := false
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		sid := r.FormValue("CallSid")
		mu.Lock()
		inflight[sid]++
		if inflight[sid] > 1 {
			overlap = true
		}
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		inflight[sid]--
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	clk := clock.NewFake(epoch)
	d := webhook.NewDispatcher(webhook.DispatcherConfig{Client: newClient(t, webhook.Config{}), Clock: clk})
	const calls, events = 3, 12
	for i := range events {
		for c := range calls {
			sid := fmt.Sprintf("CA%d", c)
			path := []string{"/a", "/b"}[i%2]
			method := []string{"POST", "GET"}[c%2]
			ev := webhook.StatusEvent{Call: webhook.CallParams{CallSID: sid, AccountSID: "AC1", CallStatus: "ringing"}}
			params := ev.Values()
			params.Set("N", strconv.Itoa(i))
			if err := d.Enqueue(webhook.Callback{CallSID: sid, URL: a.URL + path, Method: method, AuthToken: testToken, Params: params, Progress: true}); err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
		}
		clk.Advance(time.Second)
	}
	if err := d.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if overlap {
		t.Error("two callbacks of one call were in flight at once")
	}
	next := map[string]int{} // next N per call
	seq := map[string]int{}  // next SequenceNumber per call and URL
	for _, r := range a.requests() {
		sid := r.Form.Get("CallSid")
		n, _ := strconv.Atoi(r.Form.Get("N"))
		if n != next[sid] {
			t.Errorf("%s: callback %d arrived when %d was expected", sid, n, next[sid])
		}
		next[sid] = n + 1
		path := r.URL[len(a.URL) : len(a.URL)+2]
		key := sid + path
		if got := r.Form.Get("SequenceNumber"); got != strconv.Itoa(seq[key]) {
			t.Errorf("%s %s: SequenceNumber %s, want %d", sid, path, got, seq[key])
		}
		seq[key]++
		if got, want := r.Form.Get("Timestamp"), webhook.FormatTimestamp(epoch.Add(time.Duration(n)*time.Second)); got != want {
			t.Errorf("Timestamp %q, want %q", got, want)
		}
		if r.Form.Get("CallbackSource") != "call-progress-events" || !r.ValidSig {
			t.Errorf("CallbackSource %q, valid signature %v", r.Form.Get("CallbackSource"), r.ValidSig)
		}
		wantMethod := map[string]string{"CA0": "POST", "CA1": "GET", "CA2": "POST"}[sid]
		if r.Method != wantMethod {
			t.Errorf("%s: method %s, want %s", sid, r.Method, wantMethod)
		}
	}
	for c := range calls {
		if sid := fmt.Sprintf("CA%d", c); next[sid] != events {
			t.Errorf("%s: %d callbacks delivered, want %d", sid, next[sid], events)
		}
	}
	if err := d.Enqueue(webhook.Callback{CallSID: "CA0", URL: a.URL}); !errors.Is(err, webhook.ErrClosed) {
		t.Errorf("Enqueue after Close: %v", err)
	}
}

func TestDispatcherQueueFullDrops(t *testing.T) {
	arrived := make(chan string, 10)
	release := make(chan struct{})
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.FormValue("CallSid") + "/" + r.FormValue("SequenceNumber")
		if r.FormValue("CallSid") == "CA1" && r.FormValue("SequenceNumber") == "0" {
			<-release
		}
	})
	var mu sync.Mutex
	var reported []*webhook.Error
	d := webhook.NewDispatcher(webhook.DispatcherConfig{
		Client:   newClient(t, webhook.Config{}),
		QueueLen: 2,
		OnError: func(e *webhook.Error) {
			mu.Lock()
			reported = append(reported, e)
			mu.Unlock()
		},
	})
	cb := webhook.Callback{CallSID: "CA1", URL: a.URL, Progress: true}
	cb.Params = map[string][]string{"CallSid": {"CA1"}}
	if err := d.Enqueue(cb); err != nil {
		t.Fatal(err)
	}
	if got := <-arrived; got != "CA1/0" {
		t.Fatalf("first delivery %s", got)
	}
	start := time.Now()
	for i := 1; i <= 3; i++ {
		err := d.Enqueue(cb)
		if i < 3 && err != nil {
			t.Fatalf("Enqueue %d: %v", i, err)
		}
		if i == 3 && !errors.Is(err, webhook.ErrQueueFull) {
			t.Fatalf("Enqueue into a full queue: %v", err)
		}
	}
	if d.Pending("CA1") != 2 {
		t.Errorf("Pending = %d, want 2", d.Pending("CA1"))
	}
	other := webhook.Callback{CallSID: "CA2", URL: a.URL, Params: map[string][]string{"CallSid": {"CA2"}}, Progress: true}
	if err := d.Enqueue(other); err != nil {
		t.Fatalf("another call's queue is affected: %v", err)
	}
	if got := <-arrived; got != "CA2/0" {
		t.Fatalf("CA2 delivery %s", got)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("Enqueue blocked while the app hung")
	}
	close(release)
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(arrived)
	var rest []string
	for s := range arrived {
		rest = append(rest, s)
	}
	if fmt.Sprint(rest) != "[CA1/1 CA1/2]" {
		t.Errorf("delivered after release: %v, want [CA1/1 CA1/2] (3 dropped)", rest)
	}
	if len(reported) != 1 || !errors.Is(reported[0], webhook.ErrQueueFull) || reported[0].CallSID != "CA1" || reported[0].Params.Get("SequenceNumber") != "3" {
		t.Errorf("reported %v", reported)
	}
}

func TestDispatcherRetriesWithBackoff(t *testing.T) {
	var mu sync.Mutex
	var tokens []string
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokens = append(tokens, r.Header.Get(webhook.IdempotencyHeader))
		n := len(tokens)
		mu.Unlock()
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	errc := make(chan *webhook.Error, 10)
	clk := clock.NewFake(epoch)
	d := webhook.NewDispatcher(webhook.DispatcherConfig{
		Client:  newClient(t, webhook.Config{}),
		Clock:   clk,
		OnError: func(e *webhook.Error) { errc <- e },
	})
	if err := d.Enqueue(webhook.Callback{
		CallSID: "CA1", URL: a.URL + "/recording", Params: map[string][]string{"RecordingSid": {"RE1"}},
		Retry: webhook.RetryPolicy{Attempts: 3, Backoff: time.Second},
	}); err != nil {
		t.Fatal(err)
	}
	count := func() int { return len(a.requests()) }
	for attempt, wait := range []time.Duration{time.Second, 2 * time.Second} {
		e := <-errc
		if e.Code != webhook.CodeRetrievalFailure || e.Status != 500 || e.URL != a.URL+"/recording" {
			t.Errorf("attempt %d reported %v", attempt+1, e)
		}
		waitFor(t, "the backoff timer", func() bool { return clk.Waiters() == 1 })
		clk.Advance(wait - time.Millisecond)
		time.Sleep(20 * time.Millisecond)
		if count() != attempt+1 {
			t.Fatalf("retried before the backoff of %v", wait)
		}
		clk.Advance(time.Millisecond)
		waitFor(t, "the retry", func() bool { return count() == attempt+2 })
	}
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(errc) != 0 {
		t.Errorf("the successful attempt was reported: %v", <-errc)
	}
	if len(tokens) != 3 || tokens[0] != tokens[1] || tokens[1] != tokens[2] {
		t.Errorf("idempotency tokens %q", tokens)
	}
}

func TestDispatcherCloseGivesUp(t *testing.T) {
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	clk := clock.NewFake(epoch)
	reported := make(chan *webhook.Error, 10)
	d := webhook.NewDispatcher(webhook.DispatcherConfig{Client: newClient(t, webhook.Config{}), Clock: clk, OnError: func(e *webhook.Error) { reported <- e }})
	d.Enqueue(webhook.Callback{CallSID: "CA1", URL: a.URL, Retry: webhook.RetryPolicy{Attempts: 5, Backoff: time.Hour}})
	<-reported
	waitFor(t, "the backoff timer", func() bool { return clk.Waiters() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := d.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want deadline exceeded", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("Close waited for the backoff")
	}
	if n := len(a.requests()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestDispatcherEndCallKeepsPending(t *testing.T) {
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {})
	d := webhook.NewDispatcher(webhook.DispatcherConfig{Client: newClient(t, webhook.Config{})})
	for range 3 {
		if err := d.Enqueue(webhook.Callback{CallSID: "CA1", URL: a.URL, Progress: true}); err != nil {
			t.Fatal(err)
		}
	}
	d.EndCall("CA1")
	d.EndCall("CA-unknown")
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(a.requests()); n != 3 {
		t.Errorf("%d callbacks delivered after EndCall, want 3", n)
	}
}

func BenchmarkDispatcherEnqueue(b *testing.B) {
	a := newApp(b, func(w http.ResponseWriter, r *http.Request) {})
	d := webhook.NewDispatcher(webhook.DispatcherConfig{Client: newClient(b, webhook.Config{}), QueueLen: 1 << 20})
	params := webhook.StatusEvent{Call: inbound, Final: true, CallDuration: time.Minute}.Values()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Enqueue(webhook.Callback{CallSID: strconv.Itoa(i % 64), URL: a.URL, Params: params, Progress: true})
		i++
	}
	b.StopTimer()
	d.Close(context.Background())
}
