package media

import (
	"errors"
	"io"
	"sync"
)

// pipeFrames is how many frames a Pipe holds: 80 ms.
const pipeFrames = 4

// A Pipe carries frames from a Sink to a Source: what one session hears, another
// plays. It is the building block of a bridge between two legs
// (a.SetSink(p); b.Play(ctx, p)). Because the engine runs every session's
// receive side before any session's send side in each tick, a frame written in a
// tick is read in the same tick: a bridge adds no delay.
//
// The Pipe holds up to 80 ms: when full, the oldest frame is dropped (the writer
// runs ahead); when empty, ReadFrame gives silence (the writer is late or
// gone). After Close, ReadFrame returns io.EOF and WriteFrame io.ErrClosedPipe.
// A Pipe is safe for concurrent use.
type Pipe struct {
	// mu guards the fields below.
	mu     sync.Mutex
	buf    [pipeFrames][FrameSamples]int16
	r, n   int
	closed bool
}

var (
	_ Sink   = (*Pipe)(nil)
	_ Source = (*Pipe)(nil)
)

// NewPipe returns an empty Pipe.
func NewPipe() *Pipe { return &Pipe{} }

// WriteFrame queues a frame (at most FrameSamples samples are kept).
func (p *Pipe) WriteFrame(f []int16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return io.ErrClosedPipe
	}
	if p.n == pipeFrames {
		p.r = (p.r + 1) % pipeFrames
		p.n--
	}
	w := (p.r + p.n) % pipeFrames
	c := copy(p.buf[w][:], f)
	clear(p.buf[w][c:])
	p.n++
	return nil
}

// ReadFrame fills f with the oldest queued frame, or silence if none is.
func (p *Pipe) ReadFrame(f []int16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return io.EOF
	}
	if p.n == 0 {
		clear(f)
		return nil
	}
	c := copy(f, p.buf[p.r][:])
	clear(f[c:])
	p.r = (p.r + 1) % pipeFrames
	p.n--
	return nil
}

// Close ends the pipe: a Play reading it returns.
func (p *Pipe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

// MultiSink returns a Sink that writes each frame to every sink in turn (a
// recorder and a DTMF detector on the same leg, say), like io.MultiWriter. A sink
// that fails is dropped from the set; the error is returned only when none is
// left.
func MultiSink(sinks ...Sink) Sink {
	return &multiSink{sinks: append([]Sink(nil), sinks...)}
}

type multiSink struct {
	sinks []Sink
	errs  []error
}

func (m *multiSink) WriteFrame(f []int16) error {
	live := m.sinks[:0]
	for _, s := range m.sinks {
		if err := s.WriteFrame(f); err != nil {
			m.errs = append(m.errs, err)
			continue
		}
		live = append(live, s)
	}
	clear(m.sinks[len(live):])
	m.sinks = live
	if len(m.sinks) == 0 {
		return errors.Join(m.errs...)
	}
	return nil
}
