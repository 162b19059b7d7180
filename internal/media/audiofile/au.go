package audiofile

import (
	"encoding/binary"
	"fmt"
	"io"
)

// parseAU reads a Sun/NeXT audio file header (".snd", big-endian: data offset,
// data size or 0xffffffff, encoding, rate, channels) and returns a reader of
// its samples and their rate.
func parseAU(r io.Reader) (*rawReader, int, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, 0, fmt.Errorf("au header cut short: %w", ErrMalformed)
	}
	be := binary.BigEndian
	offset := int64(be.Uint32(h[4:]))
	size := int64(be.Uint32(h[8:]))
	enc := be.Uint32(h[12:])
	rate := int(be.Uint32(h[16:]))
	channels := int(be.Uint32(h[20:]))
	if offset < 24 || offset > 1<<20 {
		return nil, 0, fmt.Errorf("au data offset %d: %w", offset, ErrMalformed)
	}
	if channels < 1 || channels > 64 || rate < 1 || rate > 384000 {
		return nil, 0, fmt.Errorf("au with %d channels at %d Hz: %w", channels, rate, ErrMalformed)
	}
	var f sampleFormat
	switch enc {
	case 1:
		f = fmtUlaw
	case 2:
		f = fmtS8
	case 3:
		f = fmtS16BE
	case 4:
		f = fmtS24BE
	case 5:
		f = fmtS32BE
	case 6:
		f = fmtF32BE
	case 7:
		f = fmtF64BE
	case 27:
		f = fmtAlaw
	default:
		return nil, 0, fmt.Errorf("au encoding %d: %w", enc, ErrUnsupported)
	}
	if _, err := io.CopyN(io.Discard, r, offset-24); err != nil {
		return nil, 0, fmt.Errorf("au header cut short: %w", ErrMalformed)
	}
	if size == 0xFFFFFFFF {
		size = -1
	}
	return newRawReader(r, f, channels, size), rate, nil
}
