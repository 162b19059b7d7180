package audiofile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

// sampleFormat is how one sample is stored in headerless, AU and AIFF data.
type sampleFormat int

const (
	fmtU8 sampleFormat = iota
	fmtS8
	fmtS16LE
	fmtS16BE
	fmtS24BE
	fmtS32BE
	fmtF32BE
	fmtF64BE
	fmtUlaw
	fmtAlaw
)

var sampleWidth = [...]int{fmtU8: 1, fmtS8: 1, fmtS16LE: 2, fmtS16BE: 2, fmtS24BE: 3, fmtS32BE: 4, fmtF32BE: 4, fmtF64BE: 8, fmtUlaw: 1, fmtAlaw: 1}

// rawReader decodes interleaved samples of one sampleFormat, mixing channels
// down to mono. It implements dsp.SampleReader.
type rawReader struct {
	r         io.Reader
	f         sampleFormat
	channels  int
	block     int   // bytes per sample frame
	remaining int64 // bytes left, -1 to read until EOF
	buf       []byte
	n         int
	err       error
}

func newRawReader(r io.Reader, f sampleFormat, channels int, size int64) *rawReader {
	block := sampleWidth[f] * channels
	return &rawReader{r: r, f: f, channels: channels, block: block, remaining: size, buf: make([]byte, max(block, 4096/block*block))}
}

// ReadSamples fills dst with mono samples; io.EOF at the end.
func (p *rawReader) ReadSamples(dst []int16) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	for empty := 0; p.n < p.block; {
		if p.err != nil {
			return 0, p.err
		}
		want := len(p.buf) - p.n
		if p.remaining >= 0 && int64(want) > p.remaining {
			want = int(p.remaining)
		}
		if want == 0 {
			p.err = io.EOF
			continue
		}
		m, err := p.r.Read(p.buf[p.n : p.n+want])
		p.n += m
		if p.remaining >= 0 {
			p.remaining -= int64(m)
		}
		if m == 0 && err == nil {
			if empty++; empty >= 100 {
				err = io.ErrNoProgress
			}
		}
		if errors.Is(err, io.EOF) {
			p.err = io.EOF
		} else if err != nil {
			p.err = fmt.Errorf("audiofile: reading samples: %w", err)
		}
	}
	frames := min(p.n/p.block, len(dst))
	w := sampleWidth[p.f]
	for i := range frames {
		frame := p.buf[i*p.block : (i+1)*p.block]
		var sum float64
		for c := range p.channels {
			sum += p.sample(frame[c*w : (c+1)*w])
		}
		dst[i] = clamp16(sum / float64(p.channels))
	}
	p.n = copy(p.buf, p.buf[frames*p.block:p.n])
	return frames, nil
}

// sample decodes one stored sample to the 16-bit scale.
func (p *rawReader) sample(b []byte) float64 {
	be := binary.BigEndian
	switch p.f {
	case fmtU8:
		return float64((int(b[0]) - 128) << 8)
	case fmtS8:
		return float64(int(int8(b[0])) << 8)
	case fmtS16LE:
		return float64(int16(binary.LittleEndian.Uint16(b)))
	case fmtS16BE:
		return float64(int16(be.Uint16(b)))
	case fmtS24BE, fmtS32BE:
		return float64(int16(be.Uint16(b))) // the top 16 bits
	case fmtF32BE:
		return scaleFloat(float64(math.Float32frombits(be.Uint32(b))))
	case fmtF64BE:
		return scaleFloat(math.Float64frombits(be.Uint64(b)))
	case fmtUlaw:
		return float64(g711.DecodeUlawSample(b[0]))
	case fmtAlaw:
		return float64(g711.DecodeAlawSample(b[0]))
	}
	return 0
}

func scaleFloat(v float64) float64 {
	if v != v { // NaN
		return 0
	}
	return v * 32768
}

func clamp16(v float64) int16 {
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	}
	return int16(math.Round(v))
}
