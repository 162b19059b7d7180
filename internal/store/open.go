package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// FileName is the SQLite database file Open creates in the data directory.
const FileName = "switchboard.db"

// migrationFiles holds the goose migrations. Most are portable SQL at the top
// of migrations/; the few that portable SQL cannot express (an auto-increment
// key is INTEGER PRIMARY KEY AUTOINCREMENT on SQLite and an IDENTITY column on
// PostgreSQL) are written once per dialect, under the same version number, in
// migrations/sqlite and migrations/postgres. Open shows goose the shared files
// plus its dialect's as one directory (migrationsFor).
//
//go:embed migrations/*.sql migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// dialect says which SQL engine is behind a store; the SQL text is shared,
// only a few clauses differ.
type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

// Open opens (creating it if needed) the store named by dsn and brings its
// schema up to date with the embedded migrations.
//
// An empty dsn selects SQLite: the file FileName in dataDir, which is created
// if missing. SQLite runs in WAL mode with a single writer connection (all
// writes serialise on it, so transactions never fail with SQLITE_BUSY) and a
// separate pool of read-only connections that WAL lets read while the writer
// writes.
//
// A dsn starting with postgres:// or postgresql:// selects PostgreSQL through
// pgx; migrations then run under a PostgreSQL advisory lock, so several
// switchboard nodes may start against the same database at once.
func Open(ctx context.Context, dsn string, dataDir string, opts ...Option) (Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case dsn == "":
		st, err := openSQLite(ctx, dataDir, clock.Real, nil, o)
		if err != nil {
			return nil, err // not a nil *sqlStore in a non-nil Store
		}
		return st, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	default:
		return nil, fmt.Errorf("%w: unsupported database DSN (want empty for SQLite or postgres://...)", ErrInvalid)
	}
}

// An Option changes how Open opens a store.
type Option func(*options)

type options struct {
	helperExe string
	log       *slog.Logger
}

// WithCheckpointHelper has a SQLite store's checkpoints run by a helper
// process started from exe, which must run RunCheckpointHelper when
// CheckpointHelperRequested (checkpointhelper.go). If the helper cannot be
// started, or stops answering, the checkpoints run in-process, and log says
// so. Without it, or with exe empty, they run in-process.
func WithCheckpointHelper(exe string, log *slog.Logger) Option {
	return func(o *options) { o.helperExe, o.log = exe, log }
}

// openSQLite opens the SQLite store in dataDir; its checkpointer ticks on clk
// and calls ran (if not nil) after each checkpoint.
func openSQLite(ctx context.Context, dataDir string, clk clock.Clock, ran func(), o options) (*sqlStore, error) {
	if dataDir == "" {
		return nil, fmt.Errorf("%w: empty data directory", ErrInvalid)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	abs, err := filepath.Abs(filepath.Join(dataDir, FileName))
	if err != nil {
		return nil, fmt.Errorf("database path: %w", err)
	}
	wq := connQuery()
	wq.Add("_pragma", "journal_mode(WAL)")
	// The group-commit writer runs each write of a batch in a savepoint;
	// SQLite keeps the pages a savepoint may have to restore in a
	// sub-journal, a temporary file unless temp_store is MEMORY (then it
	// stays in memory and is emptied at each RELEASE).
	wq.Add("_pragma", "temp_store(MEMORY)")
	// The writer never copies the WAL back into the database: the
	// checkpointer does, off the write path (checkpoint.go).
	wq.Add("_pragma", "wal_autocheckpoint(0)")
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", sqliteURI(abs, wq))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// One writer: SQLite allows one write transaction at a time anyway;
	// queueing in database/sql instead of in SQLite's busy handler keeps
	// writes fair and deadlock-free.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", abs, err)
	}
	if err := migrate(ctx, w, goose.DialectSQLite3, "sqlite", nil); err != nil {
		w.Close()
		return nil, err
	}

	r, err := sql.Open("sqlite", sqliteURI(abs, connQuery("query_only(1)")))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open sqlite readers %s: %w", abs, err)
	}
	st, err := newSQLStore(ctx, w, r, dialectSQLite)
	if err != nil {
		return nil, err
	}
	st.batch = newWriter(w, maxBatchOps, clk)
	st.cache = newLookupCache(time.Now)
	cp, err := openCheckpointConn(abs)
	if err != nil {
		st.Close()
		return nil, err
	}
	var helper *checkpointHelper
	if o.helperExe != "" {
		if helper, err = startCheckpointHelper(o.helperExe, abs); err != nil && o.log != nil {
			o.log.Warn("store: checkpoints run in-process", "err", err)
		}
	}
	st.checkpoints = startCheckpointer(cp, helper, o.log, clk, ran)
	return st, nil
}

// connQuery is the query of a connection's URI: the pragmas every
// connection of the store runs, then pragmas (each "name(value)").
func connQuery(pragmas ...string) url.Values {
	q := url.Values{}
	for _, p := range append([]string{"busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"}, pragmas...) {
		q.Add("_pragma", p)
	}
	return q
}

// sqliteURI builds a file: URI for modernc.org/sqlite; the path is escaped so
// that a '?' or '#' in the data directory cannot cut the URI short.
func sqliteURI(path string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

func openPostgres(ctx context.Context, dsn string) (Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// Nodes starting together wait for each other's migrations: retry the
	// advisory lock every second for up to five minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	if err := migrate(ctx, db, goose.DialectPostgres, "postgres", locker); err != nil {
		db.Close()
		return nil, err
	}
	st, err := newSQLStore(ctx, db, db, dialectPostgres)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// migrate applies the embedded migrations that db has not seen yet: the
// shared ones and those in the subdirectory dir of migrations/ (the
// dialect's).
func migrate(ctx context.Context, db *sql.DB, d goose.Dialect, dir string, locker lock.SessionLocker) error {
	fsys, err := migrationsFor(dir)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if locker != nil {
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(d, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil && !errors.Is(err, goose.ErrNoNextVersion) {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// migrationsFor returns migrations/ as goose sees it for one dialect: the
// shared files at its top and those of its subdirectory dir, side by side.
// goose rejects two files of the same version, so a version cannot be both
// shared and dialect-specific (unless the two files have the same name, in
// which case the dialect's is the one seen).
func migrationsFor(dir string) (fs.FS, error) {
	root, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	own, err := fs.Sub(root, dir)
	if err != nil {
		return nil, err
	}
	return overlayFS{root: root, own: own}, nil
}

// overlayFS is a flat view of two directories' files: a name is looked up
// in own first, then in root. It implements fs.GlobFS, which is all goose
// needs to list the migrations besides Open to read them.
type overlayFS struct {
	root, own fs.FS
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if name != "." {
		if f, err := o.own.Open(name); err == nil {
			return f, nil
		}
	}
	return o.root.Open(name)
}

func (o overlayFS) Glob(pattern string) ([]string, error) {
	shared, err := fs.Glob(o.root, pattern)
	if err != nil {
		return nil, err
	}
	own, err := fs.Glob(o.own, pattern)
	if err != nil {
		return nil, err
	}
	names := append(shared, own...)
	slices.Sort(names)
	return slices.Compact(names), nil
}
