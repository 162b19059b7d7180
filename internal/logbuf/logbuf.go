package logbuf

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// Interval is how long a line waits at most before it is written.
const Interval = 100 * time.Millisecond

// maxBuffered is how many bytes wait for the interval at most: once that
// many wait, the flusher writes them at once (or as soon as the write in
// progress returns).
const maxBuffered = 32 << 10

// maxHeld is how many bytes wait at most while the destination does not
// take a write (a file system holding writes for its journal's commit, a
// pipe nobody reads): the lines past it are dropped and counted, and the
// count is written after the lines held (a few seconds of a busy server's
// log: a stall of the disk is tens of milliseconds).
const maxHeld = 4 << 20

// A Writer buffers what is written to it and writes it to its destination
// in batches (see the package doc). Its methods may be called concurrently.
//
// A write to the destination never holds mu, which Write takes: a write
// that blocks (a file system stalled for tens of milliseconds) blocks only
// the goroutine making it: the flusher, a logger of a warning while no
// write was in progress, or a caller of Flush. A logger below WARN never
// writes to the destination itself.
type Writer struct {
	dst   io.Writer
	clock clock.Clock

	mu  sync.Mutex // guards buf and the counts of what was dropped
	buf []byte     // the lines waiting
	// dropped and droppedBytes count the lines dropped since the last
	// Flush, past maxHeld.
	dropped, droppedBytes int

	// wlock (capacity 1, held while full) serialises the writes to dst
	// and guards spare, the buffer written last, emptied for the next
	// batch. A channel, so that a goroutine waiting for a write in
	// progress is durably blocked in a synctest bubble.
	wlock chan struct{}
	spare []byte

	kick chan struct{} // capacity 1: a line went into an empty buffer
	full chan struct{} // capacity 1: maxBuffered bytes wait
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the flusher has returned
	once sync.Once
}

// New returns a Writer that writes to dst, its timer on clk, and starts the
// goroutine that writes a batch Interval after its first line. Close stops
// it.
func New(dst io.Writer, clk clock.Clock) *Writer {
	w := &Writer{
		dst: dst, clock: clk,
		buf:   make([]byte, 0, maxBuffered),
		wlock: make(chan struct{}, 1),
		spare: make([]byte, 0, maxBuffered),
		kick:  make(chan struct{}, 1),
		full:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go w.run()
	return w
}

// Write buffers p, or drops it when maxHeld bytes wait already. It never
// blocks on the destination and never fails: an error of the destination
// is returned by the Flush that meets it.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	first := len(w.buf) == 0
	if len(w.buf)+len(p) > maxHeld {
		w.dropped++
		w.droppedBytes += len(p)
	} else {
		w.buf = append(w.buf, p...)
	}
	n := len(w.buf)
	w.mu.Unlock()
	switch {
	case n >= maxBuffered:
		// The flusher writes them; let it run now, so that loggers that
		// log without pause do not outrun it.
		if signal(w.full) {
			runtime.Gosched()
		}
	case first:
		signal(w.kick)
	}
	return len(p), nil
}

// signal sends on c, a channel of capacity 1, unless a send waits there,
// and reports whether it sent.
func signal(c chan struct{}) bool {
	select {
	case c <- struct{}{}:
		return true
	default:
		return false
	}
}

// Flush writes what is buffered, after any write in progress.
func (w *Writer) Flush() error {
	w.wlock <- struct{}{}
	defer func() { <-w.wlock }()
	return w.write()
}

// flushSoon writes what is buffered now if no write is in progress, and
// otherwise has the flusher write it once that one returns.
func (w *Writer) flushSoon() error {
	select {
	case w.wlock <- struct{}{}:
	default:
		signal(w.full)
		return nil
	}
	defer func() { <-w.wlock }()
	return w.write()
}

// write writes what is buffered; the caller holds wlock.
func (w *Writer) write() error {
	w.mu.Lock()
	out := w.buf
	dropped, bytes := w.dropped, w.droppedBytes
	if len(out) == 0 && dropped == 0 {
		w.mu.Unlock()
		return nil
	}
	w.buf, w.dropped, w.droppedBytes = w.spare, 0, 0
	w.mu.Unlock()
	if dropped > 0 { // after the lines held, before any later one
		out = fmt.Appendf(out, "time=%s level=WARN msg=\"log lines dropped: the log's destination did not take them\" part=logbuf lines=%d bytes=%d\n",
			w.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00"), dropped, bytes)
	}
	_, err := w.dst.Write(out)
	if cap(out) > maxHeld/4 {
		out = make([]byte, 0, maxBuffered) // a spell of a slow destination: not kept
	}
	w.spare = out[:0]
	return err
}

// Close stops the flusher and writes what is buffered. Lines written after
// Close are written by a later Flush only.
func (w *Writer) Close() error {
	w.once.Do(func() { close(w.stop) })
	<-w.done
	return w.Flush()
}

// run writes a batch Interval after its first line, or as soon as
// maxBuffered bytes wait, until Close.
func (w *Writer) run() {
	defer close(w.done)
	for {
		select {
		case <-w.kick:
		case <-w.full:
			w.Flush() //nolint:errcheck // as Write
			continue
		case <-w.stop:
			return
		}
		t := w.clock.NewTimer(Interval)
		select {
		case <-t.C():
		case <-w.full:
			t.Stop()
		case <-w.stop:
			t.Stop()
			return
		}
		w.Flush() //nolint:errcheck // as Write
	}
}

// NewLogger returns switchboard's text logger at level, writing to dst
// through a Writer on the real clock, and that Writer, which the caller
// closes once done logging.
func NewLogger(dst io.Writer, level slog.Leveler) (*slog.Logger, *Writer) {
	w := New(dst, clock.Real)
	return slog.New(Handler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}), w)), w
}

// Handler returns h, which writes to w, flushing w after each record of
// level WARN or above (at once, or by the flusher as soon as the write in
// progress returns: a stalled destination holds up no logger).
func Handler(h slog.Handler, w *Writer) slog.Handler { return flushing{h, w} }

type flushing struct {
	slog.Handler
	w *Writer
}

func (f flushing) Handle(ctx context.Context, r slog.Record) error {
	err := f.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := f.w.flushSoon(); err == nil {
			err = ferr
		}
	}
	return err
}

func (f flushing) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushing{f.Handler.WithAttrs(attrs), f.w}
}

func (f flushing) WithGroup(name string) slog.Handler {
	return flushing{f.Handler.WithGroup(name), f.w}
}
