package wav

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

// maxRIFFSize is the largest RIFF size field: the whole file less 8 bytes.
const maxRIFFSize = 0xFFFFFFFF

// writeBufferSize is how many bytes the Writer gathers before writing them out
// (half a second of 8 kHz 16-bit mono).
const writeBufferSize = 8000

// Writer streams samples into a WAVE file. Its methods must not be called
// concurrently.
type Writer struct {
	w      io.WriteSeeker
	wa     io.WriterAt // w as an io.WriterAt when it is one: patches without seeking
	closer io.Closer   // the file Create opened, closed by Close
	format Format

	headerLen  int64
	dataSizeAt int64 // offset of the data chunk's size field
	factAt     int64 // offset of the fact chunk's sample count, or -1

	buf     []byte
	written int64 // data bytes written to w (not counting buf)
	err     error // sticky write error
	closed  bool
}

// Create creates (or truncates) the file at path and returns a Writer to it.
// Close closes the file.
func Create(path string, f Format) (*Writer, error) {
	file, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	w, err := NewWriter(file, f)
	if err != nil {
		file.Close()
		os.Remove(path)
		return nil, err
	}
	w.closer = file
	return w, nil
}

// NewWriter writes a WAVE header for f to w, which should be empty and
// positioned at its start, and returns a Writer that appends samples to it.
// Zero fields of f take Default's values (a zero Format is 8 kHz 16-bit mono
// PCM); BitsPerSample must be 16 for PCM and 8 for Alaw and Ulaw; Channels may be
// 1 or 2.
func NewWriter(w io.WriteSeeker, f Format) (*Writer, error) {
	if f.Encoding == 0 {
		f.Encoding = PCM
	}
	if f.SampleRate == 0 {
		f.SampleRate = Default.SampleRate
	}
	if f.Channels == 0 {
		f.Channels = 1
	}
	if f.BitsPerSample == 0 {
		f.BitsPerSample = 16
		if f.Encoding != PCM {
			f.BitsPerSample = 8
		}
	}
	switch {
	case f.Encoding == PCM && f.BitsPerSample == 16:
	case (f.Encoding == Ulaw || f.Encoding == Alaw) && f.BitsPerSample == 8:
	default:
		return nil, fmt.Errorf("wav: writing %v: %w", f, ErrFormat)
	}
	if f.Channels != 1 && f.Channels != 2 {
		return nil, fmt.Errorf("wav: writing %d channels: %w", f.Channels, ErrFormat)
	}
	if f.SampleRate < 1 || f.SampleRate > maxSampleRate {
		return nil, fmt.Errorf("wav: writing at %d Hz: %w", f.SampleRate, ErrFormat)
	}
	wr := &Writer{w: w, format: f, factAt: -1, buf: make([]byte, 0, writeBufferSize)}
	wr.wa, _ = w.(io.WriterAt)
	hdr := wr.header()
	if _, err := w.Write(hdr); err != nil {
		return nil, fmt.Errorf("wav: writing header: %w", err)
	}
	wr.headerLen = int64(len(hdr))
	return wr, nil
}

// header builds the file header for no samples and records where its size
// fields are.
func (w *Writer) header() []byte {
	f := w.format
	le := binary.LittleEndian
	b := make([]byte, 0, 58)
	b = append(b, "RIFF\x00\x00\x00\x00WAVE"...)
	fmtSize := uint32(16)
	if f.Encoding != PCM {
		fmtSize = 18 // WAVEFORMATEX with cbSize = 0
	}
	b = append(b, "fmt "...)
	b = le.AppendUint32(b, fmtSize)
	b = le.AppendUint16(b, uint16(f.Encoding))
	b = le.AppendUint16(b, uint16(f.Channels))
	b = le.AppendUint32(b, uint32(f.SampleRate))
	b = le.AppendUint32(b, uint32(f.SampleRate*f.BlockAlign()))
	b = le.AppendUint16(b, uint16(f.BlockAlign()))
	b = le.AppendUint16(b, uint16(f.BitsPerSample))
	if f.Encoding != PCM {
		b = le.AppendUint16(b, 0)
		// A fact chunk is required for every format but PCM.
		b = append(b, "fact"...)
		b = le.AppendUint32(b, 4)
		w.factAt = int64(len(b))
		b = le.AppendUint32(b, 0)
	}
	b = append(b, "data"...)
	w.dataSizeAt = int64(len(b))
	b = le.AppendUint32(b, 0)
	le.PutUint32(b[4:8], uint32(len(b)-8))
	return b
}

// Format returns the format being written.
func (w *Writer) Format() Format { return w.format }

