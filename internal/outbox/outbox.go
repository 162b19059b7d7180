package outbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// Defaults of Config.
const (
	DefaultLease      = 60 * time.Second
	DefaultPoll       = time.Second
	DefaultWorkers    = 64
	DefaultBackoff    = time.Second
	DefaultMaxBackoff = time.Minute
)

// accountTTL is how long an account's auth token is cached.
const accountTTL = 10 * time.Second

// storeTimeout bounds the store write that records the outcome of a delivery
// (ack or retry); it runs even when the deliverer is being stopped, so that a
// delivery that got through is not delivered again for want of an ack.
const storeTimeout = 5 * time.Second

// storeRetryMin and storeRetryMax bound the wait between tries of a store
// write that failed.
const (
	storeRetryMin = 100 * time.Millisecond
	storeRetryMax = 5 * time.Second
)

// store.Store is what a Deliverer is made for.
var _ Store = store.Store(nil)

// ErrRunning is returned by Run when another Run of the Deliverer is going.
var ErrRunning = errors.New("outbox: deliverer already running")

// errStopped tells a Drain waiting on Run's loop that the loop ended.
var errStopped = errors.New("outbox: deliverer stopped")

// Store is what the Deliverer needs of the store; store.Store satisfies it.
type Store interface {
	ClaimCallbacks(ctx context.Context, node string, now time.Time, lease time.Duration, limit int) ([]store.Callback, error)
	ExtendLeases(ctx context.Context, node string, until time.Time) error
	AckCallback(ctx context.Context, node string, id int64) error
	RetryCallback(ctx context.Context, node string, id int64, next time.Time) error
	// Account returns the account whose auth token signs the request.
	Account(ctx context.Context, sid string) (store.Account, error)
}

// Config configures a Deliverer.
type Config struct {
	// Store holds the outbox (required).
	Store Store
	// Client sends the callbacks (default: webhook.New(webhook.Config{})).
	Client *webhook.Client
	// Clock times polls, lease renewals and retries (default clock.Real).
	Clock clock.Clock
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Node names this process as the owner of the leases it takes; nodes
	// sharing a database must have different names. Default:
	// hostname-pid-random.
	Node string
	// Lease is how long a claimed callback is reserved for this node
	// (default 60 s, longer than the webhook client's 15 s total timeout);
	// it is renewed every Lease/3 while deliveries run.
	Lease time.Duration
	// Poll is how often the outbox is looked at when nothing kicks the
	// Deliverer (default 1 s); it is also how soon callbacks of a dead
	// node are picked up once their leases expire.
	Poll time.Duration
	// Workers bounds concurrent deliveries (default 64). The callbacks of
	// one call still go one at a time, in ID order.
	Workers int
	// Backoff is the wait after a callback's first failed attempt (default
	// 1 s); it doubles with each further failure up to MaxBackoff (default
	// 1 min).
	Backoff, MaxBackoff time.Duration
	// OnError, when set, is told of every failed attempt. It is called from
	// the delivery goroutines and must not block for long.
	OnError func(*webhook.Error)
}

