package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

// Limits that keep hostile input from costing memory or time.
const (
	maxFmtSize    = 1 << 10 // a fmt chunk is 16..40 bytes; allow extra bytes
	maxChannels   = 64
	maxSampleRate = 1_000_000
	// placeholderSize and up, as a data or RIFF size, means "unknown: read
	// until the end" (espeak-ng writes 0x7ffffff0, streaming writers 0xffffffff).
	placeholderSize = 0x7ffff000
)

// ksSubtypeTail is bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID derived from
// a WAVE format tag (00000000-0000-0010-8000-00aa00389b71, tag in bytes 0..1).
var ksSubtypeTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// header is what parseHeader learns about a file before its samples.
type header struct {
	format     Format
	blockAlign int   // bytes per sample frame as stored (may exceed Format.BlockAlign)
	riffSize   int64 // as declared
	dataStart  int64 // file offset of the first sample byte
	dataSize   int64 // as declared; -1 when a placeholder
	factOffset int64 // file offset of the fact chunk's sample count, or -1
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// parseHeader reads the RIFF header and the chunks up to and including the data
// chunk's header, leaving r at the first sample byte.
func parseHeader(r io.Reader) (header, error) {
	cr := &countingReader{r: r}
	h := header{factOffset: -1}
	var riff [12]byte
	if _, err := io.ReadFull(cr, riff[:]); err != nil {
		return h, fmt.Errorf("reading RIFF header: %w", ErrNotWAVE)
	}
	switch string(riff[0:4]) {
	case "RIFF", "RF64": // RF64 (EBU Tech 3306) keeps real sizes in ds64; its 0xffffffff placeholders read to EOF.
	case "RIFX":
		return h, fmt.Errorf("big-endian RIFX: %w", ErrUnsupported)
	default:
		return h, fmt.Errorf("starts with %q: %w", riff[0:4], ErrNotWAVE)
	}
	if string(riff[8:12]) != "WAVE" {
		return h, fmt.Errorf("RIFF form type %q: %w", riff[8:12], ErrNotWAVE)
	}
	h.riffSize = int64(binary.LittleEndian.Uint32(riff[4:8]))
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(cr, ch[:]); err != nil {
			if !haveFmt {
				return h, fmt.Errorf("no fmt chunk: %w", ErrNoData)
			}
			return h, ErrNoData
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if haveFmt {
				return h, fmt.Errorf("second fmt chunk: %w", ErrMalformed)
			}
			if size < 16 || size > maxFmtSize {
				return h, fmt.Errorf("fmt chunk of %d bytes: %w", size, ErrMalformed)
			}
			body := make([]byte, size)
			if _, err := io.ReadFull(cr, body); err != nil {
				return h, fmt.Errorf("fmt chunk cut short: %w", ErrMalformed)
			}
			if size&1 == 1 {
				var pad [1]byte
				_, _ = io.ReadFull(cr, pad[:]) // a missing pad byte shows as ErrNoData next
			}
			f, align, err := parseFmt(body)
			if err != nil {
				return h, err
			}
			h.format, h.blockAlign, haveFmt = f, align, true
		case "data":
			if !haveFmt {
				return h, fmt.Errorf("data chunk before fmt chunk: %w", ErrMalformed)
			}
			h.dataStart = cr.n
			h.dataSize = size
			if size == 0 || size >= placeholderSize {
				h.dataSize = -1
			}
			return h, nil
		case "fact":
			if size >= 4 {
				h.factOffset = cr.n
			}
			fallthrough
		default:
			skip := size + size&1
			if n, err := io.CopyN(io.Discard, cr, skip); err != nil || n != skip {
				if !haveFmt {
					return h, fmt.Errorf("no fmt chunk: %w", ErrNoData)
				}
				return h, ErrNoData
			}
		}
	}
}

