package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// txFunc is one write: the statements of one store method, run inside a
// transaction. On SQLite that transaction is shared with the other writes of
// a batch; an error from fn undoes fn's statements only. There fn may run
// twice: when a write of a batch fails, the batch is rolled back and run
// again (writer.exec), so fn must compute what it returns afresh at each
// run, never from what an earlier run of it changed.
type txFunc func(ctx context.Context, tx *sql.Tx) error

// errWriterClosed is returned by a write made after Close.
var errWriterClosed = errors.New("store: closed")

// write runs fn in a transaction and returns once that is committed, or with
// fn's error (as is) when fn failed, nothing of fn's being written. Errors of
// the transaction itself (begin, commit, ctx ending first) are wrapped as
// "op sid: err".
//
// On SQLite the write goes to the group-commit writer (s.batch); on
// PostgreSQL it is a transaction of its own on the pool.
func (s *sqlStore) write(ctx context.Context, op, sid string, fn txFunc) error {
	var fnErr bool
	var err error
	if s.batch != nil {
		fnErr, err = s.batch.do(ctx, fn)
	} else {
		fnErr, err = writeTx(ctx, s.w, fn)
	}
	if err == nil || fnErr {
		return err
	}
	return fmt.Errorf("%s %s: %w", op, sid, classify(err))
}

// writeStmt is write for a write of one statement, which needs no
// transaction of its own: on PostgreSQL fn runs at once with a nil tx (the
// statement commits by itself, one round trip instead of three); on SQLite
// it joins a batch like any write. fn uses stmtIn and execIn to run its
// statement either way.
func (s *sqlStore) writeStmt(ctx context.Context, op, sid string, fn txFunc) error {
	if s.batch == nil {
		return fn(ctx, nil)
	}
	return s.write(ctx, op, sid, fn)
}

// stmtIn returns st to run within tx, or st itself when tx is nil.
func stmtIn(ctx context.Context, tx *sql.Tx, st *sql.Stmt) *sql.Stmt {
	if tx == nil {
		return st
	}
	return tx.StmtContext(ctx, st)
}

