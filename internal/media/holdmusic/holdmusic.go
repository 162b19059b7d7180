package holdmusic

import (
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
)

// Level is the loudness of the music, in dBFS on the AES17 scale package dsp
// uses (a sine with a peak at full scale is 0 dBFS): the RMS over the whole
// loop is -20 dBFS, about the level of a talker on a well-set call and 4 dB
// below a -13 dBm0 ringing tone. The loudest sample is under -6 dBFS (half of
// full scale), so the music does not clip whatever gain of up to 6 dB
// follows it.
const Level = -20.0

// peakLimit is the largest sample allowed, -6 dBFS: half of full scale.
const peakLimit = 32767.0 / 2

// sampleRate is switchboard's 8 kHz.
const sampleRate = media.SampleRate

// Loop returns the length of the piece: the music repeats after it.
func Loop() time.Duration {
	return time.Duration(loopSamples) * time.Second / sampleRate
}

// New returns an endless Source of the hold music, starting at the beginning
// of the piece. Each Source plays on its own; all of them share one rendering
// of the loop, made the first time it is needed. ReadFrame accepts any length,
// does not allocate and never returns an error.
func New() media.Source {
	return &player{loop: rendered()}
}

// player is a position in the shared loop.
type player struct {
	loop []int16
	pos  int
}

// ReadFrame fills frame with the next len(frame) samples of the music.
func (p *player) ReadFrame(frame []int16) error {
	for len(frame) > 0 {
		n := copy(frame, p.loop[p.pos:])
		frame = frame[n:]
		if p.pos += n; p.pos == len(p.loop) {
			p.pos = 0
		}
	}
	return nil
}

// WriteWAV writes one loop of the music to w as a WAVE file, 8 kHz 16-bit
// mono linear PCM (640044 bytes), for serving over HTTP as a <Play> URL or a
// conference's waitUrl. Played in a loop it is seamless like New's Source.
func WriteWAV(w io.Writer) error {
	loop := rendered()
	var f memFile
	f.b = make([]byte, 0, 64+2*len(loop))
	ww, err := wav.NewWriter(&f, wav.Default)
	if err != nil {
		return fmt.Errorf("holdmusic: %w", err)
	}
	if err := ww.WriteSamples(loop); err != nil {
		return fmt.Errorf("holdmusic: %w", err)
	}
	if err := ww.Close(); err != nil {
		return fmt.Errorf("holdmusic: %w", err)
	}
	if _, err := w.Write(f.b); err != nil {
		return fmt.Errorf("holdmusic: writing WAV: %w", err)
	}
	return nil
}

// memFile is an in-memory io.WriteSeeker and io.WriterAt for wav.Writer,
// which patches the header's sizes once the samples are written.
type memFile struct {
	b   []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	n, err := m.WriteAt(p, m.off)
	m.off += int64(n)
	return n, err
}

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += m.off
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	if off < 0 {
		return 0, fmt.Errorf("holdmusic: seek to %d", off)
	}
	m.off = off
	return off, nil
}

// rendered is the loop, rendered once and shared by every Source.
var rendered = sync.OnceValue(func() []int16 { return render() })

// Instrument levels (peak amplitudes before the final normalisation) and
// envelope times in seconds.
const (
	padLevel    = 0.16
	padDetune   = 1.0025 // the chorus partner of each pad note: +4.3 cents
	padAttack   = 0.80
	padRelease  = 1.00
	bassLevel   = 0.32
	bassRelease = 0.12
	tuneLevel   = 0.30
	tuneAttack  = 0.025
	tuneRelease = 0.22
	arpLevel    = 0.085
	arpRing     = 1.2 // how long each arpeggio note rings, decaying
	reverbWet   = 0.22
)

