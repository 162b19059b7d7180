package dsp

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
)

// The sampling rates the Resampler accepts.
const (
	MinRate = 1000
	MaxRate = 384000
)

// Filter design, relative to the lower of the two Nyquist frequencies.
const (
	passEdge    = 0.85    // end of the pass band: 3.4 kHz for 8 kHz output
	stopEdge    = 1.0     // start of the stop band: 4 kHz for 8 kHz output
	attenuation = 70.0    // stop-band attenuation, dB (Kaiser's formulas)
	maxTableLen = 1 << 16 // coefficients per bank: 256 KiB
	maxBanks    = 32      // rate pairs whose banks are kept for reuse
)

// filterBank is a polyphase windowed-sinc filter for one rate pair. Phase p
// (0..phases) holds the taps that produce an output sample p/phases of an input
// sample after input sample i, applied to inputs i-half+1 .. i+half.
type filterBank struct {
	l, m   int64 // out/in = l/m in lowest terms
	phases int   // phases in the table (phases+1 rows, the last one a whole sample on)
	taps   int   // taps per phase, even
	coef   []float32
}

var (
	banksMu sync.Mutex
	banks   = map[[2]int]*filterBank{}
)

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// bankFor returns the shared filter bank for converting in Hz to out Hz.
func bankFor(in, out int) *filterBank {
	banksMu.Lock()
	defer banksMu.Unlock()
	key := [2]int{in, out}
	if b, ok := banks[key]; ok {
		return b
	}
	b := designBank(in, out)
	if len(banks) < maxBanks {
		// Odd rates from hostile files must not grow the cache without bound.
		banks[key] = b
	}
	return b
}

func designBank(in, out int) *filterBank {
	g := gcd(int64(in), int64(out))
	b := &filterBank{l: int64(out) / g, m: int64(in) / g}
	nyq := float64(min(in, out)) / 2
	fc := (passEdge + stopEdge) / 2 * nyq / float64(in) // cut-off, cycles per input sample
	dw := 2 * math.Pi * (stopEdge - passEdge) * nyq / float64(in)
	n := int(math.Ceil((attenuation - 7.95) / (2.285 * dw)))
	b.taps = (n + 2) &^ 1
	half := b.taps / 2
	b.phases = int(min(b.l, int64(max(16, maxTableLen/b.taps))))
	beta := 0.1102 * (attenuation - 8.7)
	i0beta := besselI0(beta)
	b.coef = make([]float32, (b.phases+1)*b.taps)
	vals := make([]float64, b.taps)
	for p := 0; p <= b.phases; p++ {
		row := b.coef[p*b.taps : (p+1)*b.taps]
		phi := float64(p) / float64(b.phases)
		var sum float64
		clear(vals)
		for j := range vals {
			d := phi + float64(half-1-j) // input sample's distance before the output instant
			x := d / float64(half)
			if x <= -1 || x >= 1 {
				continue
			}
			v := 2 * fc * sinc(2*fc*d) * besselI0(beta*math.Sqrt(1-x*x)) / i0beta
			vals[j] = v
			sum += v
		}
		for j, v := range vals {
			row[j] = float32(v / sum) // unity gain at 0 Hz in every phase
		}
	}
	return b
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the zeroth-order modified Bessel function of the first kind.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 200; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < sum*1e-17 {
			break
		}
	}
	return sum
}

// A Resampler converts a stream of samples from one rate to another. Use one
// per stream; it is not safe for concurrent use.
type Resampler struct {
	in, out int
	bank    *filterBank // nil when in == out
	buf     []float32   // input not yet consumed, with the history before it
	idx     int         // index in buf of the input sample at or before the next output instant
	frac    int64       // how far past buf[idx] the next output instant is, in 1/l input samples
	nIn     int64       // input samples received
	nOut    int64       // output samples produced
	flushed bool
}

// NewResampler returns a Resampler from inRate to outRate Hz.
func NewResampler(inRate, outRate int) (*Resampler, error) {
	if inRate < MinRate || inRate > MaxRate {
		return nil, fmt.Errorf("dsp: resampling from %d Hz: %w", inRate, ErrRate)
	}
	if outRate < MinRate || outRate > MaxRate {
		return nil, fmt.Errorf("dsp: resampling to %d Hz: %w", outRate, ErrRate)
	}
	r := &Resampler{in: inRate, out: outRate}
	if inRate != outRate {
		r.bank = bankFor(inRate, outRate)
	}
	r.Reset()
	return r, nil
}

// Reset discards all state and starts a new stream.
func (r *Resampler) Reset() {
	r.buf, r.frac, r.nIn, r.nOut, r.flushed = r.buf[:0], 0, 0, 0, false
	if r.bank != nil {
		half := r.bank.taps / 2
		// The stream is preceded by silence: half-1 zeros of history.
		for range half - 1 {
			r.buf = append(r.buf, 0)
		}
		r.idx = half - 1
	}
}

// InRate returns the input rate in Hz.
func (r *Resampler) InRate() int { return r.in }

// OutRate returns the output rate in Hz.
func (r *Resampler) OutRate() int { return r.out }