// parseFmt decodes the body of a fmt chunk: WAVEFORMATEX, optionally extended to
// WAVEFORMATEXTENSIBLE.
func parseFmt(b []byte) (Format, int, error) {
	le := binary.LittleEndian
	tag := Encoding(le.Uint16(b[0:2]))
	f := Format{
		Encoding:      tag,
		Channels:      int(le.Uint16(b[2:4])),
		SampleRate:    int(le.Uint32(b[4:8])),
		BitsPerSample: int(le.Uint16(b[14:16])),
	}
	align := int(le.Uint16(b[12:14]))
	if tag == extensible {
		if len(b) < 40 || le.Uint16(b[16:18]) < 22 {
			return f, 0, fmt.Errorf("WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes: %w", len(b), ErrMalformed)
		}
		if !bytes.Equal(b[26:40], ksSubtypeTail) {
			return f, 0, fmt.Errorf("WAVE_FORMAT_EXTENSIBLE sub-format %x: %w", b[24:40], ErrUnsupported)
		}
		f.Encoding = Encoding(le.Uint16(b[24:26]))
	}
	if f.Channels < 1 || f.Channels > maxChannels {
		return f, 0, fmt.Errorf("%d channels: %w", f.Channels, ErrMalformed)
	}
	if f.SampleRate < 1 || f.SampleRate > maxSampleRate {
		return f, 0, fmt.Errorf("sample rate %d Hz: %w", f.SampleRate, ErrMalformed)
	}
	switch f.Encoding {
	case PCM:
		if f.BitsPerSample < 1 || f.BitsPerSample > 32 {
			return f, 0, fmt.Errorf("PCM with %d bits per sample: %w", f.BitsPerSample, ErrUnsupported)
		}
		f.BitsPerSample = (f.BitsPerSample + 7) / 8 * 8 // container size
	case Float:
		if f.BitsPerSample != 32 && f.BitsPerSample != 64 {
			return f, 0, fmt.Errorf("float with %d bits per sample: %w", f.BitsPerSample, ErrUnsupported)
		}
	case Alaw, Ulaw:
		if f.BitsPerSample != 8 {
			return f, 0, fmt.Errorf("%v with %d bits per sample: %w", f.Encoding, f.BitsPerSample, ErrMalformed)
		}
	default:
		return f, 0, fmt.Errorf("%v: %w", f.Encoding, ErrUnsupported)
	}
	want := f.BlockAlign()
	switch {
	case align == want:
	case align == 0:
		align = want
	case align > want && align%f.Channels == 0 && align/f.Channels <= 8:
		// Samples in wider containers (24 bits in 4 bytes): take the high bytes.
		f.BitsPerSample = align / f.Channels * 8
		if f.Encoding != PCM {
			return f, 0, fmt.Errorf("block align %d for %v: %w", align, f, ErrMalformed)
		}
		if f.BitsPerSample > 32 {
			return f, 0, fmt.Errorf("block align %d for %v: %w", align, f, ErrMalformed)
		}
	default:
		return f, 0, fmt.Errorf("block align %d, want %d for %v: %w", align, want, f, ErrMalformed)
	}
	return f, align, nil
}

// Reader decodes the samples of a WAVE file, mixed down to mono 16-bit linear
// PCM at the file's own sampling rate.
type Reader struct {
	r         io.Reader
	h         header
	remaining int64 // data bytes still to read; -1 reads until EOF
	buf       []byte
	n         int // valid bytes in buf
	err       error
}

// readBufferSize bounds the bytes read from the input at once.
const readBufferSize = 8192

// NewReader reads the header of a WAVE file from r, up to the first sample.
func NewReader(r io.Reader) (*Reader, error) {
	h, err := parseHeader(r)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	size := readBufferSize / h.blockAlign * h.blockAlign
	if size == 0 {
		size = h.blockAlign
	}
	return &Reader{r: r, h: h, remaining: h.dataSize, buf: make([]byte, size)}, nil
}

// Format returns the format of the file as stored.
func (r *Reader) Format() Format { return r.h.format }

// Frames returns the number of sample frames the header declares, or -1 when
// the data size is a placeholder and the length is not known in advance.
func (r *Reader) Frames() int64 {
	if r.h.dataSize < 0 {
		return -1
	}
	return r.h.dataSize / int64(r.h.blockAlign)
}

// Duration returns the declared duration of the file, or -1 when unknown.
func (r *Reader) Duration() time.Duration {
	n := r.Frames()
	if n < 0 {
		return -1
	}
	return r.h.format.Duration(n)
}

// ReadSamples fills dst with the next mono samples and returns how many it
// wrote. At the end of the data it returns 0, io.EOF. A trailing partial sample
// frame is dropped. Read errors of the underlying reader are returned wrapped.
func (r *Reader) ReadSamples(dst []int16) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	frames, err := r.fill(len(dst))
	if frames == 0 {
		return 0, err
	}
	r.decode(dst[:frames], r.buf[:frames*r.h.blockAlign])
	r.consume(frames)
	return frames, nil
}

// ReadInterleaved is ReadSamples without the mix-down: it fills dst with the
// next whole sample frames, every channel kept as a 16-bit sample and the
// channels interleaved (left, right, left, ... for two), and returns the number
// of samples it wrote, a multiple of Format().Channels. A dst shorter than one
// sample frame gets io.ErrShortBuffer. For a mono file it is ReadSamples.
func (r *Reader) ReadInterleaved(dst []int16) (int, error) {
	ch := r.h.format.Channels
	if len(dst) == 0 {
		return 0, nil
	}
	if len(dst) < ch {
		return 0, io.ErrShortBuffer
	}
	frames, err := r.fill(len(dst) / ch)
	if frames == 0 {
		return 0, err
	}
	r.decodeInterleaved(dst[:frames*ch], r.buf[:frames*r.h.blockAlign])
	r.consume(frames)
	return frames * ch, nil
}

