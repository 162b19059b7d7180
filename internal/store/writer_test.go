package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// The tests of the group-commit writer (writer.go) are white-box: they hold
// the writer inside a write (gate) so that the writes queued meanwhile are
// known to form the next batch.

// openWriterStore opens a SQLite store with a main account.
func openWriterStore(t *testing.T, dir string) (*sqlStore, Account) {
	t.Helper()
	st, err := Open(t.Context(), "", dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s := st.(*sqlStore)
	t.Cleanup(func() { s.Close() }) // a second Close is harmless for the test
	const acct = "AC00000000000000000000000000000001"
	a, err := s.MainAccount(t.Context())
	if err != nil {
		a, err = s.CreateAccount(t.Context(), Account{SID: acct, OwnerAccountSID: acct, FriendlyName: "main",
			AuthToken: "00000000000000000000000000000001", Status: StatusActive})
		if err != nil {
			t.Fatal(err)
		}
	}
	return s, a
}

// queued is how many writes wait for the writer.
func (w *writer) queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// waitQueued polls until n writes are queued.
func waitQueued(t *testing.T, w *writer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for w.queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued after 10 s, want %d", w.queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// gate holds the writer inside a write until released.
type gate struct {
	entered, release chan struct{}
	err              chan error
}

func holdWriter(t *testing.T, s *sqlStore, ctx context.Context) *gate {
	t.Helper()
	g := &gate{entered: make(chan struct{}), release: make(chan struct{}), err: make(chan error, 1)}
	go func() {
		g.err <- s.write(ctx, "gate", "", func(ctx context.Context, tx *sql.Tx) error {
			close(g.entered)
			<-g.release
			_, err := tx.ExecContext(ctx, "INSERT INTO events (account_sid, call_sid, resource_sid, type, name, time, payload) "+
				"VALUES ('AC00000000000000000000000000000001', '', 'gate', 'test', 'gate', 0, '{}')")
			return err
		})
	}()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the writer did not start the gate write")
	}
	return g
}

func testCall(a Account, i int, status CallStatus) Call {
	return Call{SID: fmt.Sprintf("CA%032d", i), AccountSID: a.SID, From: "+15550001111", To: "+15550002222",
		Status: status, Direction: DirectionInbound, APIVersion: "2010-04-01"}
}

// TestWriterConcurrentSavesVisible: many goroutines each save calls through
// their statuses; every save is readable (through the read pool) as soon as
// it returns, and the writes were committed in fewer transactions than
// writes.
func TestWriterConcurrentSavesVisible(t *testing.T) {
	s, a := openWriterStore(t, t.TempDir())
	const goroutines, calls = 12, 10
	statuses := []CallStatus{CallRinging, CallInProgress, CallCompleted}
	b0, o0 := s.batch.batches.Load(), s.batch.ops.Load()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				c := testCall(a, g*1000+i, "")
				for _, st := range statuses {
					c.Status = st
					saved, err := s.SaveCall(t.Context(), c, Event{}, []Callback{{URL: "https://example.com/cb"}})
					if err != nil {
						errs <- err
						return
					}
					got, err := s.Call(t.Context(), a.SID, c.SID)
					if err != nil || got.Status != st || !got.DateUpdated.Equal(saved.DateUpdated) {
						errs <- fmt.Errorf("read after SaveCall(%s %s) = %s, %v", c.SID, st, got.Status, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ops, batches := s.batch.ops.Load()-o0, s.batch.batches.Load()-b0
	if want := int64(goroutines * calls * len(statuses)); ops != want {
		t.Errorf("writer ran %d writes, want %d", ops, want)
	}
	t.Logf("%d writes in %d transactions", ops, batches)
	n, err := s.PendingCallbacks(t.Context())
	if err != nil || n != goroutines*calls*len(statuses) {
		t.Errorf("PendingCallbacks = %d, %v; want %d", n, err, goroutines*calls*len(statuses))
	}
	evs, _, err := s.ListEvents(t.Context(), EventFilter{AccountSID: a.SID, Type: EventCall}, 0, 10000)
	if err != nil || len(evs) != goroutines*calls*len(statuses) {
		t.Errorf("ListEvents = %d events, %v; want %d", len(evs), err, goroutines*calls*len(statuses))
	}
}

// TestWriterBatchFailingWriteAlone: in one batch, a write that fails (a
// duplicate key after its first statement went in; a call already ended)
// gets its own error and leaves nothing behind, while the writes around it
// commit.
func TestWriterBatchFailingWriteAlone(t *testing.T) {
	s, a := openWriterStore(t, t.TempDir())
	ctx := t.Context()
	ended := testCall(a, 1, CallCompleted)
	if _, err := s.SaveCall(ctx, ended, Event{}, nil); err != nil {
		t.Fatal(err)
	}
	g := holdWriter(t, s, ctx)
	b0 := s.batch.batches.Load()

	results := make([]chan error, 4)
	for i := range results {
		results[i] = make(chan error, 1)
	}
	// 0: a new call, with a callback.
	go func() {
		_, err := s.SaveCall(ctx, testCall(a, 2, CallRinging), Event{}, []Callback{{URL: "https://example.com/a"}})
		results[0] <- err
	}()
	waitQueued(t, s.batch, 1)
	// 1: inserts an event, then a duplicate account: fails after writing.
	go func() {
		results[1] <- s.write(ctx, "failing", "", func(ctx context.Context, tx *sql.Tx) error {
			if _, err := s.insertEvent(ctx, tx, Event{AccountSID: a.SID, CallSID: "CAx", Type: "test", Name: "lost"}); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO accounts ("+accountColumns+") VALUES ($1, $1, 'dup', 't', 'active', 0, 0)", a.SID)
			return classify(err)
		})
	}()
	waitQueued(t, s.batch, 2)
	// 2: re-opening an ended call: ErrConflict from SaveCall's checks.
	go func() {
		_, err := s.SaveCall(ctx, testCall(a, 1, CallInProgress), Event{}, []Callback{{URL: "https://example.com/lost"}})
		results[2] <- err
	}()
	waitQueued(t, s.batch, 3)
	// 3: another new call after the failures.
	go func() {
		_, err := s.SaveCall(ctx, testCall(a, 3, CallRinging), Event{}, nil)
		results[3] <- err
	}()
	waitQueued(t, s.batch, 4)
	close(g.release)
	if err := <-g.err; err != nil {
		t.Fatalf("gate write: %v", err)
	}

	if err := <-results[0]; err != nil {
		t.Errorf("write 0: %v", err)
	}
	if err := <-results[1]; !errors.Is(err, ErrConflict) {
		t.Errorf("write 1 (duplicate account) = %v, want ErrConflict", err)
	}
	if err := <-results[2]; !errors.Is(err, ErrConflict) {
		t.Errorf("write 2 (ended call) = %v, want ErrConflict", err)
	}
	if err := <-results[3]; err != nil {
		t.Errorf("write 3: %v", err)
	}
	if got := s.batch.batches.Load() - b0; got != 1 {
		t.Errorf("the 4 writes took %d transactions, want 1 (one batch)", got)
	}

	for i, want := range map[int]CallStatus{1: CallCompleted, 2: CallRinging, 3: CallRinging} {
		c, err := s.Call(ctx, a.SID, testCall(a, i, "").SID)
		if err != nil || c.Status != want {
			t.Errorf("call %d = %s, %v; want %s", i, c.Status, err, want)
		}
	}
	evs, _, err := s.ListEvents(ctx, EventFilter{AccountSID: a.SID, Type: "test"}, 0, 100)
	if err != nil || len(evs) != 1 || evs[0].Name != "gate" {
		t.Errorf("test events = %+v, %v; want only the gate's (the failed write's is undone)", evs, err)
	}
	if n, err := s.PendingCallbacks(ctx); err != nil || n != 1 {
		t.Errorf("PendingCallbacks = %d, %v; want 1 (the failed SaveCall's callback is undone)", n, err)
	}
}

// TestWriterBatchRunsAgainOnlyAfterAFailure: a batch whose writes all
// succeed runs each once, in one transaction without savepoints; in a batch
// where one fails, the writes before it run again (the first transaction is
// rolled back) and each of the others' rows is written once.
func TestWriterBatchRunsAgainOnlyAfterAFailure(t *testing.T) {
	s, a := openWriterStore(t, t.TempDir())
	ctx := t.Context()
	batch := func(failing int) (runs []int) {
		t.Helper()
		runs = make([]int, 3)
		g := holdWriter(t, s, ctx)
		errs := make(chan error, len(runs))
		for i := range runs {
			go func() {
				errs <- s.write(ctx, "counted", "", func(ctx context.Context, tx *sql.Tx) error {
					runs[i]++
					if _, err := s.insertEvent(ctx, tx, Event{AccountSID: a.SID, CallSID: "CAx", Type: "test",
						Name: fmt.Sprintf("failing %d, write %d", failing, i)}); err != nil {
						return err
					}
					if i == failing {
						return errors.New("refused")
					}
					return nil
				})
			}()
			waitQueued(t, s.batch, i+1)
		}
		close(g.release)
		if err := <-g.err; err != nil {
			t.Fatalf("gate write: %v", err)
		}
		for range runs {
			if err := <-errs; err != nil && err.Error() != "refused" {
				t.Fatal(err)
			}
		}
		return runs
	}
	if runs := batch(-1); !slices.Equal(runs, []int{1, 1, 1}) {
		t.Errorf("no write failing: runs %v, want each once", runs)
	}
	if runs := batch(1); !slices.Equal(runs, []int{2, 2, 1}) {
		t.Errorf("write 1 failing: runs %v, want [2 2 1] (once until it fails, then each in a savepoint)", runs)
	}
	evs, _, err := s.ListEvents(ctx, EventFilter{AccountSID: a.SID, Type: "test"}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range evs {
		if ev.Name != "gate" {
			names = append(names, ev.Name)
		}
	}
	want := []string{"failing -1, write 0", "failing -1, write 1", "failing -1, write 2", "failing 1, write 0", "failing 1, write 2"}
	if !slices.Equal(names, want) {
		t.Errorf("events %q, want %q", names, want)
	}
}

// TestWriterPanicInBatch: a write that panics re-raises the panic in its
// caller; the other writes of its batch commit.
func TestWriterPanicInBatch(t *testing.T) {
	s, a := openWriterStore(t, t.TempDir())
	ctx := t.Context()
	g := holdWriter(t, s, ctx)
	ok := make(chan error, 1)
	go func() {
		_, err := s.CreateCall(ctx, testCall(a, 1, CallQueued))
		ok <- err
	}()
	waitQueued(t, s.batch, 1)
	recovered := make(chan any, 1)
	go func() {
		defer func() { recovered <- recover() }()
		_, _ = s.UpdateCall(ctx, a.SID, testCall(a, 1, "").SID, func(*Call) error { panic("boom") })
	}()
	waitQueued(t, s.batch, 2)
	close(g.release)
	<-g.err
	if err := <-ok; err != nil {
		t.Errorf("CreateCall: %v", err)
	}
	if p := <-recovered; p != "boom" {
		t.Errorf("UpdateCall's caller recovered %v, want the update's panic", p)
	}
	if c, err := s.Call(ctx, a.SID, testCall(a, 1, "").SID); err != nil || c.Status != CallQueued {
		t.Errorf("call = %s, %v; want queued", c.Status, err)
	}
}

// TestWriterContextEnds: a write whose ctx ends while it is queued returns
// ctx's error and is never run; one whose ctx ends once it is in a batch is
// committed, and its caller told so.
func TestWriterContextEnds(t *testing.T) {
	s, a := openWriterStore(t, t.TempDir())
	// The gate's own ctx ends while the gate write runs.
	gctx, gcancel := context.WithCancel(t.Context())
	g := holdWriter(t, s, gctx)

	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan struct{}, 1)
	res := make(chan error, 1)
	go func() {
		res <- s.write(ctx, "abandoned", "x", func(context.Context, *sql.Tx) error {
			ran <- struct{}{}
			return nil
		})
	}()
	waitQueued(t, s.batch, 1)
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Errorf("write whose ctx ended while queued = %v, want context.Canceled", err)
	}
	gcancel()
	close(g.release)
	if err := <-g.err; err != nil {
		t.Errorf("gate write, its ctx ended in the batch = %v, want committed", err)
	}
	// A write after them shows the abandoned one was skipped.
	if _, err := s.CreateCall(t.Context(), testCall(a, 1, CallQueued)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Error("the abandoned write ran")
	default:
	}
	evs, _, err := s.ListEvents(t.Context(), EventFilter{AccountSID: a.SID, Type: "test"}, 0, 10)
	if err != nil || len(evs) != 1 {
		t.Errorf("gate events = %d, %v; want 1", len(evs), err)
	}
	// A ctx that has ended already: not even queued.
	if _, err := s.CreateCall(ctx, testCall(a, 2, CallQueued)); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateCall with an ended ctx = %v, want context.Canceled", err)
	}
}

// TestWriterCloseDrains: Close runs the writes queued before it; they are
// in the database when it is opened again, and a write after Close fails.
func TestWriterCloseDrains(t *testing.T) {
	dir := t.TempDir()
	s, a := openWriterStore(t, dir)
	ctx := t.Context()
	g := holdWriter(t, s, ctx)
	const n = 10
	res := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.CreateCall(ctx, testCall(a, i, CallQueued))
			res <- err
		}()
	}
	waitQueued(t, s.batch, n)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	// Close waits for the writer (held by the gate): it must not have
	// returned yet.
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while writes were queued", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(g.release)
	if err := <-g.err; err != nil {
		t.Errorf("gate write: %v", err)
	}
	for range n {
		if err := <-res; err != nil {
			t.Errorf("queued CreateCall: %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.CreateCall(ctx, testCall(a, 99, CallQueued)); !errors.Is(err, errWriterClosed) {
		t.Errorf("CreateCall after Close = %v, want the store closed", err)
	}

	s2, _ := openWriterStore(t, dir)
	calls, _, err := s2.ListCalls(ctx, CallFilter{AccountSID: a.SID}, Page{Size: 100})
	if err != nil || len(calls) != n {
		t.Errorf("after reopening: %d calls, %v; want %d", len(calls), err, n)
	}
}

// TestWriterPragmas: the writer connection keeps savepoint journals in
// memory and never checkpoints (the checkpointer does).
func TestWriterPragmas(t *testing.T) {
	s, _ := openWriterStore(t, t.TempDir())
	var tempStore, ckpt int
	if err := s.write(t.Context(), "pragmas", "", func(ctx context.Context, tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&tempStore); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&ckpt)
	}); err != nil {
		t.Fatal(err)
	}
	if tempStore != 2 || ckpt != 0 {
		t.Errorf("temp_store = %d, wal_autocheckpoint = %d; want 2 (MEMORY), 0", tempStore, ckpt)
	}
}

