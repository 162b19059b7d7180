package voice

import (
	"sync"

	"github.com/switchboard-voice/switchboard/internal/media"
)

// mixTap records both sides of a call in one mono track, as Twilio's call
// recordings do by default (RecordingTrack=both): it is an inbound tap whose
// every frame (one per 20 ms tick, silence when the caller sends nothing) is
// written together with the last frame the call played out. The media pacer
// reads a tick's inbound audio before it sends that tick's outbound frame,
// so the two sides are at most one frame (20 ms) apart.
type mixTap struct {
	rec     media.Sink
	inbound bool // record what the caller says
	// mu guards out and has: outbound frames come from the play source,
	// inbound ones from the session's sink.
	mu  sync.Mutex
	out [media.FrameSamples]int16
	has bool
	buf [media.FrameSamples]int16
}

// WriteFrame takes one inbound frame and writes the mix.
func (m *mixTap) WriteFrame(in []int16) error {
	m.mu.Lock()
	n := copy(m.buf[:], in)
	if !m.inbound {
		clear(m.buf[:n])
	}
	if m.has {
		for i := range n {
			m.buf[i] = sat16(int32(m.buf[i]) + int32(m.out[i]))
		}
		m.has = false
	}
	m.mu.Unlock()
	return m.rec.WriteFrame(m.buf[:n])
}

// played takes one frame the call played out.
func (m *mixTap) played(frame []int16) {
	m.mu.Lock()
	copy(m.out[:], frame)
	m.has = true
	m.mu.Unlock()
}

func sat16(v int32) int16 {
	return int16(min(max(v, -32768), 32767))
}

// teeSource passes what a Source plays to the call's outbound taps.
type teeSource struct {
	src media.Source
	ear *ear
}

func (t teeSource) ReadFrame(frame []int16) error {
	err := t.src.ReadFrame(frame)
	if err == nil {
		t.ear.playedFrame(frame)
	}
	return err
}
