package dsp

import "math"

// Goertzel measures the power of one frequency in blocks of samples with the
// Goertzel algorithm (a single DFT term, at any frequency, not only bin
// centres). The zero value is not useful; use NewGoertzel.
type Goertzel struct {
	freq float64
	rate int
	cos  float64 // cos ω
	sin  float64 // sin ω
	c    float64 // 2 cos ω
}

// NewGoertzel returns a Goertzel filter for freq Hz in audio sampled at rate Hz.
func NewGoertzel(freq float64, rate int) Goertzel {
	w := 2 * math.Pi * freq / float64(rate)
	return Goertzel{freq: freq, rate: rate, cos: math.Cos(w), sin: math.Sin(w), c: 2 * math.Cos(w)}
}

// Freq returns the frequency the filter measures.
func (g Goertzel) Freq() float64 { return g.freq }

// state runs the recurrence s[n] = x[n] + 2cos(ω)s[n-1] - s[n-2] over block and
// returns its last two values.
func (g Goertzel) state(block []int16) (s1, s2 float64) {
	c := g.c
	for _, x := range block {
		s1, s2 = float64(x)+c*s1-s2, s1
	}
	return s1, s2
}

// Power returns the mean-square amplitude of the block's component at the
// filter's frequency: 2|X(ω)|²/N². For a sine of peak A at that frequency
// (over a whole number of periods, or a long block) it is A²/2, the sine's own
// mean square, so it compares directly with the block's mean square (RMS²).
func (g Goertzel) Power(block []int16) float64 {
	if len(block) == 0 {
		return 0
	}
	s1, s2 := g.state(block)
	mag2 := s1*s1 + s2*s2 - g.c*s1*s2
	n := float64(len(block))
	return 2 * mag2 / (n * n)
}

// Level returns Power in dBFS (AES17: a full-scale sine at the frequency is 0).
func (g Goertzel) Level(block []int16) float64 {
	return DBFS(math.Sqrt(g.Power(block)))
}

// GoertzelPower is NewGoertzel(freq, rate).Power(block).
func GoertzelPower(block []int16, freq float64, rate int) float64 {
	return NewGoertzel(freq, rate).Power(block)
}
