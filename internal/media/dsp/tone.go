package dsp

import (
	"fmt"
	"io"
	"math"
	"time"
)

// SampleRate is the rate of everything this package generates and of the audio
// DTMFDetector takes: switchboard's internal 8 kHz.
const SampleRate = 8000

// Forever, as a duration, makes a tone that never ends.
const Forever time.Duration = -1

// Pauses in DTMF strings, as in Twilio's SendDigits and <Play digits>: each w
// waits half a second, each W a full second (Twilio error 21206 lists the
// characters: 0-9, A-D, *, #, w, W).
const (
	PauseShort = 500 * time.Millisecond
	PauseLong  = time.Second
)

type segment struct {
	freqs []float64 // none: silence
	amp   float64   // peak of each component
	n     int64     // samples; -1 for ever
}

// A Generator produces a sequence of tones and silences at 8 kHz. It is a
// media.Source: ReadFrame fills whole frames, pads the last one with silence
// and then returns io.EOF.
type Generator struct {
	segs []segment
	cur  int   // current segment
	done int64 // samples of the current segment produced
	osc  []oscillator
}

// ToneSource returns a Generator of the sum of sines at freqs Hz, each with a
// peak level of level dBFS (so a single tone at level measures level dBFS), for
// duration d (Forever, or any negative duration, for no end). The sum is
// clipped at full scale.
func ToneSource(freqs []float64, level float64, d time.Duration) *Generator {
	return &Generator{segs: []segment{{freqs: append([]float64(nil), freqs...), amp: Amplitude(level), n: samplesFor(d)}}}
}

// SilenceSource returns a Generator of d of silence (Forever for no end).
func SilenceSource(d time.Duration) *Generator {
	return &Generator{segs: []segment{{n: samplesFor(d)}}}
}

// DTMFSource returns a Generator that dials digits: each DTMF digit (0-9, *, #,
// A-D) sounds for tone at level dBFS per frequency and is followed by gap of
// silence; w and W pause for PauseShort and PauseLong. Other characters are an
// error wrapping ErrDigit.
func DTMFSource(digits string, tone, gap time.Duration, level float64) (*Generator, error) {
	g := &Generator{}
	amp := Amplitude(level)
	for i := 0; i < len(digits); i++ {
		d := digits[i]
		switch d {
		case 'w':
			g.segs = append(g.segs, segment{n: samplesFor(PauseShort)})
			continue
		case 'W':
			g.segs = append(g.segs, segment{n: samplesFor(PauseLong)})
			continue
		}
		low, high, ok := DTMFFreqs(d)
		if !ok {
			return nil, fmt.Errorf("dsp: %q at %d in %q: %w", d, i, digits, ErrDigit)
		}
		g.segs = append(g.segs, segment{freqs: []float64{low, high}, amp: amp, n: max(0, samplesFor(tone))})
		if gap > 0 {
			g.segs = append(g.segs, segment{n: samplesFor(gap)})
		}
	}
	return g, nil
}

func samplesFor(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return int64(math.Round(d.Seconds() * SampleRate))
}

// Duration returns the total duration of the Generator, or Forever.
func (g *Generator) Duration() time.Duration {
	var n int64
	for _, s := range g.segs {
		if s.n < 0 {
			return Forever
		}
		n += s.n
	}
	return time.Duration(n) * time.Second / SampleRate
}

// ReadFrame fills frame with the next len(frame) samples.
func (g *Generator) ReadFrame(frame []int16) error {
	i := 0
	for i < len(frame) && g.cur < len(g.segs) {
		s := &g.segs[g.cur]
		n := len(frame) - i
		if s.n >= 0 {
			n = int(min(int64(n), s.n-g.done))
		}
		g.fill(frame[i:i+n], s)
		i += n
		g.done += int64(n)
		if s.n >= 0 && g.done >= s.n {
			g.cur++
			g.done = 0
		}
	}
	if i == 0 && len(frame) > 0 {
		return io.EOF
	}
	clear(frame[i:])
	return nil
}

// fill writes the next len(out) samples of segment s. Each sine is a unit
// phasor rotated by e^{jω} per sample (four multiplications instead of a
// math.Sin), renormalised after every call so rounding cannot make it drift.
func (g *Generator) fill(out []int16, s *segment) {
	if len(s.freqs) == 0 {
		clear(out)
		return
	}
	if g.done == 0 || len(g.osc) != len(s.freqs) {
		g.osc = g.osc[:0]
		for _, f := range s.freqs {
			w := 2 * math.Pi * f / SampleRate
			g.osc = append(g.osc, oscillator{re: 1, c: math.Cos(w), s: math.Sin(w)})
		}
	}
	for k := range out {
		var v float64
		for j := range g.osc {
			o := &g.osc[j]
			v += o.im
			o.re, o.im = o.re*o.c-o.im*o.s, o.re*o.s+o.im*o.c
		}
		v *= s.amp
		switch {
		case v > 32767:
			v = 32767
		case v < -32768:
			v = -32768
		}
		out[k] = int16(math.Round(v))
	}
	for j := range g.osc {
		o := &g.osc[j]
		if m := math.Hypot(o.re, o.im); m > 0 {
			o.re, o.im = o.re/m, o.im/m
		}
	}
}

// oscillator is a unit phasor (re, im) and its rotation per sample (c, s).
type oscillator struct{ re, im, c, s float64 }

// DTMF frequencies (ITU-T Q.23): the low (row) group and the high (column)
// group.
var (
	DTMFLow  = [4]float64{697, 770, 852, 941}
	DTMFHigh = [4]float64{1209, 1336, 1477, 1633}
)

// dtmfKeys is the keypad: row by low frequency, column by high frequency.
const dtmfKeys = "123A456B789C*0#D"

// DTMFFreqs returns the two frequencies of a DTMF digit (0-9, *, #, A-D; a-d
// too), and false for anything else.
func DTMFFreqs(digit byte) (low, high float64, ok bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for i := range len(dtmfKeys) {
		if dtmfKeys[i] == digit {
			return DTMFLow[i/4], DTMFHigh[i%4], true
		}
	}
	return 0, 0, false
}

// ToneSamples returns d of the tone ToneSource(freqs, level, d) would play, as
// one slice (d must be finite).
func ToneSamples(freqs []float64, level float64, d time.Duration) []int16 {
	n := samplesFor(d)
	if n <= 0 {
		return nil
	}
	g := ToneSource(freqs, level, d)
	out := make([]int16, n)
	g.fill(out, &g.segs[0])
	return out
}
