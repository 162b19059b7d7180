package store

import (
	"bufio"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// The checkpoints' fsyncs, in another process.
//
// A PASSIVE checkpoint syncs the WAL before it copies it and the database
// after: 5-17 ms each at 2,000 calls/s here. A goroutine in a system call
// keeps its P until the runtime's sysmon hands the P to another thread, and
// sysmon, with nothing to do under a steady load, looks every 10 ms and takes
// the P at its second look: with GOMAXPROCS=1 (switchboard on one core) the
// whole process stood still for the fsync, four times a second, and the
// INVITEs that arrived meanwhile were refused by the overload rule (a runtime
// trace showed the checkpointer's goroutine 10-17 ms in fsync, the P not
// retaken; bench/README.md, session 14).
//
// So switchboard serve has its checkpoints run by a helper process: its own
// executable, started with checkpointHelperEnv naming the database. The helper
// runs a PASSIVE checkpoint for each line on its standard input and answers a
// line; the checkpointer's goroutine waits for the answer on a pipe, parked
// in the network poller, holding no P. SQLite's WAL is made for several
// processes (the wal-index is shared memory, locked with fcntl), and the
// helper's checkpoint is the same checkpoint with the same fsyncs, so nothing
// changes on disk. The helper exits when its standard input closes: when the
// store closes, or when the server dies and the kernel closes its end of the
// pipe. It is in a process group of its own, so that a terminal's Ctrl-C
// reaches only the server, which then stops it.
//
// Should the helper fail to start or stop answering, the checkpointer goes on
// in-process.

// checkpointHelperEnv names the environment variable that makes a process
// started from the server's executable a checkpoint helper of the database
// it names (RunCheckpointHelper).
const checkpointHelperEnv = "SWITCHBOARD_CHECKPOINT_HELPER"

// CheckpointHelperRequested reports whether this process was started as a
// checkpoint helper. A program that offers itself as one (WithCheckpointHelper)
// checks it first thing in main and then runs RunCheckpointHelper.
func CheckpointHelperRequested() bool {
	return os.Getenv(checkpointHelperEnv) != ""
}

// RunCheckpointHelper is the checkpoint helper's main: it opens the database
// named by the environment, writes "ready", then for each line read from in
// runs a PASSIVE checkpoint and writes "ok BUSY LOG CHECKPOINTED" (the
// checkpoint's result row) or "error TEXT". It returns the exit code when in
// ends.
func RunCheckpointHelper(in io.Reader, out io.Writer) int {
	path := os.Getenv(checkpointHelperEnv)
	db, err := openCheckpointConn(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "switchboard checkpoint helper: %v\n", err)
		return 1
	}
	defer db.Close()
	w := bufio.NewWriter(out)
	reply := func(format string, args ...any) bool {
		fmt.Fprintf(w, format+"\n", args...)
		return w.Flush() == nil
	}
	if !reply("ready") {
		return 1
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var busy, log, done int64
		err := db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done)
		var ok bool
		if err != nil {
			ok = reply("error %s", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			ok = reply("ok %d %d %d", busy, log, done)
		}
		if !ok {
			return 1
		}
	}
	return 0
}

// openCheckpointConn opens the one connection checkpoints run on: query_only
// (a checkpoint is not a write transaction), synchronous=NORMAL as every
// connection of the store (the checkpoint's fsyncs).
func openCheckpointConn(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", sqliteURI(path, connQuery("query_only(1)")))
	if err != nil {
		return nil, fmt.Errorf("open sqlite checkpointer: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	return db, nil
}

// checkpointHelper is a running helper, used by the checkpointer's goroutine
// only.
type checkpointHelper struct {
	cmd *exec.Cmd
	in  io.WriteCloser // the helper's standard input
	out *bufio.Reader  // its standard output
}

// errHelper is a helper that did not answer as it should (a checkpoint
// that failed is another error).
var errHelper = errors.New("checkpoint helper")

// startCheckpointHelper starts exe as the checkpoint helper of the database
// at path and waits for it to have opened it.
func startCheckpointHelper(exe, path string) (*checkpointHelper, error) {
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), checkpointHelperEnv+"="+path)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = helperProcAttr()
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errHelper, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errHelper, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start %s: %w", errHelper, exe, err)
	}
	h := &checkpointHelper{cmd: cmd, in: in, out: bufio.NewReader(out)}
	if line, err := h.out.ReadString('\n'); err != nil || line != "ready\n" {
		h.close()
		return nil, fmt.Errorf("%w: %s did not start (%q, %v)", errHelper, exe, line, err)
	}
	return h, nil
}

// checkpoint has the helper run one checkpoint and waits for its answer:
// an error wrapping errHelper if the helper did not answer as it should.
func (h *checkpointHelper) checkpoint() error {
	if _, err := io.WriteString(h.in, "checkpoint\n"); err != nil {
		return fmt.Errorf("%w: %w", errHelper, err)
	}
	line, err := h.out.ReadString('\n')
	if err != nil {
		return fmt.Errorf("%w: %w", errHelper, err)
	}
	switch {
	case strings.HasPrefix(line, "ok "):
		return nil
	case strings.HasPrefix(line, "error "):
		return fmt.Errorf("checkpoint in the helper: %s", strings.TrimSpace(strings.TrimPrefix(line, "error ")))
	}
	return fmt.Errorf("%w: answered %q", errHelper, line)
}

// close ends the helper (its standard input closes) and waits for it.
func (h *checkpointHelper) close() error {
	h.in.Close()
	return h.cmd.Wait()
}
