package audiofile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
)

// Container formats Decode recognises, as reported by Source.Format.
const (
	FormatWAV  = "wav"
	FormatMP3  = "mp3"
	FormatAU   = "au"
	FormatAIFF = "aiff"
	FormatRaw  = "raw" // headerless μ-law, A-law or L16, known from the Content-Type
)

// Source plays a decoded file as 8 kHz mono frames. It implements media.Source
// and io.Closer; it closes the file it reads (if that is an io.Closer) when it
// reaches the end, fails, or is closed.
type Source struct {
	frames   *dsp.ResampledSource
	closer   io.Closer
	format   string
	rate     int
	duration time.Duration
	done     bool
}

var _ media.Source = (*Source)(nil)

// ReadFrame fills frame with the next frame of 8 kHz audio (see media.Source).
func (s *Source) ReadFrame(frame []int16) error {
	if s.done {
		return io.EOF
	}
	err := s.frames.ReadFrame(frame)
	if err != nil {
		s.close()
		if errors.Is(err, io.EOF) {
			s.done = true
			return io.EOF
		}
	}
	return err
}

// Close releases the underlying file. It is safe to call more than once.
func (s *Source) Close() error {
	s.done = true
	return s.close()
}

func (s *Source) close() error {
	c := s.closer
	s.closer = nil
	if c == nil {
		return nil
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("audiofile: %w", err)
	}
	return nil
}

// Format returns the container format: FormatWAV, FormatMP3, FormatAU,
// FormatAIFF or FormatRaw.
func (s *Source) Format() string { return s.format }

// SampleRate returns the rate the file was recorded at (before resampling).
func (s *Source) SampleRate() int { return s.rate }

// Duration returns the length of the audio when the file declares it (WAVE,
// AU and AIFF with sizes, MP3 opened from a file), or -1.
func (s *Source) Duration() time.Duration { return s.duration }

// Decode returns a Source of the audio in r, 8 kHz mono. The format is sniffed
// from the content; contentType (an HTTP Content-Type, may be empty) only
// identifies headerless μ-law, A-law and L16 audio and is otherwise ignored.
// If r is an io.Closer it is closed when the Source is done with it; if Decode
// fails it is not.
func Decode(r io.Reader, contentType string) (media.Source, error) {
	br := bufio.NewReaderSize(r, 4096)
	head, _ := br.Peek(12)
	s, err := decode(br, head, contentType)
	if err != nil {
		return nil, err
	}
	if c, ok := r.(io.Closer); ok {
		s.closer = c
	}
	return s, nil
}

// OpenFile opens the audio file at path (any format Decode sniffs; a .ul, .ulaw,
// .al or .alaw extension marks headerless μ-law or A-law) and returns a Source
// of it. Close the Source if it is abandoned before its end.
func OpenFile(path string) (media.Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audiofile: %w", err)
	}
	var head [12]byte
	n, _ := f.ReadAt(head[:], 0)
	ct := ""
	switch {
	case hasSuffix(path, ".ul", ".ulaw", ".mulaw", ".pcmu"):
		ct = "audio/basic"
	case hasSuffix(path, ".al", ".alaw", ".pcma"):
		ct = "audio/x-alaw"
	}
	s, err := decode(f, head[:n], ct)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	s.closer = f
	return s, nil
}

func hasSuffix(path string, exts ...string) bool {
	p := strings.ToLower(path)
	for _, e := range exts {
		if strings.HasSuffix(p, e) {
			return true
		}
	}
	return false
}

// decode builds a Source from r, whose first bytes are head.
func decode(r io.Reader, head []byte, contentType string) (*Source, error) {
	var (
		sr     dsp.SampleReader
		rate   int
		frames int64 = -1
		format string
	)
	switch {
	case len(head) == 0:
		return nil, fmt.Errorf("audiofile: empty input: %w", ErrUnsupported)
	case len(head) >= 12 && (bytes.HasPrefix(head, []byte("RIFF")) || bytes.HasPrefix(head, []byte("RF64")) || bytes.HasPrefix(head, []byte("RIFX"))) && string(head[8:12]) == "WAVE":
		wr, err := wav.NewReader(r)
		if err != nil {
			if errors.Is(err, wav.ErrUnsupported) {
				return nil, fmt.Errorf("audiofile: %w: %w", ErrUnsupported, err)
			}
			return nil, fmt.Errorf("audiofile: %w: %w", ErrMalformed, err)
		}
		sr, rate, frames, format = wr, wr.Format().SampleRate, wr.Frames(), FormatWAV
	case bytes.HasPrefix(head, []byte(".snd")):
		rr, rt, err := parseAU(r)
		if err != nil {
			return nil, fmt.Errorf("audiofile: %w", err)
		}
		sr, rate, format = rr, rt, FormatAU
		if rr.remaining >= 0 {
			frames = rr.remaining / int64(rr.block)
		}
	case len(head) >= 12 && bytes.HasPrefix(head, []byte("FORM")) && (string(head[8:12]) == "AIFF" || string(head[8:12]) == "AIFC"):
		rr, rt, err := parseAIFF(r)
		if err != nil {
			return nil, fmt.Errorf("audiofile: %w", err)
		}
		sr, rate, format = rr, rt, FormatAIFF
		frames = rr.remaining / int64(rr.block)
	case isMP3(head):
		mr, rt, n, err := newMP3(r)
		if err != nil {
			return nil, fmt.Errorf("audiofile: %w", err)
		}
		sr, rate, frames, format = mr, rt, n, FormatMP3
	default:
		rr, rt, err := rawFromContentType(r, contentType)
		if err != nil {
			return nil, err
		}
		sr, rate, format = rr, rt, FormatRaw
	}
	rs, err := dsp.NewResampledSource(sr, rate, media.SampleRate)
	if err != nil {
		return nil, fmt.Errorf("audiofile: %w: %w", ErrUnsupported, err)
	}
	d := time.Duration(-1)
	if frames >= 0 {
		d = time.Duration(frames) * time.Second / time.Duration(rate)
	}
	return &Source{frames: rs, format: format, rate: rate, duration: d}, nil
}