func (c Config) withDefaults() Config {
	if c.Client == nil {
		c.Client = webhook.New(webhook.Config{})
	}
	if c.Clock == nil {
		c.Clock = clock.Real
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Node == "" {
		c.Node = defaultNode()
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < c.Backoff {
		c.MaxBackoff = c.Backoff
	}
	return c
}

func defaultNode() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
}

// A Deliverer delivers the callbacks of the outbox: it claims due callbacks
// under a lease, sends them with the webhook client, and acknowledges or
// reschedules them. See the package documentation for its guarantees.
type Deliverer struct {
	cfg  Config
	kick chan struct{} // capacity 1: coalesced wake-ups of the loop

	inflight atomic.Int64 // deliveries running

	// mu guards the fields below.
	mu       sync.Mutex
	run      bool          // a Run is going
	loopDone chan struct{} // while a loop (Run's or Drain's own) runs: closed when it ends
	claims   uint64        // claims started by the loop
	waiters  []*drainer    // Drains waiting on Run's loop
	retries  []time.Time   // when callbacks this node rescheduled fall due
	accounts map[string]accountEntry

	// onWait, when set (tests), is called each time the loop (or a
	// delivery retrying a store write) starts to wait, with the (clock)
	// time it will wait until at most.
	onWait func(deadline time.Time)
}

type accountEntry struct {
	token   string
	missing bool // the account does not exist
	expires time.Time
}

// drainer is a Drain waiting for Run's loop to find nothing to claim.
type drainer struct {
	after uint64     // satisfied by an idle claim numbered above this
	done  chan error // buffered
}

// New returns a Deliverer; Run starts it.
func New(cfg Config) *Deliverer {
	if cfg.Store == nil {
		panic("outbox: Config.Store is nil")
	}
	return &Deliverer{
		cfg:      cfg.withDefaults(),
		kick:     make(chan struct{}, 1),
		accounts: make(map[string]accountEntry),
	}
}

// Node returns the name this Deliverer takes leases under.
func (d *Deliverer) Node() string { return d.cfg.Node }

// Kick tells the Deliverer a callback was just queued: it looks at the outbox
// at once instead of at the next poll. It never blocks; kicks coalesce.
func (d *Deliverer) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run delivers callbacks until ctx ends, then returns ctx's error (or
// ErrRunning at once if another Run is going). Deliveries in flight when ctx
// ends are abandoned: their leases expire and they are delivered again, here
// after a restart or by another node.
func (d *Deliverer) Run(ctx context.Context) error {
	d.mu.Lock()
	if d.run {
		d.mu.Unlock()
		return ErrRunning
	}
	d.run = true
	defer func() {
		// Drains waiting on this Run run their own loop instead.
		d.mu.Lock()
		d.run = false
		ws := d.waiters
		d.waiters = nil
		d.mu.Unlock()
		for _, w := range ws {
			w.done <- errStopped
		}
	}()
	for d.loopDone != nil { // a Drain's own loop: let it finish
		done := d.loopDone
		d.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		d.mu.Lock()
	}
	d.loopDone = make(chan struct{})
	d.mu.Unlock()
	return d.loop(ctx, false)
}

// Drain delivers the callbacks that are due now and returns once the outbox
// has nothing due that this node can claim and no delivery of this node is in
// flight, or when ctx ends (with its error). Callbacks scheduled for a later
// retry, or leased to other nodes, are left alone. It works whether or not Run
// is going (when it is, Run's loop does the work); it is meant for shutdown.
func (d *Deliverer) Drain(ctx context.Context) error {
	for {
		d.mu.Lock()
		switch {
		case d.run:
			w := &drainer{after: d.claims, done: make(chan error, 1)}
			d.waiters = append(d.waiters, w)
			d.mu.Unlock()
			d.Kick()
			select {
			case err := <-w.done:
				if errors.Is(err, errStopped) {
					continue // Run ended: run our own loop
				}
				return err
			case <-ctx.Done():
				d.mu.Lock()
				if i := slices.Index(d.waiters, w); i >= 0 {
					d.waiters = slices.Delete(d.waiters, i, i+1)
				}
				d.mu.Unlock()
				return ctx.Err()
			}
		case d.loopDone != nil: // another Drain's loop: wait, then look again
			done := d.loopDone
			d.mu.Unlock()
			select {
			case <-done:
			case <-ctx.Done():
				return ctx.Err()
			}
		default:
			d.loopDone = make(chan struct{})
			d.mu.Unlock()
			return d.loop(ctx, true)
		}
	}
}

// loop claims and delivers until ctx ends or, when drain is set, until a claim
// made with no delivery in flight finds nothing.
func (d *Deliverer) loop(ctx context.Context, drain bool) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		d.mu.Lock()
		close(d.loopDone)
		d.loopDone = nil
		d.mu.Unlock()
	}()

	// The ticker is made here, not in the goroutine, so that it runs from
	// the loop's start (a fake clock's Advance finds it).
	tk := d.cfg.Clock.NewTicker(max(d.cfg.Lease/3, time.Millisecond))
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer tk.Stop()
		d.renew(ctx, tk)
	}()

	// When nearly every worker is busy, wait for a few to be free before
	// claiming: one claim (a write transaction) then serves several
	// deliveries. Below saturation every free worker is used at once.
	batch := max(1, d.cfg.Workers/8)
	log := d.cfg.Logger
	for ctx.Err() == nil {
		var idle uint64 // the claim that found the outbox idle, if any
		busy := int(d.inflight.Load())
		if free := d.cfg.Workers - busy; free >= batch || busy == 0 {
			d.mu.Lock()
			d.claims++
			n := d.claims
			d.mu.Unlock()
			now := d.cfg.Clock.Now()
			cbs, err := d.cfg.Store.ClaimCallbacks(ctx, d.cfg.Node, now, d.cfg.Lease, free)
			switch {
			case err != nil && ctx.Err() != nil:
				return ctx.Err()
			case err != nil:
				log.Error("outbox: claim callbacks", "node", d.cfg.Node, "err", err)
			case len(cbs) == 0 && busy == 0:
				// Nothing was in flight during the claim, so nothing
				// could have become due by a delivery finishing.
				if drain {
					return nil
				}
				idle = n
			}
			for _, cb := range cbs {
				d.inflight.Add(1)
				wg.Add(1)
				go func() {
					defer wg.Done()
					d.deliver(ctx, cb)
					d.inflight.Add(-1)
					d.Kick() // the call's next callback may now be due
				}()
			}
		}
		if err := d.wait(ctx, idle); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// idle wakes the Drains registered before claim n started.
func (d *Deliverer) idle(n uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	kept := d.waiters[:0]
	for _, w := range d.waiters {
		if w.after < n {
			w.done <- nil
		} else {
			kept = append(kept, w)
		}
	}
	clear(d.waiters[len(kept):])
	d.waiters = kept
}

// wait blocks until a kick, a delivery ends, the poll interval passes or a
// callback this node rescheduled falls due. When idle is not 0, claim number
// idle found nothing to do: the Drains waiting for that are released once the
// wait has begun (its timer set), so a Drain that returns leaves the loop
// waiting.
func (d *Deliverer) wait(ctx context.Context, idle uint64) error {
	now := d.cfg.Clock.Now()
	dur := d.cfg.Poll
	d.mu.Lock()
	kept := d.retries[:0]
	for _, t := range d.retries {
		if t.After(now) {
			kept = append(kept, t)
			dur = min(dur, t.Sub(now))
		} else {
			dur = 0 // due already: claim at once
		}
	}
	d.retries = kept
	onWait := d.onWait
	d.mu.Unlock()
	if dur <= 0 {
		// A retry fell due: look now (a fake clock's zero timer would
		// wait for the next Advance).
		if onWait != nil {
			onWait(now)
		}
		if idle != 0 {
			d.idle(idle)
		}
		return ctx.Err()
	}
	t := d.cfg.Clock.NewTimer(dur)
	defer t.Stop()
	if onWait != nil {
		onWait(now.Add(dur))
	}
	if idle != 0 {
		d.idle(idle)
	}
	select {
	case <-d.kick:
	case <-t.C():
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// renew extends this node's leases every Lease/3 while deliveries run.
func (d *Deliverer) renew(ctx context.Context, tk clock.Ticker) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C():
		}
		if d.inflight.Load() == 0 {
			continue
		}
		until := d.cfg.Clock.Now().Add(d.cfg.Lease)
		if err := d.cfg.Store.ExtendLeases(ctx, d.cfg.Node, until); err != nil && ctx.Err() == nil {
			d.cfg.Logger.Error("outbox: extend leases", "node", d.cfg.Node, "err", err)
		}
	}
}

