package wav

import (
	"fmt"
	"time"
)

// Encoding is a WAVE format tag (the wFormatTag of the fmt chunk, or the first
// two bytes of a WAVE_FORMAT_EXTENSIBLE SubFormat GUID).
type Encoding uint16

// Encodings this package reads. PCM, Alaw and Ulaw can also be written.
const (
	PCM        Encoding = 0x0001 // WAVE_FORMAT_PCM: linear PCM
	Float      Encoding = 0x0003 // WAVE_FORMAT_IEEE_FLOAT
	Alaw       Encoding = 0x0006 // WAVE_FORMAT_ALAW: ITU-T G.711 A-law
	Ulaw       Encoding = 0x0007 // WAVE_FORMAT_MULAW: ITU-T G.711 μ-law
	extensible Encoding = 0xFFFE // WAVE_FORMAT_EXTENSIBLE
)

// String returns a short name for the encoding.
func (e Encoding) String() string {
	switch e {
	case PCM:
		return "PCM"
	case Float:
		return "float"
	case Alaw:
		return "A-law"
	case Ulaw:
		return "μ-law"
	case extensible:
		return "extensible"
	}
	return fmt.Sprintf("format 0x%04x", uint16(e))
}

// Format describes the audio in a WAVE file.
type Format struct {
	Encoding      Encoding
	SampleRate    int // sample frames per second
	Channels      int
	BitsPerSample int // bits in each sample's container: 8, 16, 24, 32 or 64
}

// Default is the format switchboard records in: 8 kHz, 16-bit, mono, linear PCM.
var Default = Format{Encoding: PCM, SampleRate: 8000, Channels: 1, BitsPerSample: 16}

// String describes f, for example "PCM 16-bit 8000 Hz mono".
func (f Format) String() string {
	ch := "mono"
	switch f.Channels {
	case 1:
	case 2:
		ch = "stereo"
	default:
		ch = fmt.Sprintf("%d channels", f.Channels)
	}
	return fmt.Sprintf("%v %d-bit %d Hz %s", f.Encoding, f.BitsPerSample, f.SampleRate, ch)
}

// BlockAlign returns the size in bytes of one sample frame (all channels).
func (f Format) BlockAlign() int { return f.Channels * ((f.BitsPerSample + 7) / 8) }

// Duration returns how long frames sample frames last at f's rate.
func (f Format) Duration(frames int64) time.Duration {
	if f.SampleRate <= 0 || frames <= 0 {
		return 0
	}
	sec := frames / int64(f.SampleRate)
	rem := frames % int64(f.SampleRate)
	return time.Duration(sec)*time.Second + time.Duration(rem)*time.Second/time.Duration(f.SampleRate)
}