// render synthesises the loop: every note of the score is added into a
// buffer of loopSamples at its time modulo the loop, so the tails of the last
// bar's notes (and of their reverberation) sound over the first bar and the
// loop has no seam; then the mix is scaled to Level.
func render() []int16 {
	mix := make([]float64, loopSamples)
	for bar, ch := range progression {
		at := bar * beatsPerBar * beatSamples
		barLen := float64(beatsPerBar * beatSamples)
		for _, p := range ch.voice {
			pad(mix, at, barLen, freq(p))
		}
		bass(mix, at, 2*beatSamples, freq(ch.bass))
		bass(mix, at+2*beatSamples, 2*beatSamples, freq(ch.bass+7))
		for i, k := range arpeggio {
			p := ch.voice[0] + 24
			if k < 3 {
				p = ch.voice[k] + 12
			}
			arp(mix, at+i*beatSamples/2, freq(p), 1-0.25*float64(i%2))
		}
		pos := at
		for _, t := range melody[bar] {
			n := int(t.beats * beatSamples)
			if t.pitch != 0 {
				tune(mix, pos, float64(n), freq(t.pitch))
			}
			pos += n
		}
	}
	out := reverb(mix)

	var sum, peak float64
	for _, v := range out {
		sum += v * v
		peak = max(peak, math.Abs(v))
	}
	// Level is the RMS of a sine with peak 10^(Level/20) of full scale.
	target := 32767 * math.Pow(10, Level/20) / math.Sqrt2
	gain := target / math.Sqrt(sum/float64(len(out)))
	if peak*gain >= peakLimit {
		panic(fmt.Sprintf("holdmusic: peak %.0f at Level, over %.0f", peak*gain, peakLimit))
	}
	pcm := make([]int16, len(out))
	for i, v := range out {
		pcm[i] = int16(math.Round(v * gain))
	}
	return pcm
}

// freq is the frequency of a MIDI note, equal temperament with A4 at 440 Hz.
func freq(note int) float64 { return 440 * math.Pow(2, float64(note-69)/12) }

// add adds v to the sample at position n of the loop (any n ≥ 0).
func add(mix []float64, n int, v float64) { mix[n%len(mix)] += v }

// ramp is a raised-cosine rise from 0 at x ≤ 0 to 1 at x ≥ 1.
func ramp(x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	return 0.5 - 0.5*math.Cos(math.Pi*x)
}

// fm is a sample of a simple FM operator pair with a 1:1 frequency ratio:
// sin(φ + index·sin φ) for φ in cycles. At small indices it is a sine with a
// little of its harmonics, brighter as the index grows: a soft, warm timbre
// without the buzz of a sawtooth.
func fm(phase, index float64) float64 {
	return sine(phase + index/(2*math.Pi)*sine(phase))
}

// sineBits sets the size of the sine table: 4096 points, interpolated
// linearly, which is accurate to about 3·10⁻⁷ (-130 dB), far below the 16-bit
// output's resolution, and several times faster than math.Sin.
const sineBits = 12

// sineTable holds sin(2πk/4096) for k in [0, 4096], the last point closing the
// period for the interpolation.
var sineTable = func() *[1<<sineBits + 1]float64 {
	var t [1<<sineBits + 1]float64
	for k := range t {
		t[k] = math.Sin(2 * math.Pi * float64(k) / (1 << sineBits))
	}
	return &t
}()

// sine returns sin(2π·x) for x in cycles (any sign).
func sine(x float64) float64 {
	t := sineTable
	x -= math.Floor(x)
	p := x * (1 << sineBits)
	i := int(p)
	f := p - float64(i)
	return t[i] + f*(t[i+1]-t[i])
}

// exp is exp(-t/τ) sample by sample, by one multiplication a sample.
type exp struct{ v, k float64 }

func decayer(tau float64) exp { return exp{1, math.Exp(-1 / (tau * sampleRate))} }

// next returns the value at the current sample and moves to the next.
func (e *exp) next() float64 {
	v := e.v
	e.v *= e.k
	return v
}

// pad plays a sustained chord note of length samples from at: two slightly
// detuned voices (a slow chorus beat, about 1 Hz), a slow attack and a long
// release that overlaps the next chord's attack, so the harmony changes by
// crossfade and the pad never stops.
func pad(mix []float64, at int, length, f float64) {
	total := int(length + padRelease*sampleRate)
	var ph1, ph2 float64
	for i := range total {
		t := float64(i) / sampleRate
		env := ramp(t/padAttack) * (1 - 0.18*t/(length/sampleRate))
		if float64(i) > length {
			env = ramp(1-(float64(i)-length)/(padRelease*sampleRate)) * 0.82
		}
		// The timbre breathes: the FM index drifts slowly.
		idx := 0.35 + 0.15*sine(0.23*t)
		v := fm(ph1, idx) + 0.5*fm(ph2, idx)
		add(mix, at+i, padLevel*env*v)
		ph1 += f / sampleRate
		ph2 += f * padDetune / sampleRate
	}
}

