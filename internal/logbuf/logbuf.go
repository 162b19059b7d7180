package logbuf

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// Interval is how long a line waits at most before it is written.
const Interval = 100 * time.Millisecond

// maxBuffered is how many bytes wait at most: a write that reaches it writes
// them all at once.
const maxBuffered = 32 << 10

// A Writer buffers what is written to it and writes it to its destination
// in batches (see the package doc). Its methods may be called concurrently.
type Writer struct {
	dst   io.Writer
	clock clock.Clock

	mu  sync.Mutex // guards buf and serialises writes to dst
	buf []byte

	kick chan struct{} // capacity 1: a line went into an empty buffer
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
		buf:  make([]byte, 0, maxBuffered),
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go w.run()
	return w
}

// Write buffers p. It never fails: an error of the destination is returned
// by the Flush that meets it.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	first := len(w.buf) == 0
	w.buf = append(w.buf, p...)
	if len(w.buf) >= maxBuffered {
		w.flushLocked() //nolint:errcheck // a log line has nowhere better to report it
		first = false
	}
	w.mu.Unlock()
	if first {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Flush writes what is buffered.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.dst.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}

// Close stops the flusher and writes what is buffered. Lines written after
// Close are written by a later Flush only.
func (w *Writer) Close() error {
	w.once.Do(func() { close(w.stop) })
	<-w.done
	return w.Flush()
}

// run writes a batch Interval after its first line, until Close.
func (w *Writer) run() {
	defer close(w.done)
	for {
		select {
		case <-w.kick:
		case <-w.stop:
			return
		}
		t := w.clock.NewTimer(Interval)
		select {
		case <-t.C():
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
// level WARN or above.
func Handler(h slog.Handler, w *Writer) slog.Handler { return flushing{h, w} }

type flushing struct {
	slog.Handler
	w *Writer
}

func (f flushing) Handle(ctx context.Context, r slog.Record) error {
	err := f.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := f.w.Flush(); err == nil {
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
