package outbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// waitTimeout guards every wait on an event: a test that reaches it has
// failed (it is never part of the timing under test).
const waitTimeout = 30 * time.Second

// appRequest is one request the test app received.
type appRequest struct {
	Account string // AccountSid param
	Call    string // CallSid param
	Key     string // Key param: the test's name for the callback
	Seq     int    // Seq param: the callback's rank within its call
	Method  string
	Token   string // I-Twilio-Idempotency-Token
	SigOK   bool   // X-Twilio-Signature verified with the account's token
	Status  int    // the status the app answered
}

// testApp is the user's app: it records every request, checks its
// signature with twilio-go's validator, and answers as handle says.
type testApp struct {
	t   testing.TB
	srv *httptest.Server

	// handle, when set, decides the answer (and may block); nil: 204.
	handle func(r *http.Request, req appRequest) int

	// mu guards the fields below.
	mu         sync.Mutex
	tokens     map[string]string // auth token per account
	reqs       []appRequest      // requests, in the order they ended
	keys       map[string]bool   // the keys answered 2xx
	perCall    map[string]int    // requests of each call in flight
	inflight   int
	maxInCall  int // most requests of one call in flight at once
	maxInGroup int // most requests in flight at once
	changed    chan struct{}
}

func newTestApp(t testing.TB, handle func(r *http.Request, req appRequest) int) *testApp {
	a := &testApp{t: t, handle: handle, tokens: map[string]string{}, keys: map[string]bool{}, perCall: map[string]int{}, changed: make(chan struct{})}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *testApp) URL() string { return a.srv.URL + "/status" }

func (a *testApp) setToken(account, token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens[account] = token
}

func (a *testApp) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := appRequest{
		Account: r.Form.Get("AccountSid"),
		Call:    r.Form.Get("CallSid"),
		Key:     r.Form.Get("Key"),
		Method:  r.Method,
		Token:   r.Header.Get(webhook.IdempotencyHeader),
	}
	req.Seq, _ = strconv.Atoi(r.Form.Get("Seq"))
	a.mu.Lock()
	token := a.tokens[req.Account]
	a.inflight++
	a.maxInGroup = max(a.maxInGroup, a.inflight)
	if req.Call != "" {
		a.perCall[req.Call]++
		a.maxInCall = max(a.maxInCall, a.perCall[req.Call])
	}
	a.mu.Unlock()

	// The URL as requested (Twilio signs the full URL, query included).
	full := "http://" + r.Host + r.URL.RequestURI()
	params := map[string]string{}
	if r.Method == http.MethodPost {
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
	}
	v := client.NewRequestValidator(token)
	req.SigOK = token != "" && v.Validate(full, params, r.Header.Get(webhook.SignatureHeader))

	status := http.StatusNoContent
	if a.handle != nil {
		status = a.handle(r, req)
	}
	req.Status = status

	a.mu.Lock()
	a.inflight--
	if req.Call != "" {
		a.perCall[req.Call]--
	}
	if r.Context().Err() != nil {
		req.Status = 0 // the deliverer gave up on it: no answer
	} else if req.Status/100 == 2 {
		a.keys[req.Key] = true
	}
	a.reqs = append(a.reqs, req)
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
	w.WriteHeader(status)
}

// requests returns a copy of the requests answered so far.
func (a *testApp) requests() []appRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.reqs)
}

// waitKeys waits until the app has answered n distinct keys with 2xx.
// waitKeysAdvancing is waitKeys for a Deliverer on a fake clock: while
// nothing arrives for a moment it advances clk by step, as time would pass,
// so that a claim or a delivery that failed for a moment (a store busy
// under a loaded machine) is tried again at the next poll or retry instead
// of waiting forever for a clock nobody moves.
func (a *testApp) waitKeysAdvancing(n int, clk *clock.Fake, step time.Duration) {
	a.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		a.mu.Lock()
		got, ch := len(a.keys), a.changed
		a.mu.Unlock()
		if got >= n {
			return
		}
		quiet := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ch:
		case <-quiet.C:
			clk.Advance(step)
		case <-deadline:
			a.t.Fatalf("app: %d callbacks delivered, want %d", got, n)
		}
		quiet.Stop()
	}
}

func (a *testApp) waitKeys(n int) {
	a.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		a.mu.Lock()
		got, ch := len(a.keys), a.changed
		a.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			a.t.Fatalf("app: %d callbacks delivered, want %d", got, n)
		}
	}
}

// waitFor waits until cond holds of the requests that have ended.
func (a *testApp) waitFor(cond func([]appRequest) bool) {
	a.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		a.mu.Lock()
		ok, ch := cond(a.reqs), a.changed
		a.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			a.t.Fatal("app: timed out waiting for requests")
		}
	}
}

// waitRequests waits until the app has seen at least n requests end.
func (a *testApp) waitRequests(n int) []appRequest {
	a.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		a.mu.Lock()
		got, ch := len(a.reqs), a.changed
		a.mu.Unlock()
		if got >= n {
			return a.requests()
		}
		select {
		case <-ch:
		case <-deadline:
			a.t.Fatalf("app: %d requests answered, want %d", got, n)
		}
	}
}