// fill reads until the buffer holds at least one whole sample frame, reading no
// more than limit frames' worth when it can, and returns how many whole frames
// (at most limit) are buffered. With none it returns the sticky error (io.EOF at
// the end of the data).
func (r *Reader) fill(limit int) (int, error) {
	ba := r.h.blockAlign
	for empty := 0; r.n < ba; {
		if r.err != nil {
			return 0, r.err
		}
		want := len(r.buf) - r.n
		if lim := limit*ba - r.n; lim < want && lim > 0 {
			want = lim
		}
		if r.remaining >= 0 && int64(want) > r.remaining {
			want = int(r.remaining)
		}
		if want == 0 {
			r.err = io.EOF
			continue
		}
		m, err := r.r.Read(r.buf[r.n : r.n+want])
		r.n += m
		if m == 0 && err == nil {
			if empty++; empty >= 100 {
				err = io.ErrNoProgress
			}
		}
		if r.remaining >= 0 {
			r.remaining -= int64(m)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				r.err = io.EOF
			} else {
				r.err = fmt.Errorf("wav: reading samples: %w", err)
			}
		}
	}
	return min(r.n/ba, limit), nil
}

// consume drops the first frames sample frames from the buffer.
func (r *Reader) consume(frames int) {
	used := frames * r.h.blockAlign
	r.n = copy(r.buf, r.buf[used:r.n])
}

// decode converts whole sample frames in src to mono samples in dst.
func (r *Reader) decode(dst []int16, src []byte) {
	f := r.h.format
	ba := r.h.blockAlign
	ch := f.Channels
	width := ba / ch
	for i := range dst {
		frame := src[i*ba : (i+1)*ba]
		if f.Encoding == Float {
			var sum float64
			for c := range ch {
				sum += floatSample(frame[c*width:], width)
			}
			dst[i] = floatToInt16(sum / float64(ch))
			continue
		}
		var sum int32
		for c := range ch {
			sum += intSample(f.Encoding, frame[c*width:], width)
		}
		if ch == 1 {
			dst[i] = int16(sum)
		} else {
			dst[i] = int16(sum / int32(ch))
		}
	}
}

// decodeInterleaved converts the samples of whole sample frames in src, each
// channel kept, to dst.
func (r *Reader) decodeInterleaved(dst []int16, src []byte) {
	enc := r.h.format.Encoding
	ch := r.h.format.Channels
	width := r.h.blockAlign / ch
	for i := range dst {
		s := src[(i/ch)*r.h.blockAlign+(i%ch)*width:]
		if enc == Float {
			dst[i] = floatToInt16(floatSample(s, width))
		} else {
			dst[i] = int16(intSample(enc, s, width))
		}
	}
}

// floatSample decodes the IEEE float sample at the start of s, width bytes.
func floatSample(s []byte, width int) float64 {
	if width == 4 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(s)))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(s))
}

// intSample decodes the integer or companded sample at the start of s, width
// bytes, to the 16-bit range.
func intSample(enc Encoding, s []byte, width int) int32 {
	switch {
	case enc == Ulaw:
		return int32(g711.DecodeUlawSample(s[0]))
	case enc == Alaw:
		return int32(g711.DecodeAlawSample(s[0]))
	case width == 1:
		return (int32(s[0]) - 128) << 8
	default:
		// Little-endian, left-justified: the top two bytes of the container.
		return int32(int16(uint16(s[width-2]) | uint16(s[width-1])<<8))
	}
}

func floatToInt16(v float64) int16 {
	v *= 32768
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	case v != v: // NaN
		return 0
	}
	return int16(math.Round(v))
}

// ReadAll reads a whole WAVE file from r and returns its format and its samples,
// mixed down to mono at the file's rate.
func ReadAll(r io.Reader) (Format, []int16, error) {
	return readAll(r, false)
}

// ReadAllInterleaved reads a whole WAVE file from r and returns its format and
// its samples at the file's rate, every channel kept and interleaved (see
// ReadInterleaved): len(samples)/format.Channels sample frames.
func ReadAllInterleaved(r io.Reader) (Format, []int16, error) {
	return readAll(r, true)
}

func readAll(r io.Reader, interleaved bool) (Format, []int16, error) {
	wr, err := NewReader(r)
	if err != nil {
		return Format{}, nil, err
	}
	read, perFrame := (*Reader).ReadSamples, int64(1)
	if interleaved {
		read, perFrame = (*Reader).ReadInterleaved, int64(wr.Format().Channels)
	}
	var out []int16
	if n := wr.Frames(); n > 0 && n < 1<<24 {
		out = make([]int16, 0, n*perFrame)
	}
	var chunk [1024]int16
	for {
		n, err := read(wr, chunk[:])
		out = append(out, chunk[:n]...)
		if errors.Is(err, io.EOF) {
			return wr.Format(), out, nil
		}
		if err != nil {
			return wr.Format(), out, err
		}
	}
}
