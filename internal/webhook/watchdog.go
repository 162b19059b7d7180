package webhook

import (
	"context"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// A watchdog cancels a context with a cause when it is not re-armed in time.
// It runs one goroutine on the injected clock until stop is called or it
// fires; arm moves the deadline (and may change the cause).
type watchdog struct {
	clk    clock.Clock
	cancel context.CancelCauseFunc
	quit   chan struct{}
	once   sync.Once

	// mu guards the fields below.
	mu       sync.Mutex
	timer    clock.Timer
	deadline time.Time
	cause    error
}

func startWatchdog(clk clock.Clock, cancel context.CancelCauseFunc, d time.Duration, cause error) *watchdog {
	w := &watchdog{
		clk:      clk,
		cancel:   cancel,
		quit:     make(chan struct{}),
		deadline: clk.Now().Add(d),
		cause:    cause,
	}
	w.timer = clk.NewTimer(d)
	go w.run()
	return w
}

func (w *watchdog) run() {
	for {
		select {
		case <-w.quit:
			return
		case <-w.timer.C():
			w.mu.Lock()
			// A tick from before the last arm is stale: the timer has been
			// reset since, so keep waiting.
			due := !w.clk.Now().Before(w.deadline)
			cause := w.cause
			w.mu.Unlock()
			if due {
				w.cancel(cause)
				return
			}
		}
	}
}

// arm moves the deadline to d from now, with the given cause.
func (w *watchdog) arm(d time.Duration, cause error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.deadline = w.clk.Now().Add(d)
	w.cause = cause
	w.timer.Stop()
	w.timer.Reset(d)
}

// stop ends the watchdog without firing it. It is safe to call more than once.
func (w *watchdog) stop() {
	w.once.Do(func() {
		w.mu.Lock()
		w.timer.Stop()
		w.mu.Unlock()
		close(w.quit)
	})
}
