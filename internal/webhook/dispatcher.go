package webhook

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// DefaultQueueLen is how many callbacks of one call may wait to be sent.
const DefaultQueueLen = 64

// A Callback is one asynchronous request whose answer is ignored: a status
// callback, a recording or conference status callback.
type Callback struct {
	// CallSID orders callbacks: those of one call are sent one at a time, in
	// the order they were enqueued.
	CallSID   string
	URL       string
	Method    string // GET or POST; empty means POST
	AuthToken string // signs the request; empty: unsigned
	Params    url.Values
	// Progress marks a call progress event: the Dispatcher adds
	// SequenceNumber (per call and callback URL, from 0), Timestamp (the
	// enqueue time, RFC 2822) and CallbackSource (call-progress-events,
	// unless Params has one).
	Progress bool
	// Retry, when Attempts > 1, retries a failed delivery after a backoff on
	// the Dispatcher's clock.
	Retry RetryPolicy
}

// RetryPolicy says how often and how patiently a callback is retried.
type RetryPolicy struct {
	// Attempts is the number of deliveries tried in all (0 or 1: once).
	Attempts int
	// Backoff is the wait before the first retry (default 1 s); it doubles on
	// each retry up to MaxBackoff (default 1 min).
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// DispatcherConfig configures a Dispatcher.
type DispatcherConfig struct {
	// Client sends the callbacks (default: New(Config{})).
	Client *Client
	// Clock times retries and stamps Timestamp (default clock.Real).
	Clock clock.Clock
	// QueueLen bounds each call's queue (default DefaultQueueLen).
	QueueLen int
	// OnError, when set, is told of every failed delivery attempt and of every
	// callback dropped because its queue was full (Err is ErrQueueFull, Code
	// 0). It is called from the Dispatcher's goroutines, or from Enqueue for a
	// drop, and must not block for long.
	OnError func(*Error)
}

// A Dispatcher sends callbacks in the background without ever blocking the
// caller: one queue per call, sent in order, bounded; a full queue drops the
// newest callback and reports it.
type Dispatcher struct {
	cfg    DispatcherConfig
	ctx    context.Context // canceled when Close gives up
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards the fields below.
	mu     sync.Mutex
	calls  map[string]*callQueue
	closed bool
}

// callQueue is one call's pending callbacks and sequence counters.
type callQueue struct {
	sid     string
	pending []Callback
	seq     map[string]int // next SequenceNumber per callback URL
	running bool           // a goroutine is draining pending
	ended   bool           // EndCall was called: forget the call once drained
}

// NewDispatcher returns a running Dispatcher.
func NewDispatcher(cfg DispatcherConfig) *Dispatcher {
	if cfg.Client == nil {
		cfg.Client = New(Config{})
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{cfg: cfg, ctx: ctx, cancel: cancel, calls: make(map[string]*callQueue)}
}

// Enqueue queues a callback and returns at once. It fails with ErrClosed after
// Close, and with ErrQueueFull (also reported to OnError) when the call's queue
// is full. The SequenceNumber of a progress callback is taken even when it is
// dropped, so the app sees the gap.
func (d *Dispatcher) Enqueue(cb Callback) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	q := d.calls[cb.CallSID]
	if q == nil {
		q = &callQueue{sid: cb.CallSID, seq: make(map[string]int)}
		d.calls[cb.CallSID] = q
	}
	params := make(url.Values, len(cb.Params)+3)
	for k, v := range cb.Params {
		params[k] = v
	}
	if cb.Progress {
		params.Set("SequenceNumber", strconv.Itoa(q.seq[cb.URL]))
		q.seq[cb.URL]++
		params.Set("Timestamp", FormatTimestamp(d.cfg.Clock.Now()))
		if params.Get("CallbackSource") == "" {
			params.Set("CallbackSource", CallbackSourceCallProgress)
		}
	}
	cb.Params = params
	if len(q.pending) >= d.cfg.QueueLen {
		d.mu.Unlock()
		d.report(&Error{CallSID: cb.CallSID, URL: cb.URL, Method: cb.Method, Params: params, Err: ErrQueueFull})
		return ErrQueueFull
	}
	q.pending = append(q.pending, cb)
	if !q.running {
		q.running = true
		d.wg.Add(1)
		go d.drain(q)
	}
	d.mu.Unlock()
	return nil
}

// EndCall says the call will enqueue no more callbacks: its sequence counters
// are forgotten once its queue is drained. A later Enqueue for the same SID
// starts a new sequence.
func (d *Dispatcher) EndCall(callSID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.calls[callSID]
	if q == nil {
		return
	}
	q.ended = true
	if !q.running {
		delete(d.calls, callSID)
	}
}

// Pending reports how many callbacks of a call wait to be sent (not counting
// one being sent).
func (d *Dispatcher) Pending(callSID string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if q := d.calls[callSID]; q != nil {
		return len(q.pending)
	}
	return 0
}

// Close stops accepting callbacks and waits until every queued one has been
// delivered (or has failed). If ctx ends first, deliveries in flight and
// retry waits are abandoned, and ctx's error is returned.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.cancel()
		<-done
		return ctx.Err()
	}
}

func (d *Dispatcher) drain(q *callQueue) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			if q.ended && d.calls[q.sid] == q {
				delete(d.calls, q.sid)
			}
			d.mu.Unlock()
			return
		}
		cb := q.pending[0]
		q.pending[0] = Callback{}
		q.pending = q.pending[1:]
		d.mu.Unlock()
		d.send(cb)
	}
}

func (d *Dispatcher) send(cb Callback) {
	req := Request{
		URL:              cb.URL,
		Method:           cb.Method,
		Params:           cb.Params,
		AuthToken:        cb.AuthToken,
		CallSID:          cb.CallSID,
		IdempotencyToken: newToken(), // the same on every retry
	}
	attempts := max(cb.Retry.Attempts, 1)
	backoff := cb.Retry.Backoff
	if backoff <= 0 {
		backoff = time.Second
	}
	maxBackoff := cb.Retry.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = time.Minute
	}
	for i := 1; ; i++ {
		err := d.cfg.Client.Deliver(d.ctx, req)
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Code: CodeRetrievalFailure, CallSID: cb.CallSID, URL: cb.URL, Method: cb.Method, Params: cb.Params, Err: err}
		}
		d.report(e)
		if i >= attempts || d.ctx.Err() != nil {
			return
		}
		t := d.cfg.Clock.NewTimer(backoff)
		select {
		case <-t.C():
		case <-d.ctx.Done():
			t.Stop()
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (d *Dispatcher) report(e *Error) {
	if d.cfg.OnError != nil {
		d.cfg.OnError(e)
	}
}