// bass plays a soft plucked bass note: a quick attack, a bright start that
// mellows (the FM index falls), and an exponential decay.
func bass(mix []float64, at, length int, f float64) {
	rel := int(bassRelease * sampleRate)
	var ph float64
	decay, bright := decayer(0.6), decayer(0.25)
	for i := range length + rel {
		t := float64(i) / sampleRate
		env := ramp(t/0.008) * (0.45 + 0.55*decay.next())
		if i >= length {
			env *= ramp(1 - float64(i-length)/float64(rel))
		}
		idx := 0.5 + 1.0*bright.next()
		add(mix, at+i, bassLevel*env*fm(ph, idx))
		ph += f / sampleRate
	}
}

// arp plays one note of the eighth-note figure: a soft bell-like pluck that
// rings for arpRing seconds, decaying.
func arp(mix []float64, at int, f, vel float64) {
	total := int(arpRing * sampleRate)
	var ph float64
	decay, bright := decayer(0.28), decayer(0.12)
	for i := range total {
		t := float64(i) / sampleRate
		env := ramp(t/0.005) * decay.next() * ramp((arpRing-t)/0.1)
		idx := 0.15 + 0.8*bright.next()
		add(mix, at+i, arpLevel*vel*env*fm(ph, idx))
		ph += f / sampleRate
	}
}

// tune plays a melody note: a gentle attack, a slight fall to a sustain, a
// vibrato that fades in on longer notes, and a release that overlaps the next
// note (legato).
func tune(mix []float64, at int, length, f float64) {
	rel := tuneRelease * sampleRate
	var ph float64
	decay, bright := decayer(0.35), decayer(0.08)
	for i := range int(length + rel) {
		t := float64(i) / sampleRate
		env := ramp(t/tuneAttack) * (0.72 + 0.28*decay.next())
		if float64(i) > length {
			env *= ramp(1 - (float64(i)-length)/rel)
		}
		idx := 0.45 + 0.6*bright.next()
		vib := 1 + 0.004*ramp((t-0.25)/0.4)*sine(5.2*t)
		add(mix, at+i, tuneLevel*env*fm(ph, idx))
		ph += f * vib / sampleRate
	}
}

// Reverberator: four parallel feedback combs with damping and two series
// allpasses (Schroeder's structure as in Jezar's Freeverb), the delays scaled
// to 8 kHz: a small, soft room, decaying 60 dB in under a second.
var (
	combDelays    = [4]int{202, 215, 232, 246}
	allpassDelays = [2]int{101, 80}
)

const (
	combFeedback = 0.78
	combDamp     = 0.3
	allpassGain  = 0.5
)

// reverb returns dry plus reverberation of the periodic signal dry. It runs
// the reverberator over two periods and keeps the second, whose state where
// it starts is what the end of the loop left behind: the reverberation, too,
// carries over the seam.
func reverb(dry []float64) []float64 {
	var combs [4]struct {
		buf  []float64
		pos  int
		filt float64
	}
	for i := range combs {
		combs[i].buf = make([]float64, combDelays[i])
	}
	var aps [2]struct {
		buf []float64
		pos int
	}
	for i := range aps {
		aps[i].buf = make([]float64, allpassDelays[i])
	}
	out := make([]float64, len(dry))
	for pass := range 2 {
		for n, x := range dry {
			var wet float64
			for i := range combs {
				c := &combs[i]
				y := c.buf[c.pos]
				c.filt = y*(1-combDamp) + c.filt*combDamp
				c.buf[c.pos] = x + c.filt*combFeedback
				c.pos = (c.pos + 1) % len(c.buf)
				wet += y
			}
			wet /= float64(len(combs))
			for i := range aps {
				a := &aps[i]
				b := a.buf[a.pos]
				a.buf[a.pos] = wet + b*allpassGain
				wet = b - wet*allpassGain
				a.pos = (a.pos + 1) % len(a.buf)
			}
			if pass == 1 {
				out[n] = x + reverbWet*wet
			}
		}
	}
	return out
}
