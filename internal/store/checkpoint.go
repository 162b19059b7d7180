package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// checkpointEvery is how often the checkpointer copies the SQLite WAL back
// into the database.
//
// SQLite's own rule has the writer do it, inside the commit that takes the WAL
// past wal_autocheckpoint pages: that commit then waits for a copy of
// thousands of pages and their fsyncs, and so does every write queued behind
// it, and every call set up behind those. At 400 calls/s that was a 50-65 ms
// stall every 0.65 s (8,000 pages), the whole of the INVITE->200 p99. So the
// writer never checkpoints (wal_autocheckpoint 0); a connection of its own does,
// PASSIVE (sqlite.org/c3ref/wal_checkpoint_v2.html): it copies what
// no reader still needs while the writer goes on appending, and the writer
// starts the WAL over at its next commit once all of it was copied.
// A quarter of a second keeps each copy small (about a thousand pages at 400
// calls/s) and the WAL a few MiB.
const checkpointEvery = 250 * time.Millisecond

// maxHelperFailures is how many checkpoints in a row the helper may fail
// before the checkpoints run in-process (a second and a quarter).
const maxHelperFailures = 5

// checkpointer runs PASSIVE checkpoints on db every checkpointEvery until
// close.
type checkpointer struct {
	db *sql.DB
	// helper, if not nil, runs the checkpoints (checkpointhelper.go); only
	// run's goroutine uses it.
	helper *checkpointHelper
	// helperFailures counts the helper's failed checkpoints in a row; at
	// maxHelperFailures the checkpoints go in-process.
	helperFailures int
	log            *slog.Logger // nil: none
	stop           context.CancelFunc
	done           chan struct{}
	ran            func() // called after each checkpoint (tests); nil
}

// startCheckpointer starts the checkpoints on db, run by helper if not nil
// (the checkpointer owns it from then on).
func startCheckpointer(db *sql.DB, helper *checkpointHelper, log *slog.Logger, clk clock.Clock, ran func()) *checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{db: db, helper: helper, log: log, stop: stop, done: make(chan struct{}), ran: ran}
	go c.run(ctx, clk.NewTicker(checkpointEvery))
	return c
}

func (c *checkpointer) run(ctx context.Context, t clock.Ticker) {
	defer close(c.done)
	defer t.Stop()
	defer c.stopHelper()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		c.checkpoint(ctx)
		if c.ran != nil {
			c.ran()
		}
	}
}

// checkpoint runs one PASSIVE checkpoint, in the helper if there is one.
// A failure (the database busy with another checkpoint, a disk error)
// leaves the WAL to the next round: the writes are already durable in it.
// A helper that does not answer, or fails maxHelperFailures checkpoints
// in a row, is stopped, and the checkpoints go on in-process.
func (c *checkpointer) checkpoint(ctx context.Context) {
	if c.helper != nil {
		err := c.helper.checkpoint()
		switch {
		case err == nil:
			c.helperFailures = 0
			return
		case !errors.Is(err, errHelper):
			// The checkpoint failed, as it may in-process; but a helper
			// whose every checkpoint fails (its file locks refused, say)
			// would leave the WAL to grow.
			if c.helperFailures++; c.helperFailures < maxHelperFailures {
				return
			}
		}
		if c.log != nil {
			c.log.Warn("store: the checkpoint helper fails; checkpoints run in-process", "err", err)
		}
		c.stopHelper()
	}
	_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
}

// stopHelper ends the helper, if there is one.
func (c *checkpointer) stopHelper() {
	if c.helper != nil {
		_ = c.helper.close() // its exit status says nothing more
		c.helper = nil
	}
}

// close stops the checkpoints (and their helper) and closes their
// connection; the last connection to close checkpoints what is left.
func (c *checkpointer) close() error {
	c.stop()
	<-c.done
	return c.db.Close()
}