// IdempotencyToken returns the I-Twilio-Idempotency-Token a callback is sent
// with: derived from what the outbox row stores, so it is the same on every
// attempt and whichever node makes it.
func IdempotencyToken(cb store.Callback) string {
	h := sha256.New()
	fmt.Fprintf(h, "switchboard-callback\x00%s\x00%s\x00%d\x00%d", cb.AccountSID, cb.CallSID, cb.ID, cb.DateCreated.UnixMicro())
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// backoff returns the wait after a callback's failed attempt number n (1 for
// the first).
func (d *Deliverer) backoff(n int) time.Duration {
	b := d.cfg.Backoff
	for i := 1; i < n && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.cfg.MaxBackoff)
}

// deliver makes one attempt at cb and records its outcome.
func (d *Deliverer) deliver(ctx context.Context, cb store.Callback) {
	log := d.cfg.Logger.With("callback", cb.ID, "call_sid", cb.CallSID, "account_sid", cb.AccountSID, "node", d.cfg.Node)
	params, err := url.ParseQuery(cb.Params)
	if err != nil {
		log.Error("outbox: bad callback parameters; dropped", "err", err)
		d.ack(ctx, log, cb)
		return
	}
	token, err := d.authToken(ctx, cb.AccountSID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.Warn("outbox: account gone; callback dropped")
		d.ack(ctx, log, cb)
		return
	case err != nil && ctx.Err() != nil:
		return // abandoned: the lease expires
	case err != nil:
		// Try again later; this counts as an attempt.
		log.Error("outbox: look up account", "err", err)
		d.retry(ctx, log, cb)
		return
	}
	err = d.cfg.Client.Deliver(ctx, webhook.Request{
		URL:              cb.URL,
		Method:           cb.Method,
		Params:           params,
		AuthToken:        token,
		CallSID:          cb.CallSID,
		AccountSID:       cb.AccountSID,
		IdempotencyToken: IdempotencyToken(cb),
	})
	if err == nil {
		d.ack(ctx, log, cb)
		return
	}
	if ctx.Err() != nil {
		return // abandoned: the lease expires and it is delivered again
	}
	var e *webhook.Error
	if !errors.As(err, &e) {
		e = &webhook.Error{Code: webhook.CodeRetrievalFailure, CallSID: cb.CallSID, URL: cb.URL, Method: cb.Method, Params: params, Err: err}
	}
	if d.cfg.OnError != nil {
		d.cfg.OnError(e)
	}
	if cb.Attempts+1 >= max(cb.MaxAttempts, 1) {
		log.Warn("outbox: callback failed; giving up", "attempts", cb.Attempts+1, "url", cb.URL, "err", err)
		d.ack(ctx, log, cb)
		return
	}
	log.Debug("outbox: callback failed; will retry", "attempts", cb.Attempts+1, "err", err)
	d.retry(ctx, log, cb)
}