// isMP3 reports whether head starts like an MP3 stream: an ID3v2 tag, or an
// MPEG audio frame header for layer III (ISO/IEC 11172-3 2.4.1.3: 11-bit sync,
// a valid version, layer bits 01, a bit-rate index other than 15 and a valid
// sampling frequency index).
func isMP3(head []byte) bool {
	if bytes.HasPrefix(head, []byte("ID3")) {
		return true
	}
	if len(head) < 4 || head[0] != 0xFF || head[1]&0xE0 != 0xE0 {
		return false
	}
	version := head[1] >> 3 & 3
	layer := head[1] >> 1 & 3
	bitrate := head[2] >> 4
	freq := head[2] >> 2 & 3
	return version != 1 && layer == 1 && bitrate != 15 && freq != 3
}

// rawFromContentType recognises headerless audio by its media type.
func rawFromContentType(r io.Reader, contentType string) (*rawReader, int, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || contentType == "" {
		return nil, 0, fmt.Errorf("audiofile: content type %q and no known header: %w", contentType, ErrUnsupported)
	}
	rate, channels := 8000, 1
	if v, ok := params["rate"]; ok {
		if rate, err = strconv.Atoi(v); err != nil || rate < 1 || rate > dsp.MaxRate {
			return nil, 0, fmt.Errorf("audiofile: %s rate %q: %w", mt, v, ErrUnsupported)
		}
	}
	if v, ok := params["channels"]; ok {
		if channels, err = strconv.Atoi(v); err != nil || channels < 1 || channels > 64 {
			return nil, 0, fmt.Errorf("audiofile: %s channels %q: %w", mt, v, ErrUnsupported)
		}
	}
	var f sampleFormat
	switch mt {
	case "audio/basic", "audio/ulaw", "audio/x-ulaw", "audio/mulaw", "audio/x-mulaw", "audio/pcmu", "audio/g711-ulaw":
		f = fmtUlaw
	case "audio/alaw", "audio/x-alaw", "audio/x-alaw-basic", "audio/pcma", "audio/g711-alaw":
		f = fmtAlaw
	case "audio/l16":
		f = fmtS16BE
	case "audio/l8":
		f = fmtU8
	default:
		return nil, 0, fmt.Errorf("audiofile: content type %q and no known header: %w", contentType, ErrUnsupported)
	}
	return newRawReader(r, f, channels, -1), rate, nil
}

// MaxLoop is how many times <Play loop="0"> plays: Twilio's TwiML reference
// says 0 loops "until either the call is hung up or 1000 iterations are
// performed".
const MaxLoop = 1000

// Loop returns a Source that plays what open returns n times in a row, opening
// it afresh each time; n <= 0 means MaxLoop times, as <Play loop="0">. A
// failure of open ends the loop with that error. Closing the loop closes the
// current source.
func Loop(open func() (media.Source, error), n int) *Looper {
	if n <= 0 {
		n = MaxLoop
	}
	return &Looper{open: open, left: n}
}

// Looper is the Source Loop returns.
type Looper struct {
	open   func() (media.Source, error)
	cur    media.Source
	left   int
	played int
	err    error
}

var _ media.Source = (*Looper)(nil)

// ReadFrame fills frame from the current repetition, moving on to the next at
// its end. The last frame of each repetition is padded with silence, as
// media.Source requires.
func (l *Looper) ReadFrame(frame []int16) error {
	for l.err == nil {
		if l.cur == nil {
			if l.left <= 0 {
				l.err = io.EOF
				break
			}
			src, err := l.open()
			if err != nil {
				l.err = err
				break
			}
			l.cur, l.left, l.played = src, l.left-1, 0
		}
		err := l.cur.ReadFrame(frame)
		if err == nil {
			l.played++
			return nil
		}
		closeSource(l.cur)
		l.cur = nil
		if !errors.Is(err, io.EOF) {
			l.err = err
			break
		}
		if l.played == 0 {
			// An empty repetition: stop rather than open an empty file
			// a thousand times.
			l.err = io.EOF
		}
	}
	return l.err
}

// Close closes the current repetition's source and ends the loop.
func (l *Looper) Close() error {
	if l.err == nil {
		l.err = io.EOF
	}
	if l.cur != nil {
		err := closeSource(l.cur)
		l.cur = nil
		return err
	}
	return nil
}

func closeSource(s media.Source) error {
	if c, ok := s.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
