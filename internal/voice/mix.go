package voice

import (
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/recording"
)

// mixTap records a call through a tap on its media, in one mono track: what
// the far end said (in), what it heard (out), or both mixed, as Twilio's
// call recordings do (RecordingTrack inbound, outbound, both). The pacer
// calls TapIn then TapOut in every tick, so the two sides of a frame are the
// same 20 ms; both run on the pacer goroutine, so the buffer needs no lock.
type mixTap struct {
	rec     media.Sink
	in, out bool
	buf     [media.FrameSamples]int16
}

var _ media.Tap = (*mixTap)(nil)

// TapIn takes what the far end said this tick.
func (m *mixTap) TapIn(frame []int16) {
	n := copy(m.buf[:], frame)
	if !m.in {
		clear(m.buf[:n])
	}
}

// TapOut takes what the far end heard this tick and writes the mix.
func (m *mixTap) TapOut(frame []int16) {
	if m.out {
		for i := range min(len(frame), len(m.buf)) {
			m.buf[i] = sat16(int32(m.buf[i]) + int32(frame[i]))
		}
	}
	_ = m.rec.WriteFrame(m.buf[:])
}

func sat16(v int32) int16 {
	return int16(min(max(v, -32768), 32767))
}

// stereoTap records a call in two channels (Twilio's dual recordings): what
// the far end said on the first, what it heard on the second. Both sides
// run on the pacer goroutine, as for mixTap.
type stereoTap struct {
	rec *recording.Recorder
	buf [media.FrameSamples]int16
}

var _ media.Tap = (*stereoTap)(nil)

func (s *stereoTap) TapIn(frame []int16) {
	n := copy(s.buf[:], frame)
	clear(s.buf[n:])
}

func (s *stereoTap) TapOut(frame []int16) {
	var out [media.FrameSamples]int16
	copy(out[:], frame)
	_ = s.rec.WriteStereo(s.buf[:], out[:])
}

// inTap records what the far end says (<Record>).
type inTap struct{ rec media.Sink }

func (t inTap) TapIn(frame []int16) { _ = t.rec.WriteFrame(frame) }
func (inTap) TapOut([]int16)        {}