func (d *Deliverer) ack(ctx context.Context, log *slog.Logger, cb store.Callback) {
	d.record(ctx, log, "ack", func(ctx context.Context) error {
		return d.cfg.Store.AckCallback(ctx, d.cfg.Node, cb.ID)
	})
}

func (d *Deliverer) retry(ctx context.Context, log *slog.Logger, cb store.Callback) {
	next := d.cfg.Clock.Now().Add(d.backoff(cb.Attempts + 1))
	if d.record(ctx, log, "retry", func(ctx context.Context) error {
		return d.cfg.Store.RetryCallback(ctx, d.cfg.Node, cb.ID, next)
	}) {
		d.mu.Lock()
		d.retries = append(d.retries, next)
		d.mu.Unlock()
	}
}

// record writes the outcome of a delivery. Each write may finish after ctx
// has ended (a delivery that got through should not be sent again for want of
// its ack). A failed write is tried again until ctx ends: the callback stays
// leased to this node meanwhile (and renewed), holding back its call, so it
// must not be left behind while the node lives. It reports success.
func (d *Deliverer) record(ctx context.Context, log *slog.Logger, what string, write func(context.Context) error) bool {
	wait := storeRetryMin
	for {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		err := write(wctx)
		cancel()
		switch {
		case err == nil:
			return true
		case errors.Is(err, store.ErrNotFound):
			// The lease expired and another node took the callback
			// over: it may be delivered twice (at least once).
			log.Warn("outbox: lease lost before "+what, "err", err)
			return false
		case ctx.Err() != nil:
			log.Error("outbox: "+what+" callback; abandoned", "err", err)
			return false
		}
		log.Error("outbox: "+what+" callback; will try again", "err", err, "in", wait)
		t := d.cfg.Clock.NewTimer(wait)
		d.mu.Lock()
		onWait := d.onWait
		d.mu.Unlock()
		if onWait != nil {
			onWait(d.cfg.Clock.Now().Add(wait))
		}
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, storeRetryMax)
	}
}

// authToken returns the account's auth token, cached for a few seconds.
func (d *Deliverer) authToken(ctx context.Context, sid string) (string, error) {
	now := d.cfg.Clock.Now()
	d.mu.Lock()
	e, ok := d.accounts[sid]
	d.mu.Unlock()
	if ok && now.Before(e.expires) {
		if e.missing {
			return "", fmt.Errorf("account %s: %w", sid, store.ErrNotFound)
		}
		return e.token, nil
	}
	a, err := d.cfg.Store.Account(ctx, sid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		e = accountEntry{missing: true, expires: now.Add(accountTTL)}
	case err != nil:
		return "", err
	default:
		e = accountEntry{token: a.AuthToken, expires: now.Add(accountTTL)}
	}
	d.mu.Lock()
	if len(d.accounts) > 10000 {
		for k, v := range d.accounts {
			if !now.Before(v.expires) {
				delete(d.accounts, k)
			}
		}
	}
	d.accounts[sid] = e
	d.mu.Unlock()
	if e.missing {
		return "", err
	}
	return e.token, nil
}
