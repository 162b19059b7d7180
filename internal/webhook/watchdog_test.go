package webhook

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// TestWatchdog: the watchdog cancels with its cause at its deadline, an arm
// moves the deadline and the cause, and a stopped watchdog never cancels.
func TestWatchdog(t *testing.T) { synctest.Test(t, testWatchdog) }

func testWatchdog(t *testing.T) {
	errFirst, errSecond := errors.New("first"), errors.New("second")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// The fake clock runs a timer's function on a goroutine of its own:
	// once every goroutine of the bubble is blocked, it has run.
	canceled := func(ctx context.Context) bool {
		synctest.Wait()
		return ctx.Err() != nil
	}

	clk := clock.NewFake(t0)
	ctx, cancel := context.WithCancelCause(context.Background())
	w := startWatchdog(clk, cancel, time.Second, errFirst)
	clk.Advance(999 * time.Millisecond)
	if canceled(ctx) {
		t.Fatal("canceled before its deadline")
	}
	w.arm(2*time.Second, errSecond) // deadline t0+2.999 s
	clk.Advance(time.Second)
	if canceled(ctx) {
		t.Fatal("canceled at the deadline it was armed away from")
	}
	clk.Advance(time.Second)
	if !canceled(ctx) {
		t.Fatal("not canceled at its deadline")
	}
	if cause := context.Cause(ctx); cause != errSecond {
		t.Errorf("cause %v, want the one of the last arm", cause)
	}

	clk = clock.NewFake(t0)
	ctx, cancel = context.WithCancelCause(context.Background())
	defer cancel(nil)
	w = startWatchdog(clk, cancel, time.Second, errFirst)
	w.stop()
	w.stop()
	w.arm(time.Second, errSecond)
	clk.Advance(time.Hour)
	if canceled(ctx) {
		t.Errorf("a stopped watchdog canceled: %v", context.Cause(ctx))
	}
}
