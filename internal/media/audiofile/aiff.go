package audiofile

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// parseAIFF reads an AIFF or AIFF-C header (Apple's Audio Interchange File
// Format 1.3 and its compressed variant) up to the sound data and returns a
// reader of its samples and their rate.
func parseAIFF(r io.Reader) (*rawReader, int, error) {
	var h [12]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, 0, fmt.Errorf("aiff header cut short: %w", ErrMalformed)
	}
	aifc := string(h[8:12]) == "AIFC"
	be := binary.BigEndian
	var (
		haveComm bool
		channels int
		bits     int
		rate     float64
		f        sampleFormat
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, 0, fmt.Errorf("aiff without a sound data chunk: %w", ErrMalformed)
		}
		id := string(ch[:4])
		size := int64(be.Uint32(ch[4:]))
		switch id {
		case "COMM":
			if size < 18 || size > 1024 {
				return nil, 0, fmt.Errorf("aiff COMM chunk of %d bytes: %w", size, ErrMalformed)
			}
			body := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, body); err != nil {
				return nil, 0, fmt.Errorf("aiff COMM chunk cut short: %w", ErrMalformed)
			}
			channels = int(be.Uint16(body[0:]))
			bits = int(be.Uint16(body[6:]))
			rate = extended(body[8:18])
			comp := "NONE"
			if aifc {
				if size < 22 {
					return nil, 0, fmt.Errorf("aifc COMM chunk of %d bytes: %w", size, ErrMalformed)
				}
				comp = string(body[18:22])
			}
			var err error
			if f, err = aiffFormat(comp, bits); err != nil {
				return nil, 0, err
			}
			haveComm = true
		case "SSND":
			if !haveComm {
				return nil, 0, fmt.Errorf("aiff sound data before COMM: %w", ErrMalformed)
			}
			if channels < 1 || channels > 64 || !(rate >= 1 && rate <= 384000) {
				return nil, 0, fmt.Errorf("aiff with %d channels at %g Hz: %w", channels, rate, ErrMalformed)
			}
			var off [8]byte
			if _, err := io.ReadFull(r, off[:]); err != nil || size < 8 {
				return nil, 0, fmt.Errorf("aiff SSND chunk cut short: %w", ErrMalformed)
			}
			skip := int64(be.Uint32(off[:4]))
			if skip > size-8 {
				return nil, 0, fmt.Errorf("aiff SSND offset %d: %w", skip, ErrMalformed)
			}
			if _, err := io.CopyN(io.Discard, r, skip); err != nil {
				return nil, 0, fmt.Errorf("aiff SSND chunk cut short: %w", ErrMalformed)
			}
			return newRawReader(r, f, channels, size-8-skip), int(math.Round(rate)), nil
		default:
			if _, err := io.CopyN(io.Discard, r, size+size&1); err != nil {
				return nil, 0, fmt.Errorf("aiff without a sound data chunk: %w", ErrMalformed)
			}
		}
	}
}

// aiffFormat maps an AIFF-C compression type (NONE for plain AIFF) and sample
// size to a sampleFormat.
func aiffFormat(comp string, bits int) (sampleFormat, error) {
	switch comp {
	case "NONE", "twos":
		switch (bits + 7) / 8 {
		case 1:
			return fmtS8, nil
		case 2:
			return fmtS16BE, nil
		case 3:
			return fmtS24BE, nil
		case 4:
			return fmtS32BE, nil
		}
	case "sowt":
		if bits == 16 {
			return fmtS16LE, nil
		}
	case "fl32", "FL32":
		return fmtF32BE, nil
	case "fl64", "FL64":
		return fmtF64BE, nil
	case "ulaw", "ULAW":
		return fmtUlaw, nil
	case "alaw", "ALAW":
		return fmtAlaw, nil
	}
	return 0, fmt.Errorf("aiff compression %q with %d bits: %w", comp, bits, ErrUnsupported)
}

// extended decodes an IEEE 754 80-bit extended precision number (big-endian),
// the type of AIFF's sample rate.
func extended(b []byte) float64 {
	exp := int(binary.BigEndian.Uint16(b[0:2]))
	mant := binary.BigEndian.Uint64(b[2:10])
	sign := 1.0
	if exp&0x8000 != 0 {
		sign = -1
	}
	exp &= 0x7FFF
	if exp == 0x7FFF || (exp == 0 && mant == 0) {
		return 0
	}
	return sign * math.Ldexp(float64(mant), exp-16383-63)
}
