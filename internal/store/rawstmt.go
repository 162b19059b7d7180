package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// The SQLite writer runs the statements of every call's saves (the update of
// its row, or the insert of a new one, and the insert of its event) past
// database/sql: prepared once on the writer's driver connection and run
// with driver values. database/sql would, per statement, wrap the prepared
// statement for the transaction (Tx.StmtContext), convert and check every
// argument, track the result and its context: most of the allocations of a
// save, which the garbage collector then pays for. The statements still run
// inside the batch's transaction and the write's savepoint (they are on the
// same connection), so a failed write still undoes them.
//
// A batch's ctx carries the writer (inBatch); a statement run with another
// ctx (PostgreSQL, or SQLite outside the writer) goes through database/sql.

// batchKey is the context key of the writer running a batch.
type batchKey struct{}

// inBatch returns the writer whose batch ctx belongs to, or nil.
func inBatch(ctx context.Context) *writer {
	w, _ := ctx.Value(batchKey{}).(*writer)
	return w
}

// rawStmts are the statements prepared on one driver connection, by query.
type rawStmts struct {
	conn  any
	stmts map[string]driver.Stmt
	args  []driver.NamedValue // reused: only the writer's goroutine runs statements
}

// stmt returns query prepared on dc, preparing it on first use (or again, on
// a new connection).
func (r *rawStmts) stmt(ctx context.Context, dc any, query string) (driver.Stmt, error) {
	if dc != r.conn {
		r.conn, r.stmts = dc, make(map[string]driver.Stmt) // the old connection is gone, and its statements with it
	}
	if st, ok := r.stmts[query]; ok {
		return st, nil
	}
	p, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, errors.New("store: the SQLite driver cannot prepare with a context")
	}
	st, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	r.stmts[query] = st
	return st, nil
}

// bind converts args to the driver's values in r.args.
func (r *rawStmts) bind(args []any) []driver.NamedValue {
	r.args = r.args[:0]
	for i, a := range args {
		r.args = append(r.args, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	return r.args
}

// close closes the statements; the writer calls it once its goroutine ends.
func (r *rawStmts) close(dc any) {
	if dc == r.conn {
		for _, st := range r.stmts {
			st.Close()
		}
	}
	r.conn, r.stmts = nil, nil
}

// rawExec runs query (a write of one row) with args in the batch.
func (w *writer) rawExec(ctx context.Context, query string, args []any) (res driver.Result, err error) {
	err = w.conn.Raw(func(dc any) error {
		st, err := w.raw.stmt(ctx, dc, query)
		if err != nil {
			return err
		}
		x, ok := st.(driver.StmtExecContext)
		if !ok {
			return errors.New("store: the SQLite driver cannot execute with a context")
		}
		res, err = x.ExecContext(ctx, w.raw.bind(args))
		return err
	})
	return res, err
}

// rawQueryRow runs query with args in the batch and stores its first row in
// dest; no row is sql.ErrNoRows.
func (w *writer) rawQueryRow(ctx context.Context, query string, args []any, dest []driver.Value) error {
	return w.conn.Raw(func(dc any) error {
		st, err := w.raw.stmt(ctx, dc, query)
		if err != nil {
			return err
		}
		q, ok := st.(driver.StmtQueryContext)
		if !ok {
			return errors.New("store: the SQLite driver cannot query with a context")
		}
		rows, err := q.QueryContext(ctx, w.raw.bind(args))
		if err != nil {
			return err
		}
		err = rows.Next(dest)
		if cerr := rows.Close(); err == nil && cerr != nil {
			return cerr
		}
		if errors.Is(err, io.EOF) {
			return sql.ErrNoRows
		}
		return err
	})
}
