package media

import "time"

// Audio format used everywhere inside switchboard.
const (
	// SampleRate is the internal sampling rate in Hz.
	SampleRate = 8000
	// FrameDuration is the duration of one frame of audio.
	FrameDuration = 20 * time.Millisecond
	// FrameSamples is the number of samples in one frame.
	FrameSamples = SampleRate * int(FrameDuration/time.Millisecond) / 1000
)

// A Source produces audio, one frame at a time.
//
// ReadFrame fills all of frame (len(frame) == FrameSamples) with the next 20 ms of
// audio. At the end of the audio it returns io.EOF; a partly filled last frame is
// padded with silence and returned with a nil error, and io.EOF comes on the next
// call. A Source is used by one goroutine at a time.
type Source interface {
	ReadFrame(frame []int16) error
}

// A Sink consumes audio, one frame at a time. WriteFrame must not retain frame.
type Sink interface {
	WriteFrame(frame []int16) error
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(frame []int16) error

// ReadFrame calls f(frame).
func (f SourceFunc) ReadFrame(frame []int16) error { return f(frame) }

// SinkFunc adapts a function to a Sink.
type SinkFunc func(frame []int16) error

// WriteFrame calls f(frame).
func (f SinkFunc) WriteFrame(frame []int16) error { return f(frame) }