// TestWriterSavesPastDatabaseSQL: a call's saves run the writer's own
// prepared statements (rawstmt.go), each prepared once on the writer's
// connection, and the row and events they write read back as any write's.
func TestWriterSavesPastDatabaseSQL(t *testing.T) {
	s, a := openWriterStore(t, t.TempDir())
	ctx := t.Context()
	for i := range 3 {
		c := testCall(a, i, "")
		for _, st := range []CallStatus{CallRinging, CallInProgress, CallCompleted} {
			c.Status = st
			if _, err := s.SaveCall(ctx, c, Event{}, nil); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Call(ctx, a.SID, c.SID)
		if err != nil || got.Status != CallCompleted || got.Node != c.Node {
			t.Fatalf("call %d = %+v, %v", i, got, err)
		}
		evs, _, err := s.ListEvents(ctx, EventFilter{AccountSID: a.SID, CallSID: c.SID}, 0, 10)
		if err != nil || len(evs) != 3 || evs[0].Name != "ringing" || evs[2].Name != "completed" || evs[2].Seq <= evs[0].Seq {
			t.Fatalf("call %d events = %+v, %v", i, evs, err)
		}
	}
	// SaveCall returned: its batch, and what the writer did, happened
	// before.
	if n := len(s.batch.raw.stmts); n != 3 {
		t.Errorf("the writer prepared %d statements of its own, want 3 (the call's insert and update, the event's insert)", n)
	}
	for _, q := range []string{s.callInsertQ, s.callUpdateOpenQ, s.eventInsertQ} {
		if _, ok := s.batch.raw.stmts[q]; !ok {
			t.Errorf("not prepared by the writer: %.40s…", q)
		}
	}
}

// TestWriterCommitDelay: with a commit delay, writes that come within the
// delay of the last batch wait for it and are committed together; maxOps
// writes waiting, or Close, end the wait early. Without one (the default),
// a write is committed at once.
func TestWriterCommitDelay(t *testing.T) {
	clk := clock.NewFake(time.Unix(1e9, 0))
	s, err := openSQLite(t.Context(), t.TempDir(), clk, nil, options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	const acct = "AC00000000000000000000000000000001"
	a, err := s.CreateAccount(ctx, Account{SID: acct, OwnerAccountSID: acct, FriendlyName: "main",
		AuthToken: "00000000000000000000000000000001", Status: StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{}, maxBatchOps) // a batch waits for the delay, its timer armed
	s.batch.held = func() { held <- struct{}{} }
	waitHeld := func() {
		t.Helper()
		select {
		case <-held:
		case <-time.After(10 * time.Second):
			t.Fatal("no batch held for the commit delay after 10 s")
		}
	}
	const delay = 10 * time.Millisecond
	s.SetCommitDelay(delay)

	// The first batch after a quiet spell is committed at once.
	if _, err := s.CreateCall(ctx, testCall(a, 0, CallQueued)); err != nil {
		t.Fatal(err)
	}
	b0 := s.batch.batches.Load()
	res := make(chan error, maxBatchOps)
	save := func(i int) {
		_, err := s.CreateCall(ctx, testCall(a, i, CallQueued))
		res <- err
	}
	// The next ones wait for the delay, then commit in one batch.
	for i := 1; i <= 3; i++ {
		go save(i)
	}
	waitHeld()
	waitQueued(t, s.batch, 3)
	select {
	case err := <-res:
		t.Fatalf("a write returned (%v) before the commit delay passed", err)
	default:
	}
	clk.Advance(delay)
	for range 3 {
		if err := <-res; err != nil {
			t.Fatal(err)
		}
	}
	if got := s.batch.batches.Load() - b0; got != 1 {
		t.Errorf("3 writes within the delay took %d transactions, want 1", got)
	}

	// maxOps writes waiting end the wait without the clock moving.
	s.SetCommitDelay(time.Hour)
	b0 = s.batch.batches.Load()
	for i := range maxBatchOps {
		go save(100 + i)
	}
	for range maxBatchOps {
		if err := <-res; err != nil {
			t.Fatal(err)
		}
	}
	if got := s.batch.batches.Load() - b0; got != 1 {
		t.Errorf("%d writes took %d transactions, want 1", maxBatchOps, got)
	}

	// Close ends the wait and commits what waits.
	for len(held) > 0 {
		<-held
	}
	go save(1000)
	waitHeld()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Errorf("the write waiting at Close: %v", err)
	}
}