// checkDelivered checks the answered requests against want (the keys of
// the callbacks queued): every one was delivered (2xx) exactly once, or at
// least once when dups, each call's in Seq order, each request signed, and
// each key always with the same idempotency token.
func checkDelivered(t testing.TB, reqs []appRequest, want []string, dups bool) {
	t.Helper()
	count := map[string]int{}
	tokens := map[string]string{}
	last := map[string]int{}
	bad := 0
	for _, r := range reqs {
		if !r.SigOK && bad < 5 {
			bad++
			t.Errorf("request %s: bad signature", r.Key)
		}
		if tok, ok := tokens[r.Key]; ok && tok != r.Token {
			t.Errorf("request %s: idempotency token %q, earlier %q", r.Key, r.Token, tok)
		}
		tokens[r.Key] = r.Token
		if r.Status/100 != 2 {
			continue
		}
		count[r.Key]++
		if r.Call != "" {
			prev, ok := last[r.Call]
			if !ok {
				prev = -1
			}
			if r.Seq != prev+1 && !(dups && r.Seq == prev) {
				t.Errorf("call %s: callback %d delivered after %d", r.Call, r.Seq, prev)
			}
			last[r.Call] = r.Seq
		}
	}
	for _, k := range want {
		switch n := count[k]; {
		case n == 0:
			t.Errorf("callback %s never delivered", k)
		case n > 1 && !dups:
			t.Errorf("callback %s delivered %d times", k, n)
		}
		delete(count, k)
	}
	for k := range count {
		t.Errorf("unexpected callback %q delivered", k)
	}
}

// callbackParams is the form of a test callback.
func callbackParams(account, call, key string, seq int) string {
	v := url.Values{}
	v.Set("AccountSid", account)
	v.Set("CallSid", call)
	v.Set("Key", key)
	v.Set("Seq", strconv.Itoa(seq))
	v.Set("CallStatus", "ringing")
	return v.Encode()
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeStore is an in-memory outbox with the store's rules: leases, and only
// the oldest pending callback of each call is claimable.
type fakeStore struct {
	// mu guards the fields below.
	mu       sync.Mutex
	nextID   int64
	pending  []*fakeCallback // in ID order
	accounts map[string]store.Account
	extends  []extendCall
	retries  []retryCall
	acks     []int64
	claims   int
	ackErrs  int // AckCallback fails this many more times
	ackCalls int
	changed  chan struct{}
}

type fakeCallback struct {
	store.Callback
	owner string
	until time.Time
}

type extendCall struct {
	Node  string
	Until time.Time
}

type retryCall struct {
	ID   int64
	Next time.Time
}

func newFakeStore() *fakeStore {
	return &fakeStore{accounts: map[string]store.Account{}, changed: make(chan struct{})}
}

var _ Store = (*fakeStore)(nil)

func (s *fakeStore) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *fakeStore) addAccount(sid, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[sid] = store.Account{SID: sid, OwnerAccountSID: sid, AuthToken: token, Status: store.StatusActive}
}

func (s *fakeStore) add(cb store.Callback) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	cb.ID = s.nextID
	if cb.MaxAttempts < 1 {
		cb.MaxAttempts = 1
	}
	if cb.Method == "" {
		cb.Method = http.MethodPost
	}
	s.pending = append(s.pending, &fakeCallback{Callback: cb})
	s.notify()
	return cb.ID
}

func (s *fakeStore) ClaimCallbacks(ctx context.Context, node string, now time.Time, lease time.Duration, limit int) ([]store.Callback, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims++
	var out []store.Callback
	head := map[string]bool{}
	for _, cb := range s.pending {
		if len(out) >= limit {
			break
		}
		if cb.CallSID != "" {
			if head[cb.CallSID] {
				continue
			}
			head[cb.CallSID] = true
		}
		if cb.NextAttempt.After(now) || cb.owner != "" && cb.until.After(now) {
			continue
		}
		cb.owner, cb.until = node, now.Add(lease)
		out = append(out, cb.Callback)
	}
	s.notify()
	return out, nil
}

func (s *fakeStore) ExtendLeases(ctx context.Context, node string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cb := range s.pending {
		if cb.owner == node {
			cb.until = until
		}
	}
	s.extends = append(s.extends, extendCall{node, until})
	s.notify()
	return nil
}

func (s *fakeStore) find(node string, id int64) (int, error) {
	for i, cb := range s.pending {
		if cb.ID == id {
			if cb.owner != node {
				return 0, fmt.Errorf("callback %d held by %q: %w", id, cb.owner, store.ErrNotFound)
			}
			return i, nil
		}
	}
	return 0, fmt.Errorf("callback %d: %w", id, store.ErrNotFound)
}

func (s *fakeStore) AckCallback(ctx context.Context, node string, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ackCalls++
	if s.ackErrs > 0 {
		s.ackErrs--
		s.notify()
		return errors.New("fake: database is down")
	}
	i, err := s.find(node, id)
	if err != nil {
		return err
	}
	s.pending = slices.Delete(s.pending, i, i+1)
	s.acks = append(s.acks, id)
	s.notify()
	return nil
}

func (s *fakeStore) RetryCallback(ctx context.Context, node string, id int64, next time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, err := s.find(node, id)
	if err != nil {
		return err
	}
	cb := s.pending[i]
	cb.Attempts++
	cb.NextAttempt = next
	cb.owner, cb.until = "", time.Time{}
	s.retries = append(s.retries, retryCall{id, next})
	s.notify()
	return nil
}

func (s *fakeStore) Account(ctx context.Context, sid string) (store.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[sid]
	if !ok {
		return store.Account{}, fmt.Errorf("account %s: %w", sid, store.ErrNotFound)
	}
	return a, nil
}

// waitFor waits until cond, called with the store locked, holds.
func (s *fakeStore) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// get returns the pending callback id (ok false when gone).
func (s *fakeStore) get(id int64) (fakeCallback, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cb := range s.pending {
		if cb.ID == id {
			return *cb, true
		}
	}
	return fakeCallback{}, false
}

// runDeliverer runs d until the test ends and checks Run's result.
func runDeliverer(t testing.TB, d *Deliverer) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run: %v, want context.Canceled", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("Run did not return after cancel")
		}
	})
	return cancel
}
