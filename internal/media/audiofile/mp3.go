package audiofile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hajimehoshi/go-mp3"
)

// mp3Reader adapts go-mp3's decoder (16-bit little-endian stereo at the file's
// rate) to a mono dsp.SampleReader, and turns the decoder's panics on corrupt
// input into errors.
type mp3Reader struct {
	d   *mp3.Decoder
	buf []byte
	n   int
	err error
}

// newMP3 starts decoding r; it returns the reader, the sample rate and the
// number of sample frames when go-mp3 could count them (r is an io.Seeker), or -1.
func newMP3(r io.Reader) (_ *mp3Reader, rate int, frames int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("mp3 decoder failed (%v): %w", p, ErrMalformed)
		}
	}()
	d, err := mp3.NewDecoder(r)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("mp3: %w: %w", ErrMalformed, err)
	}
	rate = d.SampleRate()
	if rate < 1 {
		return nil, 0, 0, fmt.Errorf("mp3 at %d Hz: %w", rate, ErrMalformed)
	}
	frames = -1
	if l := d.Length(); l >= 0 {
		frames = l / 4
	}
	return &mp3Reader{d: d, buf: make([]byte, 4608)}, rate, frames, nil
}

// ReadSamples fills dst with mono samples; io.EOF at the end. A stream cut off
// in the middle of a frame ends there without an error.
func (m *mp3Reader) ReadSamples(dst []int16) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			m.err = fmt.Errorf("mp3 decoder failed (%v): %w", p, ErrMalformed)
			n, err = 0, m.err
		}
	}()
	if len(dst) == 0 {
		return 0, nil
	}
	for empty := 0; m.n < 4; {
		if m.err != nil {
			return 0, m.err
		}
		k, err := m.d.Read(m.buf[m.n:min(len(m.buf), m.n+4*len(dst))])
		m.n += k
		if k == 0 && err == nil {
			if empty++; empty >= 100 {
				err = io.ErrNoProgress
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			m.err = io.EOF
		default:
			m.err = fmt.Errorf("mp3: %w: %w", ErrMalformed, err)
		}
	}
	frames := min(m.n/4, len(dst))
	le := binary.LittleEndian
	for i := range frames {
		l := int32(int16(le.Uint16(m.buf[4*i:])))
		r := int32(int16(le.Uint16(m.buf[4*i+2:])))
		dst[i] = int16((l + r) >> 1)
	}
	m.n = copy(m.buf, m.buf[4*frames:m.n])
	return frames, nil
}
