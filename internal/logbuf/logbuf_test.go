package logbuf

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// dest is a destination the test reads while the writer may write to it.
type dest struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (d *dest) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes++
	return d.b.Write(p)
}

// newTestWriter returns a Writer on the real clock (fake inside a synctest
// bubble) and its destination; the Writer is closed when the test ends.
func newTestWriter(t *testing.T) (*dest, *Writer) {
	d := &dest{}
	w := New(d, clock.Real)
	t.Cleanup(func() { w.Close() })
	return d, w
}

func (d *dest) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.b.String()
}

// TestLinesWaitForTheInterval: lines are written together, Interval after
// the first, in one write.
func TestLinesWaitForTheInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, w := newTestWriter(t)
		fmt.Fprintln(w, "one")
		time.Sleep(Interval / 2)
		fmt.Fprintln(w, "two")
		synctest.Wait()
		if got := d.String(); got != "" {
			t.Fatalf("written after %v: %q, want nothing yet", Interval/2, got)
		}
		time.Sleep(Interval / 2)
		synctest.Wait()
		if got := d.String(); got != "one\ntwo\n" || d.writes != 1 {
			t.Fatalf("after %v: %q in %d writes, want both lines in one", Interval, got, d.writes)
		}
		fmt.Fprintln(w, "three")
		time.Sleep(Interval)
		synctest.Wait()
		if got := d.String(); got != "one\ntwo\nthree\n" {
			t.Fatalf("a line after a quiet spell: %q", got)
		}
	})
}

// TestWarningsAreNotLate: a record of level WARN or above is written at
// once, after the lines logged before it.
func TestWarningsAreNotLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, w := newTestWriter(t)
		log := slog.New(Handler(slog.NewTextHandler(w, nil), w)).With("part", "test")
		log.Info("call started")
		synctest.Wait()
		if got := d.String(); got != "" {
			t.Fatalf("an INFO line written at once: %q", got)
		}
		log.Warn("overload")
		got := d.String()
		if !strings.Contains(got, "msg=\"call started\" part=test\n") || !strings.HasSuffix(got, "msg=overload part=test\n") {
			t.Fatalf("after the warning: %q, want both lines, the warning last", got)
		}
		log.WithGroup("g").Error("failed")
		if got := d.String(); !strings.HasSuffix(got, "msg=failed part=test\n") {
			t.Fatalf("an error through WithGroup not written at once: %q", got)
		}
	})
}

// TestFullBufferIsWrittenAtOnce: lines do not wait for the interval once
// maxBuffered bytes do.
func TestFullBufferIsWrittenAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, w := newTestWriter(t)
		line := strings.Repeat("x", 99) + "\n"
		for range maxBuffered / len(line) {
			w.Write([]byte(line))
		}
		if d.String() != "" {
			t.Fatal("written before the buffer was full")
		}
		w.Write([]byte(line))
		synctest.Wait() // the flusher writes them, the clock where it was
		if got := len(d.String()); got != (maxBuffered/len(line)+1)*len(line) {
			t.Fatalf("%d bytes written once full, want all %d", got, (maxBuffered/len(line)+1)*len(line))
		}
	})
}

// TestCloseWritesTheRest: Close writes what waits and stops the flusher
// (synctest.Test fails if a goroutine of the bubble is left).
func TestCloseWritesTheRest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, w := newTestWriter(t)
		fmt.Fprintln(w, "last words")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := d.String(); got != "last words\n" {
			t.Fatalf("after Close: %q", got)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
}

