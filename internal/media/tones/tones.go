package tones

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/switchboard-voice/switchboard/internal/media"
)

// Level is the total power of every ringing tone, in dBm0: as a single sine,
// a peak of 5091 in 16-bit PCM (0.155 of full scale). See the package comment.
const Level = -13.0

// fullScaleDBm0 is the level of a full-scale sine in G.711 (μ-law +3.17 dBm0,
// A-law +3.14 dBm0; the μ-law figure is used).
const fullScaleDBm0 = 3.17

// defaultDepth is the modulation depth of f1*f2 tones when the national
// specification does not give one (Asterisk's fixed depth).
const defaultDepth = 0.9

// rampSamples is the length of the raised-cosine rise and fall of each on
// period (5 ms).
const rampSamples = media.SampleRate * 5 / 1000

// maxComponents is the most sines a tone is made of (a modulated tone: the
// carrier and two side frequencies).
const maxComponents = 3

// component is one sine of a tone: freq Hz with a peak of amp, relative to a
// sine at Level.
type component struct {
	freq int
	amp  float64
}

// sound is what a tone is made of: up to maxComponents sines.
type sound struct {
	comps [maxComponents]component
	n     int
}

// plain is a single tone of f Hz (E.180 "f").
func plain(f int) sound {
	return sound{comps: [maxComponents]component{{f, 1}}, n: 1}
}

// dual is the sum of f1 and f2 Hz at equal power (E.180 "f1+f2").
func dual(f1, f2 int) sound {
	a := 1 / math.Sqrt2
	return sound{comps: [maxComponents]component{{f1, a}, {f2, a}}, n: 2}
}

// modulated is fc Hz amplitude-modulated by fm Hz at depth m (E.180 "fc*fm"):
// (1 + m·cos 2πfm·t)·sin 2πfc·t = sin 2πfc·t + m/2·(sin 2π(fc-fm)·t + sin
// 2π(fc+fm)·t), scaled so that the three together have the power of one sine.
func modulated(fc, fm int, m float64) sound {
	c := 1 / math.Sqrt(1+m*m/2)
	s := c * m / 2
	return sound{comps: [maxComponents]component{{fc, c}, {fc - fm, s}, {fc + fm, s}}, n: 3}
}

// ms converts a cadence in milliseconds (on, off, on, off, ...) to samples.
func ms(d ...int) []int {
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = v * media.SampleRate / 1000
	}
	return out
}

// entry is one country's ringing tone.
type entry struct {
	name    string
	sound   sound
	cadence []int // samples: on, off, on, off, ...
}

// index maps each country to its table entry, checked once.
var index = sync.OnceValue(func() map[string]*entry {
	m := make(map[string]*entry, len(table))
	for i := range table {
		e := &table[i]
		if err := e.check(); err != nil {
			panic(err)
		}
		if _, dup := m[e.name]; dup {
			panic("tones: duplicate country " + e.name)
		}
		m[e.name] = e
	}
	return m
})

// check reports a table entry the generator cannot play.
func (e *entry) check() error {
	if e.sound.n < 1 || e.sound.n > maxComponents {
		return fmt.Errorf("tones: %s: %d components", e.name, e.sound.n)
	}
	for _, c := range e.sound.comps[:e.sound.n] {
		if c.freq <= 0 || c.freq >= media.SampleRate/2 {
			return fmt.Errorf("tones: %s: frequency %d Hz", e.name, c.freq)
		}
	}
	if len(e.cadence) == 0 || len(e.cadence)%2 != 0 {
		return fmt.Errorf("tones: %s: cadence needs on/off pairs", e.name)
	}
	for i, d := range e.cadence {
		if d <= 0 || (i%2 == 0 && d < 2*rampSamples) {
			return fmt.Errorf("tones: %s: cadence period %d of %d samples", e.name, i, d)
		}
	}
	return nil
}

// tables holds sin(2πk/SampleRate) for k in [0, SampleRate), so a sine of a
// whole number of hertz is exact at every sample, and the rise of an on
// period's raised-cosine ramp.
type tables struct {
	sin  [media.SampleRate]float64
	ramp [rampSamples]float64
}

var shared = sync.OnceValue(func() *tables {
	t := new(tables)
	for k := range t.sin {
		t.sin[k] = math.Sin(2 * math.Pi * float64(k) / media.SampleRate)
	}
	for i := range t.ramp {
		t.ramp[i] = 0.5 - 0.5*math.Cos(math.Pi*(float64(i)+0.5)/rampSamples)
	}
	return t
})

// Countries lists the supported values, in lexical order.
func Countries() []string {
	out := make([]string, 0, len(table))
	for _, e := range table {
		out = append(out, e.name)
	}
	slices.Sort(out)
	return out
}

// Ringback returns a Source playing country's ringback tone from the start of
// its cadence, endlessly; ok is false for an unknown country. country is one
// of Twilio's ringTone values (see Countries), in lower case.
func Ringback(country string) (media.Source, bool) {
	e, ok := index()[country]
	if !ok {
		return nil, false
	}
	g := &generator{tab: shared(), cadence: e.cadence, n: e.sound.n}
	a := levelPeak(Level)
	for i, c := range e.sound.comps[:e.sound.n] {
		g.step[i] = c.freq
		g.amp[i] = a * c.amp
	}
	return g, true
}

// levelPeak returns the peak, in 16-bit PCM, of a sine at dbm0.
func levelPeak(dbm0 float64) float64 {
	return 32767 * math.Pow(10, (dbm0-fullScaleDBm0)/20)
}

// generator plays one entry. The phase of component i at sample n is
// step[i]·n mod SampleRate, an index into the sine table, so the tone is
// phase-continuous across frames and through the off periods.
type generator struct {
	tab     *tables
	cadence []int
	n       int // components in use
	step    [maxComponents]int
	amp     [maxComponents]float64
	phase   [maxComponents]int
	seg     int // current cadence period; even periods are on
	pos     int // samples played of the current period
}

// ReadFrame fills frame with the next len(frame) samples. It never fails.
func (g *generator) ReadFrame(frame []int16) error {
	for len(frame) > 0 {
		length := g.cadence[g.seg]
		n := min(len(frame), length-g.pos)
		if g.seg%2 == 0 {
			g.on(frame[:n], length)
		} else {
			clear(frame[:n])
			for i := range g.n {
				g.phase[i] = (g.phase[i] + g.step[i]*n) % media.SampleRate
			}
			g.pos += n
		}
		frame = frame[n:]
		if g.pos == length {
			g.pos = 0
			g.seg++
			if g.seg == len(g.cadence) {
				g.seg = 0
			}
		}
	}
	return nil
}

// on writes the next len(out) samples of the current on period, which is
// length samples long.
func (g *generator) on(out []int16, length int) {
	sin := &g.tab.sin
	ramp := &g.tab.ramp
	for k := range out {
		var v float64
		for i := range g.n {
			v += g.amp[i] * sin[g.phase[i]]
			p := g.phase[i] + g.step[i]
			if p >= media.SampleRate {
				p -= media.SampleRate
			}
			g.phase[i] = p
		}
		switch pos := g.pos + k; {
		case pos < rampSamples:
			v *= ramp[pos]
		case pos >= length-rampSamples:
			v *= ramp[length-1-pos]
		}
		out[k] = int16(math.Round(v))
	}
	g.pos += len(out)
}