// Frames returns the number of sample frames written so far (flushed or not).
func (w *Writer) Frames() int64 {
	return (w.written + int64(len(w.buf))) / int64(w.format.BlockAlign())
}

// Duration returns the duration of the audio written so far.
func (w *Writer) Duration() time.Duration { return w.format.Duration(w.Frames()) }

// WriteSamples appends samples. For two channels they are interleaved (left,
// right, left, ...) and len(samples) must be even.
func (w *Writer) WriteSamples(samples []int16) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if len(samples)%w.format.Channels != 0 {
		return fmt.Errorf("wav: %d samples for %d channels: %w", len(samples), w.format.Channels, ErrFormat)
	}
	width := int64(w.format.BitsPerSample / 8)
	if w.headerLen-8+w.written+int64(len(w.buf))+int64(len(samples))*width+1 > maxRIFFSize {
		return ErrTooLarge
	}
	for len(samples) > 0 {
		room := (cap(w.buf) - len(w.buf)) / int(width)
		if room == 0 {
			if err := w.writeBuf(); err != nil {
				return err
			}
			continue
		}
		n := min(room, len(samples))
		w.buf = w.appendEncoded(w.buf, samples[:n])
		samples = samples[n:]
	}
	return nil
}

func (w *Writer) appendEncoded(b []byte, s []int16) []byte {
	start := len(b)
	switch w.format.Encoding {
	case Ulaw:
		b = b[:start+len(s)]
		g711.EncodeUlaw(b[start:], s)
	case Alaw:
		b = b[:start+len(s)]
		g711.EncodeAlaw(b[start:], s)
	default:
		for _, v := range s {
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		}
	}
	return b
}

// WriteFrame appends one frame of mono samples; it makes a mono Writer a
// media.Sink.
func (w *Writer) WriteFrame(frame []int16) error { return w.WriteSamples(frame) }

// writeBuf writes the buffered bytes out, without touching the header.
func (w *Writer) writeBuf() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.w.Write(w.buf)
	w.written += int64(n)
	if err != nil {
		w.err = fmt.Errorf("wav: writing samples: %w", err)
		return w.err
	}
	w.buf = w.buf[:0]
	return nil
}

// Flush writes buffered samples out and rewrites the header's sizes, so that
// the file as it now stands is a complete WAVE file. Call it periodically while
// recording: a crash of the process then loses at most what was written since
// (and Repair recovers what reached the file after it). Flush does not fsync;
// Close does.
func (w *Writer) Flush() error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := w.writeBuf(); err != nil {
		return err
	}
	return w.patch(w.written)
}

// patch rewrites the RIFF, fact and data sizes for dataBytes of samples.
func (w *Writer) patch(dataBytes int64) error {
	riff := w.headerLen - 8 + dataBytes + dataBytes&1
	frames := dataBytes / int64(w.format.BlockAlign())
	if err := w.putUint32(4, uint32(riff)); err != nil {
		return err
	}
	if w.factAt >= 0 {
		if err := w.putUint32(w.factAt, uint32(frames)); err != nil {
			return err
		}
	}
	return w.putUint32(w.dataSizeAt, uint32(dataBytes))
}

func (w *Writer) putUint32(off int64, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	if w.wa != nil {
		if _, err := w.wa.WriteAt(b[:], off); err != nil {
			w.err = fmt.Errorf("wav: patching header: %w", err)
			return w.err
		}
		return nil
	}
	if _, err := w.w.Seek(off, io.SeekStart); err != nil {
		w.err = fmt.Errorf("wav: patching header: %w", err)
		return w.err
	}
	if _, err := w.w.Write(b[:]); err != nil {
		w.err = fmt.Errorf("wav: patching header: %w", err)
		return w.err
	}
	if _, err := w.w.Seek(0, io.SeekEnd); err != nil {
		w.err = fmt.Errorf("wav: patching header: %w", err)
		return w.err
	}
	return nil
}

// Close flushes the samples, adds the pad byte an odd-sized data chunk needs,
// writes the final sizes and, for a Writer made by Create, syncs and closes the
// file. Closing twice returns ErrClosed.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	err := w.Flush()
	if err == nil && w.written&1 == 1 {
		if _, werr := w.w.Write([]byte{0}); werr != nil {
			err = fmt.Errorf("wav: writing pad byte: %w", werr)
		}
	}
	w.closed = true
	if w.closer != nil {
		if s, ok := w.closer.(interface{ Sync() error }); ok && err == nil {
			if serr := s.Sync(); serr != nil {
				err = fmt.Errorf("wav: %w", serr)
			}
		}
		if cerr := w.closer.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("wav: %w", cerr)
		}
	}
	return err
}