// TestConcurrentLoggers: lines logged from many goroutines arrive whole.
func TestConcurrentLoggers(t *testing.T) {
	var d dest
	w := New(&d, clock.Real)
	log := slog.New(Handler(slog.NewTextHandler(w, nil), w))
	var wg sync.WaitGroup
	const goroutines, lines = 8, 500
	for g := range goroutines {
		wg.Go(func() {
			for i := range lines {
				if i%100 == 99 {
					log.Warn("line", "g", g, "i", i)
				} else {
					log.Info("line", "g", g, "i", i)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(d.String(), "\n"), "\n")
	if len(got) != goroutines*lines {
		t.Fatalf("%d lines, want %d", len(got), goroutines*lines)
	}
	for _, l := range got {
		if !strings.Contains(l, "msg=line g=") {
			t.Fatalf("line cut or mixed: %q", l)
		}
	}
}

// stalled is a destination whose writes wait until release is closed, as a
// file system's do during its journal's commit; it records each write.
type stalled struct {
	release chan struct{}
	mu      sync.Mutex
	writes  [][]byte
}

func (d *stalled) Write(p []byte) (int, error) {
	<-d.release
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes = append(d.writes, bytes.Clone(p))
	return len(p), nil
}

// returnsAtOnce runs log in a goroutine of the synctest bubble and reports
// whether it had returned once every goroutine of the bubble was blocked:
// whether it logged without waiting for the stalled destination.
func returnsAtOnce(log func()) bool {
	logged := make(chan struct{})
	go func() {
		log()
		close(logged)
	}()
	synctest.Wait()
	select {
	case <-logged:
		return true
	default:
		return false
	}
}

// releaseAndClose lets the destination's writes through, closes w and
// returns everything written to d.
func (d *stalled) releaseAndClose(t *testing.T, w *Writer) []byte {
	t.Helper()
	close(d.release)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, p := range d.writes {
		all = append(all, p...)
	}
	return all
}

// TestStalledDestinationDoesNotBlockLoggers: while a write to the
// destination waits, lines are still taken at once (a Write under the
// lock of the buffer would stop every logger); once it returns they follow,
// in order.
func TestStalledDestinationDoesNotBlockLoggers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &stalled{release: make(chan struct{})}
		w := New(d, clock.Real)
		fmt.Fprintln(w, "first")
		time.Sleep(Interval)
		synctest.Wait() // the flusher is in the stalled write
		if !returnsAtOnce(func() {
			for i := range 100 {
				fmt.Fprintln(w, "line", i)
			}
		}) {
			t.Fatal("loggers wait for the stalled destination")
		}
		all := d.releaseAndClose(t, w)
		want := "first\n"
		for i := range 100 {
			want += fmt.Sprintln("line", i)
		}
		if string(all) != want || len(d.writes) != 2 {
			t.Fatalf("written %d times: %q, want the lines in order in 2 writes", len(d.writes), all)
		}
	})
}

// TestFullBufferLeftToTheFlusher: the logger whose line fills the buffer
// does not write it itself, so that a destination that stalls on that write
// holds up the flusher only.
func TestFullBufferLeftToTheFlusher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &stalled{release: make(chan struct{})}
		w := New(d, clock.Real)
		line := strings.Repeat("z", 99) + "\n"
		if !returnsAtOnce(func() {
			for range 2 * maxBuffered / len(line) {
				w.Write([]byte(line))
			}
		}) {
			t.Fatal("the logger that filled the buffer waits for the destination")
		}
		total := len(d.releaseAndClose(t, w))
		if want := 2 * maxBuffered / len(line) * len(line); total != want {
			t.Fatalf("%d bytes written, want %d", total, want)
		}
	})
}

// TestLinesPastMaxHeldAreDroppedAndCounted: while the destination stalls,
// at most maxHeld bytes wait; the lines past them are dropped without
// holding up the logger (a warning either: it is written by the flusher
// once the write in progress returns), and once the destination takes
// writes again a line after those held says how many were dropped.
func TestLinesPastMaxHeldAreDroppedAndCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &stalled{release: make(chan struct{})}
		w := New(d, clock.Real)
		log := slog.New(Handler(slog.NewTextHandler(w, nil), w))
		line := strings.Repeat("y", 999) + "\n"
		w.Write([]byte(line))
		time.Sleep(Interval)
		synctest.Wait() // the flusher is in the stalled write
		const lines = 2 * maxHeld / 1000
		if !returnsAtOnce(func() {
			for range lines {
				w.Write([]byte(line))
			}
			log.Warn("a warning while the destination stalls")
		}) {
			t.Fatal("loggers wait for the stalled destination once maxHeld bytes wait")
		}
		all := d.releaseAndClose(t, w)
		kept := strings.Count(string(all), line)
		report := regexp.MustCompile(`level=WARN msg="log lines dropped: the log's destination did not take them" part=logbuf lines=(\d+) bytes=(\d+)\n`)
		m := report.FindSubmatch(all)
		if m == nil {
			t.Fatalf("no report of the lines dropped in %d bytes written", len(all))
		}
		dropped, _ := strconv.Atoi(string(m[1]))
		if kept+dropped != lines+1 || (kept-1)*len(line) > maxHeld || dropped == 0 { // the first was written before
			t.Fatalf("%d lines written, %d dropped (report %q), of %d; want at most %d bytes held, the rest dropped",
				kept, dropped, m[0], lines+1, maxHeld)
		}
		// The warning fitted in the bytes left; the report follows what was
		// held.
		if !bytes.Contains(all, []byte("a warning while the destination stalls")) {
			t.Fatal("the warning, held, was not written")
		}
		if !bytes.HasSuffix(all, m[0]) {
			t.Fatal("the report is not after the lines held")
		}
	})
}

// BenchmarkWrite: a log line of 150 bytes into a Writer whose destination
// takes everything (the batches' writes included), from GOMAXPROCS
// goroutines: the cost a logging goroutine pays.
func BenchmarkWrite(b *testing.B) {
	w := New(io.Discard, clock.Real)
	defer w.Close()
	line := []byte(strings.Repeat("x", 149) + "\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Write(line)
		}
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dropped > 0 {
		b.Fatalf("%d lines dropped with a destination that takes everything", w.dropped)
	}
}