// Delay returns how many input samples the Resampler must see beyond an output
// instant before it can produce that output sample (half its filter length).
func (r *Resampler) Delay() int {
	if r.bank == nil {
		return 0
	}
	return r.bank.taps / 2
}

// Process consumes src and appends to dst every output sample that src makes
// computable, returning the extended slice. It does not allocate once dst and
// its internal buffer have grown to the sizes in use.
func (r *Resampler) Process(dst []int16, src []int16) []int16 {
	if r.flushed {
		r.Reset()
	}
	r.nIn += int64(len(src))
	if r.bank == nil {
		r.nOut += int64(len(src))
		return append(dst, src...)
	}
	for _, s := range src {
		r.buf = append(r.buf, float32(s))
	}
	return r.run(dst, -1)
}

// Flush ends the stream: it appends the remaining output samples, so that in
// total ceil(inputSamples·outRate/inRate) samples have been produced, and
// resets the Resampler for a new stream.
func (r *Resampler) Flush(dst []int16) []int16 {
	if r.bank == nil {
		r.flushed = true
		return dst
	}
	total := (r.nIn*r.bank.l + r.bank.m - 1) / r.bank.m
	for range r.bank.taps/2 + 1 {
		r.buf = append(r.buf, 0)
	}
	dst = r.run(dst, total)
	r.flushed = true
	return dst
}

// run produces output samples while the input reaches far enough, and at most
// up to limit output samples in total when limit >= 0.
func (r *Resampler) run(dst []int16, limit int64) []int16 {
	b := r.bank
	half := b.taps / 2
	idx, frac := r.idx, r.frac
	for idx+half < len(r.buf) && (limit < 0 || r.nOut < limit) {
		p := int((frac*int64(b.phases) + b.l/2) / b.l) // nearest phase, 0..phases
		coef := b.coef[p*b.taps : (p+1)*b.taps]
		x := r.buf[idx-half+1 : idx-half+1+b.taps]
		dst = append(dst, toInt16(dot(x, coef)))
		r.nOut++
		frac += b.m
		idx += int(frac / b.l)
		frac %= b.l
	}
	// Drop the input no later output needs.
	if drop := min(idx-half+1, len(r.buf)); drop > 0 {
		n := copy(r.buf, r.buf[drop:])
		r.buf = r.buf[:n]
		idx -= drop
	}
	r.idx, r.frac = idx, frac
	return dst
}

// dot returns the inner product of x and c (len(x) == len(c)).
func dot(x, c []float32) float32 {
	c = c[:len(x)]
	var s0, s1, s2, s3 float32
	for len(x) >= 8 && len(c) >= 8 {
		s0 += x[0]*c[0] + x[4]*c[4]
		s1 += x[1]*c[1] + x[5]*c[5]
		s2 += x[2]*c[2] + x[6]*c[6]
		s3 += x[3]*c[3] + x[7]*c[7]
		x, c = x[8:], c[8:]
	}
	for i := range x {
		s0 += x[i] * c[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func toInt16(v float32) int16 {
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	}
	if v < 0 {
		return int16(v - 0.5)
	}
	return int16(v + 0.5)
}

// A SampleReader reads mono samples at some rate, as wav.Reader does: it fills
// a prefix of dst and returns how many samples it wrote, and io.EOF at the end.
type SampleReader interface {
	ReadSamples(dst []int16) (int, error)
}

// ResampledSource reads a SampleReader at its own rate and delivers frames at
// another rate through ReadFrame, the media.Source contract: every frame is
// filled, the last one padded with silence, then io.EOF.
type ResampledSource struct {
	r       SampleReader
	rs      *Resampler
	in      []int16
	pending []int16 // resampled samples not yet delivered
	off     int
	eof     bool
	err     error
}

// NewResampledSource returns a source of outRate audio read from r at inRate.
func NewResampledSource(r SampleReader, inRate, outRate int) (*ResampledSource, error) {
	rs, err := NewResampler(inRate, outRate)
	if err != nil {
		return nil, err
	}
	return &ResampledSource{r: r, rs: rs, in: make([]int16, 1024)}, nil
}

// ReadFrame fills frame with the next len(frame) samples.
func (s *ResampledSource) ReadFrame(frame []int16) error {
	if s.err != nil {
		return s.err
	}
	for empty := 0; len(s.pending)-s.off < len(frame) && !s.eof; {
		if s.off > 0 {
			n := copy(s.pending, s.pending[s.off:])
			s.pending, s.off = s.pending[:n], 0
		}
		n, err := s.r.ReadSamples(s.in)
		if n == 0 && err == nil {
			if empty++; empty >= 100 {
				err = io.ErrNoProgress
			}
		}
		s.pending = s.rs.Process(s.pending, s.in[:n])
		if errors.Is(err, io.EOF) {
			s.pending = s.rs.Flush(s.pending)
			s.eof = true
		} else if err != nil {
			s.err = err
			return err
		}
	}
	avail := len(s.pending) - s.off
	if avail == 0 {
		s.err = io.EOF
		return io.EOF
	}
	n := copy(frame, s.pending[s.off:])
	clear(frame[n:])
	s.off += n
	return nil
}
