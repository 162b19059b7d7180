package webhook

import (
	"context"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// A watchdog cancels a context with a cause when it is not re-armed in time.
// It is a timer on the injected clock, with no goroutine of its own while it
// waits (a fetch in flight costs no goroutine to park and wake): when the
// timer fires, fire runs and cancels, unless stop came first or arm moved the
// deadline since. arm moves the deadline (and may change the cause).
type watchdog struct {
	clk    clock.Clock
	cancel context.CancelCauseFunc

	// mu guards the fields below.
	mu       sync.Mutex
	timer    clock.Timer
	deadline time.Time
	cause    error
	done     bool // stopped, or fired
}

func startWatchdog(clk clock.Clock, cancel context.CancelCauseFunc, d time.Duration, cause error) *watchdog {
	w := &watchdog{clk: clk, cancel: cancel, deadline: clk.Now().Add(d), cause: cause}
	w.mu.Lock()
	w.timer = clk.AfterFunc(d, w.fire)
	w.mu.Unlock()
	return w
}

// fire is the timer's function: it cancels with the cause, unless the
// watchdog was stopped, or re-armed after the timer had already fired (the
// reset timer fires again at the new deadline).
func (w *watchdog) fire() {
	w.mu.Lock()
	if w.done || w.clk.Now().Before(w.deadline) {
		w.mu.Unlock()
		return
	}
	w.done = true
	cause := w.cause
	w.mu.Unlock()
	w.cancel(cause)
}

// arm moves the deadline to d from now, with the given cause.
func (w *watchdog) arm(d time.Duration, cause error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	w.deadline = w.clk.Now().Add(d)
	w.cause = cause
	w.timer.Stop()
	w.timer.Reset(d)
}

// stop ends the watchdog without firing it. It is safe to call more than once.
func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	w.timer.Stop()
}
