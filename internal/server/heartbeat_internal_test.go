package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// beatStore records heartbeats; every other method of store.Store panics.
type beatStore struct {
	store.Store
	beats chan time.Time
	err   error
}

func (s *beatStore) Heartbeat(_ context.Context, node string, at time.Time) error {
	if node != "node-x" {
		panic("heartbeat of " + node)
	}
	s.beats <- at
	return s.err
}

func TestHeartbeatEveryIntervalUntilStopped(t *testing.T) {
	for _, failing := range []bool{false, true} {
		st := &beatStore{beats: make(chan time.Time, 10)}
		if failing {
			st.err = errors.New("disk full") // logged; the beats go on
		}
		start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		clk := clock.NewFake(start)
		h := startHeartbeat(st, "node-x", clk, 2*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
		next := func() time.Time {
			t.Helper()
			select {
			case at := <-st.beats:
				return at
			case <-time.After(5 * time.Second):
				t.Fatal("no heartbeat")
				return time.Time{}
			}
		}
		if at := next(); !at.Equal(start) {
			t.Fatalf("first heartbeat at %v, want at once (%v)", at, start)
		}
		// The ticker is armed before the first beat's write returns.
		if clk.Waiters() != 1 {
			t.Fatalf("%d timers armed after the first heartbeat, want the ticker", clk.Waiters())
		}
		for i := 1; i <= 3; i++ {
			clk.Advance(2 * time.Second)
			if at, want := next(), start.Add(time.Duration(i)*2*time.Second); !at.Equal(want) {
				t.Fatalf("heartbeat %d at %v, want %v", i, at, want)
			}
		}
		h.stop()
		clk.Advance(10 * time.Second)
		select {
		case at := <-st.beats:
			t.Fatalf("heartbeat at %v after stop", at)
		default:
		}
		if clk.Waiters() != 0 {
			t.Fatal("the ticker outlived stop")
		}
	}
	(*heartbeat)(nil).stop() // a server that failed before starting it
}
