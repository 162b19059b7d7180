package clock

import (
	"sort"
	"sync"
	"time"
)

// A Clock tells the time and makes timers.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that fires once after d.
	NewTimer(d time.Duration) Timer
	// NewTicker returns a ticker that fires every d (d > 0).
	NewTicker(d time.Duration) Ticker
	// AfterFunc calls f on its own goroutine once d has passed, unless the
	// returned Timer is stopped first (its C is nil).
	AfterFunc(d time.Duration, f func()) Timer
}

// A Timer fires once on C.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it was still pending.
	Stop() bool
	// Reset changes the timer to fire after d.
	Reset(d time.Duration)
}

// A Ticker fires repeatedly on C. Ticks a slow receiver misses are dropped.
type Ticker interface {
	C() <-chan time.Time
	Stop()
	Reset(d time.Duration)
}

// Real is the system clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return realTimer{time.AfterFunc(d, f)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time   { return t.t.C }
func (t realTimer) Stop() bool            { return t.t.Stop() }
func (t realTimer) Reset(d time.Duration) { t.t.Reset(d) }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time   { return t.t.C }
func (t realTicker) Stop()                 { t.t.Stop() }
func (t realTicker) Reset(d time.Duration) { t.t.Reset(d) }

// Fake is a Clock that moves only when Advance is called. The zero value is not
// usable; use NewFake.
type Fake struct {
	// mu guards the fields below.
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeWaiter
}

var _ Clock = (*Fake)(nil)

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

type fakeWaiter struct {
	c      chan time.Time
	when   time.Time
	period time.Duration // 0 for a timer
	active bool
	fn     func() // AfterFunc: called on its own goroutine instead of sending on c
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires when the fake time reaches now+d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	w := &fakeWaiter{c: make(chan time.Time, 1)}
	f.arm(w, d, 0)
	return &fakeTimer{f: f, w: w}
}

// AfterFunc calls f on its own goroutine when the fake time reaches now+d.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	w := &fakeWaiter{fn: fn}
	f.arm(w, d, 0)
	return &fakeTimer{f: f, w: w}
}

// NewTicker returns a ticker that fires every d of fake time.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	w := &fakeWaiter{c: make(chan time.Time, 1)}
	f.arm(w, d, d)
	return &fakeTicker{f: f, w: w}
}

func (f *Fake) arm(w *fakeWaiter, d, period time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.when = f.now.Add(d)
	w.period = period
	if !w.active {
		w.active = true
		f.waiters = append(f.waiters, w)
	}
}

func (f *Fake) disarm(w *fakeWaiter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	was := w.active
	w.active = false
	for i, x := range f.waiters {
		if x == w {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			break
		}
	}
	return was
}

// Advance moves the fake time forward by d, firing every timer and ticker that
// comes due, in time order.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	end := f.now.Add(d)
	for {
		sort.SliceStable(f.waiters, func(i, j int) bool { return f.waiters[i].when.Before(f.waiters[j].when) })
		if len(f.waiters) == 0 || f.waiters[0].when.After(end) {
			break
		}
		w := f.waiters[0]
		f.now = w.when
		if w.fn != nil {
			go w.fn()
		} else {
			select {
			case w.c <- w.when:
			default: // a slow receiver misses the tick, as with time.Ticker
			}
		}
		if w.period > 0 {
			w.when = w.when.Add(w.period)
		} else {
			w.active = false
			f.waiters = f.waiters[1:]
		}
	}
	f.now = end
	f.mu.Unlock()
}

// Waiters reports how many timers and tickers are pending; tests use it to wait
// until the code under test has armed its timers before advancing.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

type fakeTimer struct {
	f *Fake
	w *fakeWaiter
}

func (t *fakeTimer) C() <-chan time.Time   { return t.w.c }
func (t *fakeTimer) Stop() bool            { return t.f.disarm(t.w) }
func (t *fakeTimer) Reset(d time.Duration) { t.f.arm(t.w, d, 0) }

type fakeTicker struct {
	f *Fake
	w *fakeWaiter
}

func (t *fakeTicker) C() <-chan time.Time   { return t.w.c }
func (t *fakeTicker) Stop()                 { t.f.disarm(t.w) }
func (t *fakeTicker) Reset(d time.Duration) { t.f.arm(t.w, d, d) }
