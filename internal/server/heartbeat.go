package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// heartbeatInterval is how often a node proves it is alive (store.Heartbeat).
// After a crash its open calls and conferences end at the last proof, so
// their recorded durations fall short by at most this much. One write per
// interval, whatever the number of calls.
const heartbeatInterval = 2 * time.Second

// heartbeat writes the node's heartbeat at once, then every interval of its
// clock, until stopped.
type heartbeat struct {
	st    store.Store
	node  string
	clk   clock.Clock
	every time.Duration
	log   *slog.Logger

	cancel context.CancelFunc
	done   chan struct{}
}

// startHeartbeat starts writing node's heartbeat; stop ends it.
func startHeartbeat(st store.Store, node string, clk clock.Clock, every time.Duration, log *slog.Logger) *heartbeat {
	ctx, cancel := context.WithCancel(context.Background())
	h := &heartbeat{st: st, node: node, clk: clk, every: every, log: log, cancel: cancel, done: make(chan struct{})}
	go h.run(ctx)
	return h
}

func (h *heartbeat) run(ctx context.Context) {
	defer close(h.done)
	t := h.clk.NewTicker(h.every)
	defer t.Stop()
	for {
		h.beat(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// beat writes one heartbeat; a write that takes longer than an interval is
// abandoned (the next one will do).
func (h *heartbeat) beat(ctx context.Context) {
	wctx, cancel := context.WithTimeout(ctx, h.every)
	defer cancel()
	if err := h.st.Heartbeat(wctx, h.node, h.clk.Now()); err != nil && ctx.Err() == nil {
		h.log.Warn("cannot write the node's heartbeat: after a crash, its calls' durations may be short", "node", h.node, "err", err)
	}
}

// stop ends the heartbeat and waits for a write in progress. Safe on nil.
func (h *heartbeat) stop() {
	if h == nil {
		return
	}
	h.cancel()
	<-h.done
}