// execIn runs a statement within tx, or on db when tx is nil.
func execIn(ctx context.Context, tx *sql.Tx, db *sql.DB, query string, args ...any) (sql.Result, error) {
	if tx == nil {
		return db.ExecContext(ctx, query, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// writeTx runs fn in a transaction of its own on db. fnErr reports that err
// is fn's.
func writeTx(ctx context.Context, db *sql.DB, fn txFunc) (fnErr bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(ctx, tx); err != nil {
		return true, err
	}
	return false, tx.Commit()
}

// maxBatchOps is the most writes the SQLite writer commits in one
// transaction.
const maxBatchOps = 64

// A writer is SQLite's group commit: the one goroutine that writes. Writes
// queue to it; it takes every write queued (up to maxOps), runs them one
// after the other in one transaction, commits, and only then tells each
// caller its result. The commit, which is most of the
// cost of a small write (the WAL frames written, the WAL index updated), is
// paid once per batch instead of once per write, and the writes no longer
// queue one by one for the single connection.
//
// It keeps what a transaction per write gave: a caller returns once its write
// is committed (later reads see it; durable as any commit at
// synchronous=NORMAL), a write that fails writes nothing and gets its own
// error, and writes are applied in the order they were queued, each seeing
// those before it. A write's statements run with a context that is not the
// caller's: a caller's ctx ending while its write is queued takes the write
// out (the caller gets ctx.Err()); once the write is in a batch the caller
// waits for the commit, since interrupting one write's statement would roll
// back the whole batch's transaction.
//
// By default there is no timed wait for a batch to fill: while a batch runs,
// writes pile up and the next batch takes them all, and before cutting a
// batch the writer yields once so that the goroutines ready to run can queue
// theirs. Under light load a write is committed alone at once; under heavy
// load batches grow by themselves. But a commit costs far more than the
// writes it commits (a small call save: tens of microseconds; its commit,
// the WAL frames of every page the batch touched written one by one: a few
// hundred), and with the CPU short the batches stay small since the writer
// runs as often as it gets the processor. A commit gap (SetCommitDelay,
// which the server sets from how busy the processors are when its operator
// asks for it, --commit-delay) holds a batch
// until that long after the previous batch began, or until maxOps writes
// wait: writes then wait up to the gap for their commit, and the commits
// per second are at most 1/gap.
type writer struct {
	db     *sql.DB
	maxOps int
	clock  clock.Clock

	// gap is the commit gap in nanoseconds; 0: none.
	gap atomic.Int64
	// held, if set (tests), is called by the writer's goroutine once a
	// batch is held for the gap, its timer armed. Set while no write is
	// queued (the queue's mutex orders it before the writer reads it).
	held func()

	mu     sync.Mutex
	queue  []*writeOp // waiting, in order
	closed bool

	wake chan struct{} // capacity 1: something was queued, or closing
	done chan struct{} // closed when run returns

	// The connection of the batch being run (nil between batches) and the
	// statements run on it past database/sql (rawstmt.go). Only run's
	// goroutine uses them.
	conn *sql.Conn
	raw  rawStmts

	// batches and ops count committed (or failed) transactions and the
	// writes they ran, for tests and benchmarks.
	batches, ops atomic.Int64
}

// The states of a writeOp.
const (
	opQueued    int32 = iota
	opTaken           // in a batch: its caller waits for the result
	opAbandoned       // its caller's ctx ended first; skipped
)

// writeOp is one queued write and, once done is signalled, its result.
type writeOp struct {
	fn    txFunc
	state atomic.Int32
	done  chan struct{} // capacity 1; a send publishes the fields below

	err    error
	fnErr  bool // err came from fn
	panicV any  // fn panicked with this: re-raised in the caller
}

var opPool = sync.Pool{New: func() any { return &writeOp{done: make(chan struct{}, 1)} }}

// newWriter starts the writer of db, which must have exactly one connection
// (SQLite's writer). Close stops it.
func newWriter(db *sql.DB, maxOps int, clk clock.Clock) *writer {
	w := &writer{
		db:     db,
		maxOps: max(maxOps, 1),
		clock:  clk,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	go w.run()
	return w
}

// do queues fn and waits for its result. fnErr reports that err is fn's.
func (w *writer) do(ctx context.Context, fn txFunc) (fnErr bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	op := opPool.Get().(*writeOp)
	op.fn = fn
	op.state.Store(opQueued)
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		op.fn = nil
		opPool.Put(op)
		return false, errWriterClosed
	}
	w.queue = append(w.queue, op)
	n := len(w.queue)
	w.mu.Unlock()
	// The writer waits for a wake only with the queue empty (run) or, in
	// a commit gap, for maxOps writes (hold); otherwise it looks at the
	// queue when its batch is done.
	if n == 1 || n >= w.maxOps {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}

	select {
	case <-op.done:
	case <-ctx.Done():
		if op.state.CompareAndSwap(opQueued, opAbandoned) {
			// The writer drops it when it comes to it; the op is
			// not reused (the queue still holds it).
			return false, ctx.Err()
		}
		<-op.done // taken: wait for the commit
	}
	err, fnErr, p := op.err, op.fnErr, op.panicV
	*op = writeOp{done: op.done}
	opPool.Put(op)
	if p != nil {
		panic(p)
	}
	return fnErr, err
}

// close stops taking writes, runs those queued, and returns when the
// goroutine has ended.
func (w *writer) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
}

func (w *writer) run() {
	defer close(w.done)
	defer w.closeRaw()
	var batch []*writeOp
	var last time.Time // when the last batch was cut
	for {
		w.mu.Lock()
		for len(w.queue) == 0 {
			if w.closed {
				w.mu.Unlock()
				return
			}
			w.mu.Unlock()
			<-w.wake
			w.mu.Lock()
		}
		if gap := time.Duration(w.gap.Load()); gap > 0 {
			if d := gap - w.clock.Now().Sub(last); d > 0 && len(w.queue) < w.maxOps && !w.closed {
				w.mu.Unlock()
				w.hold(d)
				w.mu.Lock()
			}
			last = w.clock.Now()
		}
		if len(w.queue) < w.maxOps {
			// Let the goroutines that are ready to run queue their
			// writes before the batch is cut. The write that woke
			// the writer made it the next goroutine to run (the
			// scheduler's runnext): without this the batches of a
			// busy process would be of one or two writes.
			w.mu.Unlock()
			runtime.Gosched()
			w.mu.Lock()
		}
		batch = batch[:0]
		taken := 0
		for _, op := range w.queue {
			if len(batch) == w.maxOps {
				break
			}
			taken++
			if op.state.CompareAndSwap(opQueued, opTaken) {
				batch = append(batch, op)
			}
		}
		n := copy(w.queue, w.queue[taken:])
		clear(w.queue[n:])
		w.queue = w.queue[:n]
		w.mu.Unlock()
		if len(batch) > 0 {
			w.runBatch(batch)
		}
		clear(batch)
	}
}

// hold waits d, or less if maxOps writes are queued or the writer closes
// meanwhile.
func (w *writer) hold(d time.Duration) {
	t := w.clock.NewTimer(d)
	defer t.Stop()
	if w.held != nil {
		w.held()
	}
	for {
		select {
		case <-t.C():
			return
		case <-w.wake:
			w.mu.Lock()
			enough := len(w.queue) >= w.maxOps || w.closed
			w.mu.Unlock()
			if enough {
				return
			}
		}
	}
}

// setGap sets the commit gap (see writer); d ≤ 0: none.
func (w *writer) setGap(d time.Duration) {
	w.gap.Store(int64(max(d, 0)))
}

// runBatch runs ops in one transaction and hands each its result.
func (w *writer) runBatch(ops []*writeOp) {
	w.batches.Add(1)
	w.ops.Add(int64(len(ops)))
	ctx := context.Background()
	err := w.exec(ctx, ops)
	for _, op := range ops {
		if err != nil && !op.fnErr && op.panicV == nil {
			op.err = err
		}
		op.done <- struct{}{}
	}
}

// exec runs ops in a transaction, recording each op's own failure in it; it
// returns the error that failed the whole transaction, if any.
//
// Most batches have no write that fails, and run without savepoints: a
// savepoint per write would cost two statements and a copy of every page the
// write changes, to undo the write should it fail. When one fails, the
// transaction is rolled back, and the batch runs again with each write in a
// savepoint, so that the failed write's statements alone are undone (a lone
// write needs none: its transaction is all there is to undo).
func (w *writer) exec(ctx context.Context, ops []*writeOp) error {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	w.conn = conn
	defer func() { w.conn = nil }()
	ctx = context.WithValue(ctx, batchKey{}, w)
	if done, err := w.runTx(ctx, conn, ops, false); done || err != nil {
		return err
	}
	for _, op := range ops {
		op.err, op.fnErr, op.panicV = nil, false, nil
	}
	_, err = w.runTx(ctx, conn, ops, true)
	return err
}

// runTx runs ops in one transaction on conn and commits it, each op in a
// savepoint if savepoints is set. Without savepoints, the first op to fail
// ends the transaction, rolled back: done then reports whether that op was
// the only one (nothing else to run again).
func (w *writer) runTx(ctx context.Context, conn *sql.Conn, ops []*writeOp, savepoints bool) (done bool, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return true, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, op := range ops {
		if !savepoints {
			if w.call(ctx, tx, op) {
				return len(ops) == 1, nil
			}
			continue
		}
		// The savepoint statements are prepared once (rawExec): run
		// through database/sql, each would be parsed and compiled
		// again every time.
		if _, err := w.rawExec(ctx, "SAVEPOINT w", nil); err != nil {
			return true, err
		}
		if w.call(ctx, tx, op) {
			// Undo op's statements and drop the savepoint. Should
			// this fail, the transaction is gone (SQLite rolls it
			// back by itself on some errors): fail the batch.
			if _, err := w.rawExec(ctx, "ROLLBACK TO w", nil); err != nil {
				return true, err
			}
		}
		if _, err := w.rawExec(ctx, "RELEASE w", nil); err != nil {
			return true, err
		}
	}
	return true, tx.Commit()
}

// closeRaw closes the statements run past database/sql.
func (w *writer) closeRaw() {
	if w.raw.stmts == nil {
		return
	}
	conn, err := w.db.Conn(context.Background())
	if err != nil {
		return
	}
	defer conn.Close()
	conn.Raw(func(dc any) error { //nolint:errcheck // f returns nil
		w.raw.close(dc)
		return nil
	})
}

// call runs op's fn and records its failure (an error or a panic) in op; it
// reports whether fn failed.
func (w *writer) call(ctx context.Context, tx *sql.Tx, op *writeOp) (failed bool) {
	defer func() {
		if p := recover(); p != nil {
			op.panicV, failed = p, true
		}
	}()
	if err := op.fn(ctx, tx); err != nil {
		op.err, op.fnErr = err, true
		return true
	}
	return false
}
