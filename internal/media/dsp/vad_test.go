package dsp_test

// The VAD is tested from outside the package: the hold music it must ignore
// comes from package holdmusic, which imports package media, which imports
// dsp.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/g711"
	"github.com/switchboard-voice/switchboard/internal/media/holdmusic"
	"github.com/switchboard-voice/switchboard/internal/media/tones"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
)

const (
	vadRate  = 8000
	vadFrame = 160
)

// samplesOf converts a duration to a number of samples at 8 kHz.
func samplesOf(d time.Duration) int { return int(d.Seconds() * vadRate) }

// at is the time of sample n.
func at(n int) time.Duration { return time.Duration(n) * time.Second / vadRate }

// vadResult is what a VAD reported over a signal.
type vadResult struct {
	starts, stops []int  // sample (end of the frame) at which each event came
	speaking      []bool // per frame
}

func (r vadResult) speakingTime() time.Duration {
	n := 0
	for _, s := range r.speaking {
		if s {
			n++
		}
	}
	return at(n * vadFrame)
}

func (r vadResult) events() string {
	var b strings.Builder
	si, ei := 0, 0
	for si < len(r.starts) || ei < len(r.stops) {
		if ei >= len(r.stops) || (si < len(r.starts) && r.starts[si] < r.stops[ei]) {
			fmt.Fprintf(&b, " +%.2f", at(r.starts[si]).Seconds())
			si++
		} else {
			fmt.Fprintf(&b, " -%.2f", at(r.stops[ei]).Seconds())
			ei++
		}
	}
	return strings.TrimSpace(b.String())
}

// runVAD feeds s to a new VAD frame by frame, as a conference would.
func runVAD(cfg dsp.VADConfig, s []int16) vadResult {
	v := dsp.NewVAD(cfg)
	var r vadResult
	buf := make([]int16, vadFrame)
	for i := 0; i < len(s); i += vadFrame {
		clear(buf)
		copy(buf, s[i:])
		changed, speaking := v.Process(buf)
		was := len(r.speaking) > 0 && r.speaking[len(r.speaking)-1]
		if changed != (speaking != was) {
			panic("Process: changed does not match the state")
		}
		if changed && speaking {
			r.starts = append(r.starts, i+vadFrame)
		} else if changed {
			r.stops = append(r.stops, i+vadFrame)
		}
		r.speaking = append(r.speaking, speaking)
	}
	return r
}

// Signals.

func silence(d time.Duration) []int16 { return make([]int16, samplesOf(d)) }

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// mix adds b (from sample off of a) to a copy of a, clipping.
func mix(a, b []int16, off int) []int16 {
	out := append([]int16(nil), a...)
	for i, v := range b {
		if off+i >= len(out) {
			break
		}
		out[off+i] = clip(float64(out[off+i]) + float64(v))
	}
	return out
}

func clip(v float64) int16 {
	return int16(math.Max(-32768, math.Min(32767, math.Round(v))))
}

// atLevel scales float samples so that their RMS is level dBFS (AES17).
func atLevel(x []float64, level float64) []int16 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	g := 0.0
	if ss > 0 {
		g = dsp.Amplitude(level) / math.Sqrt2 / math.Sqrt(ss/float64(len(x)))
	}
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = clip(v * g)
	}
	return out
}

// gain scales s by db.
func gain(s []int16, db float64) []int16 {
	g := math.Pow(10, db/20)
	out := make([]int16, len(s))
	for i, v := range s {
		out[i] = clip(float64(v) * g)
	}
	return out
}

// ulaw passes s through G.711 μ-law, as a PSTN leg does.
func ulaw(s []int16) []int16 {
	codes := make([]byte, len(s))
	g711.EncodeUlaw(codes, s)
	out := make([]int16, len(s))
	g711.DecodeUlaw(out, codes)
	return out
}

func whiteNoise(d time.Duration, level float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 11))
	x := make([]float64, samplesOf(d))
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return atLevel(x, level)
}

// pinkNoise is white noise through Paul Kellet's 1/f filter (-3 dB/octave).
func pinkNoise(d time.Duration, level float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 12))
	x := make([]float64, samplesOf(d))
	var b0, b1, b2, b3, b4, b5, b6 float64
	for i := range x {
		w := rng.NormFloat64()
		b0 = 0.99886*b0 + w*0.0555179
		b1 = 0.99332*b1 + w*0.0750759
		b2 = 0.96900*b2 + w*0.1538520
		b3 = 0.86650*b3 + w*0.3104856
		b4 = 0.55000*b4 + w*0.5329522
		b5 = -0.7616*b5 - w*0.0168980
		x[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w*0.5362
		b6 = w * 0.115926
	}
	return atLevel(x, level)
}

// lineNoise is mains hum (60 Hz and its harmonics) over hiss, as on an
// analogue line.
func lineNoise(d time.Duration, level float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 13))
	x := make([]float64, samplesOf(d))
	for i := range x {
		t := float64(i) / vadRate
		x[i] = math.Sin(2*math.Pi*60*t) + 0.5*math.Sin(2*math.Pi*180*t+1) +
			0.3*math.Sin(2*math.Pi*300*t+2) + 0.2*math.Sin(2*math.Pi*420*t) + 0.4*rng.NormFloat64()
	}
	return atLevel(x, level)
}

// comfortNoise imitates RFC 3389 comfort noise as a gateway plays it after
// silence suppression: low-passed noise whose level changes with every SID
// update (every 100 to 400 ms, by up to ±4 dB around level).
func comfortNoise(d time.Duration, level float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 14))
	x := make([]float64, samplesOf(d))
	var lp float64
	g, next := 1.0, 0
	for i := range x {
		if i == next {
			g = math.Pow(10, (rng.Float64()*8-4)/20)
			next += samplesOf(100*time.Millisecond) + rng.IntN(samplesOf(300*time.Millisecond))
		}
		lp = 0.6*lp + 0.4*rng.NormFloat64()
		x[i] = g * lp
	}
	return atLevel(x, level)
}

// typing is keyboard clicks: short decaying noise bursts 80 to 300 ms apart.
func typing(d time.Duration, level float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 15))
	x := make([]float64, samplesOf(d))
	for at := 0; at < len(x); at += samplesOf(80*time.Millisecond) + rng.IntN(samplesOf(220*time.Millisecond)) {
		for k := 0; k < 120 && at+k < len(x); k++ {
			x[at+k] = rng.NormFloat64() * math.Exp(-float64(k)/25)
		}
	}
	return atLevel(x, level)
}

// fromSource reads d of audio from a media.Source.
func fromSource(t testing.TB, src interface{ ReadFrame([]int16) error }, d time.Duration) []int16 {
	t.Helper()
	out := make([]int16, samplesOf(d)/vadFrame*vadFrame)
	for i := 0; i < len(out); i += vadFrame {
		if err := src.ReadFrame(out[i : i+vadFrame]); err != nil {
			t.Fatalf("ReadFrame: %v", err)
		}
	}
	return out
}

func ringback(t testing.TB, country string, d time.Duration) []int16 {
	t.Helper()
	src, ok := tones.Ringback(country)
	if !ok {
		t.Fatalf("no ring tone %q", country)
	}
	return fromSource(t, src, d)
}

// tone is a steady sum of sines at level dBFS each, switched on and off with
// the cadence (on, off, ... in ms; none: continuous).
func tone(d time.Duration, freqs []float64, level float64, cadence ...int) []int16 {
	s := dsp.ToneSamples(freqs, level, d)
	if len(cadence) == 0 {
		return s
	}
	for i, pos, k := 0, 0, 0; i < len(s); i, k = i+1, k+1 {
		for k >= samplesOf(time.Duration(cadence[pos])*time.Millisecond) {
			k, pos = 0, (pos+1)%len(cadence)
		}
		if pos%2 == 1 {
			s[i] = 0
		}
	}
	return s
}

func dtmf(t testing.TB, digits string, on, off time.Duration) []int16 {
	t.Helper()
	g, err := dsp.DTMFSource(digits, on, off, -7)
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	buf := make([]int16, vadFrame)
	for g.ReadFrame(buf) == nil {
		out = append(out, buf...)
	}
	return out
}

func holdMusic(t testing.TB, d time.Duration) []int16 {
	return fromSource(t, holdmusic.New(), d)
}

// vowels are formant frequencies (F1, F2, F3) of English vowels (Peterson
// and Barney's averages for men; scaled up for higher voices).
var vowels = [][3]float64{
	{730, 1090, 2440}, // a
	{270, 2290, 3010}, // i
	{300, 870, 2240},  // u
	{530, 1840, 2480}, // e
	{570, 840, 2410},  // o
	{660, 1720, 2410}, // æ
	{490, 1350, 1690}, // ɝ
	{440, 1020, 2240}, // ʊ
}

// speechParams describe a synthetic talker.
type speechParams struct {
	f0       float64 // mean pitch, Hz
	rate     float64 // syllables a second
	words    int
	monotone bool // constant pitch and one vowel: only the syllabic rhythm
	level    float64
}

// speechLike synthesises vowel-like syllables: a harmonic source (all
// harmonics of f0 below 3.6 kHz, falling 6 dB an octave) shaped by three
// formant resonances, each syllable a burst whose amplitude rises and falls
// at the syllable rate (sin², down to silence between syllables), grouped in
// words of 2 to 4 syllables with pauses of 150 to 400 ms. The pitch falls
// across each word and is accented per syllable, with a little jitter, and
// the formants glide from one vowel to the next, as in connected speech.
// It returns the signal, with lead silence, and the span of the speech.
func speechLike(p speechParams, lead time.Duration, seed uint64) (s []int16, first, last int) {
	rng := rand.New(rand.NewPCG(seed, 16))
	var x []float64
	x = append(x, make([]float64, samplesOf(lead))...)
	first = len(x)
	phase := 0.0
	prev := vowels[0]
	scale := math.Sqrt(p.f0 / 120) // formants of higher voices are higher
	for w := range p.words {
		nsyl := 2 + rng.IntN(3)
		for syl := range nsyl {
			dur := int(vadRate / p.rate * (0.8 + 0.4*rng.Float64()))
			v := vowels[rng.IntN(len(vowels))]
			accent := 1 + 0.08*(rng.Float64()*2-1)
			if p.monotone {
				v, prev, accent = vowels[0], vowels[0], 1
			}
			jitter := 1.0
			var amps []float64
			for n := range dur {
				tau := float64(n) / float64(dur)
				f0 := p.f0
				if !p.monotone {
					// Declination over the word, accent per syllable.
					pos := (float64(syl) + tau) / float64(nsyl)
					f0 *= (1.12 - 0.22*pos) * accent
					jitter = math.Max(0.985, math.Min(1.015, jitter+0.002*rng.NormFloat64()))
					f0 *= jitter
				}
				if n%80 == 0 { // formants and harmonic amplitudes every 10 ms
					glide := math.Min(1, tau/0.3)
					var fm [3]float64
					for j := range fm {
						fm[j] = scale * (prev[j] + glide*(v[j]-prev[j]))
					}
					amps = amps[:0]
					for k := 1; float64(k)*f0 < 3600; k++ {
						f := float64(k) * f0
						a := 1 / float64(k)
						for j, bw := range [3]float64{70, 100, 140} {
							r := f / fm[j]
							a /= math.Sqrt((1-r*r)*(1-r*r) + (f*bw/(fm[j]*fm[j]))*(f*bw/(fm[j]*fm[j])))
						}
						amps = append(amps, a)
					}
				}
				env := math.Pow(math.Sin(math.Pi*tau), 2)
				var y float64
				for k, a := range amps {
					y += a * math.Sin(2*math.Pi*float64(k+1)*phase)
				}
				x = append(x, env*y)
				phase += f0 / vadRate
				phase -= math.Floor(phase)
			}
			prev = v
		}
		last = len(x)
		if w < p.words-1 {
			x = append(x, make([]float64, samplesOf(150*time.Millisecond)+rng.IntN(samplesOf(250*time.Millisecond)))...)
		}
	}
	// Level: of the speech, not of the lead silence.
	speech := atLevel(x[first:last], p.level)
	s = make([]int16, len(x))
	copy(s[first:], speech)
	return s, first, last
}

// espeakSpeech renders text with espeak-ng into a WAV file (espeak-ng -w),
// reads it with package wav and resamples it to 8 kHz.
func espeakSpeech(t testing.TB, voice string, pitch, speed int, text string) []int16 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "speech.wav")
	cmd := exec.Command("espeak-ng", "-v", voice, "-p", fmt.Sprint(pitch), "-s", fmt.Sprint(speed), "-w", path, text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v: %s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	format, s, err := wav.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if format.SampleRate == vadRate {
		return s
	}
	r, err := dsp.NewResampler(format.SampleRate, vadRate)
	if err != nil {
		t.Fatal(err)
	}
	return r.Flush(r.Process(nil, s))
}

// speechSpan is the first and last sample of the 20 ms frames of s that are
// within 40 dB of its loudest frame: where the talker talks.
func speechSpan(s []int16) (first, last int) {
	loudest := math.Inf(-1)
	for i := 0; i+vadFrame <= len(s); i += vadFrame {
		loudest = max(loudest, dsp.Level(s[i:i+vadFrame]))
	}
	first, last = -1, -1
	for i := 0; i+vadFrame <= len(s); i += vadFrame {
		if dsp.Level(s[i:i+vadFrame]) >= loudest-40 {
			if first < 0 {
				first = i
			}
			last = i + vadFrame
		}
	}
	return first, last
}

const vadText1 = `Thank you for calling. Your call is important to us. Please hold while we
connect you to the next available agent.`

const vadText2 = `Hi everyone, sorry I am late. Can you hear me? I wanted to go over the
numbers for the third quarter before we start.`

// vadCase is one signal and what the VAD must make of it.
type vadCase struct {
	name string
	// signal returns the audio and the span of speech in it, first < 0 for
	// none: then the VAD must never report speaking.
	signal func(t testing.TB) (s []int16, first, last int)
	// minCover is the share of the speech span that must be reported as
	// speaking.
	minCover float64
	espeak   bool
}

// noSpeech makes a vadCase signal of audio without speech.
func noSpeech(f func(t testing.TB) []int16) func(t testing.TB) ([]int16, int, int) {
	return func(t testing.TB) ([]int16, int, int) { return f(t), -1, -1 }
}

func vadCases() []vadCase {
	lead, tail := time.Second, 2*time.Second
	var cases []vadCase

	// Speech: espeak-ng voices, clean, quiet, through μ-law and in noise.
	// The span of speech is always that of the clean rendering.
	type voice struct {
		voice        string
		pitch, speed int
		text         string
	}
	for _, v := range []voice{
		{"en-us", 50, 175, vadText1},
		{"en-us+f3", 80, 160, vadText2},
		{"en", 20, 190, vadText1},
		{"en-us+m7", 99, 140, vadText2},
		{"en-us+f4", 65, 200, vadText1},
	} {
		name := fmt.Sprintf("espeak-ng %s pitch %d", v.voice, v.pitch)
		variant := func(suffix string, cover float64, f func(s []int16, first, last int) []int16) {
			cases = append(cases, vadCase{name: name + suffix, minCover: cover, espeak: true,
				signal: func(t testing.TB) ([]int16, int, int) {
					s := concat(silence(lead), espeakSpeech(t, v.voice, v.pitch, v.speed, v.text), silence(tail))
					first, last := speechSpan(s)
					if f != nil {
						s = f(s, first, last)
					}
					return s, first, last
				}})
		}
		variant("", 0.85, nil)
		if v.pitch == 50 || v.pitch == 80 {
			variant(" at -40 dBFS", 0.85, func(s []int16, first, last int) []int16 {
				return gain(s, -40-dsp.Level(s[first:last]))
			})
			variant(" μ-law", 0.85, func(s []int16, _, _ int) []int16 { return ulaw(s) })
		}
		variant(" + white noise, 20 dB SNR", 0.75, func(s []int16, first, last int) []int16 {
			return mix(s, whiteNoise(at(len(s)), dsp.Level(s[first:last])-20, 1), 0)
		})
	}

	// Synthetic speech-like bursts: harmonic vowels at syllabic rates.
	for i, p := range []speechParams{
		{f0: 110, rate: 4, words: 8, level: -22},
		{f0: 210, rate: 5, words: 8, level: -22},
		{f0: 130, rate: 3, words: 6, level: -22},
		{f0: 250, rate: 6, words: 10, level: -22},
		{f0: 120, rate: 4.5, words: 8, level: -38},
		{f0: 150, rate: 4, words: 8, monotone: true, level: -22},
	} {
		name := fmt.Sprintf("vowel bursts %g Hz, %g syllables/s, %g dBFS", p.f0, p.rate, p.level)
		if p.monotone {
			name += ", monotone"
		}
		speech := func() ([]int16, int, int) {
			s, first, last := speechLike(p, lead, uint64(i))
			return concat(s, silence(tail)), first, last
		}
		cases = append(cases, vadCase{name: name, minCover: 0.85,
			signal: func(testing.TB) ([]int16, int, int) { return speech() }})
		if i == 0 {
			cases = append(cases,
				vadCase{name: name + " + pink noise, 15 dB SNR", minCover: 0.75,
					signal: func(testing.TB) ([]int16, int, int) {
						s, first, last := speech()
						return mix(s, pinkNoise(at(len(s)), p.level-15, 2), 0), first, last
					}},
				vadCase{name: name + ", hold music 15 dB down", minCover: 0.75,
					signal: func(t testing.TB) ([]int16, int, int) {
						s, first, last := speech()
						d := samplesOf(3 * time.Second) // the music plays alone first
						s = concat(silence(at(d)), s)
						music := gain(holdMusic(t, at(len(s))), p.level-15-holdmusic.Level)
						return mix(music, s, 0), first + d, last + d
					}},
			)
		}
	}

	// Not speech.
	none := func(name string, f func(t testing.TB) []int16) {
		cases = append(cases, vadCase{name: name, signal: noSpeech(f)})
	}
	none("digital silence", func(testing.TB) []int16 { return silence(10 * time.Second) })
	for _, l := range []float64{-50, -42, -35} {
		none(fmt.Sprintf("white noise %g dBFS", l), func(testing.TB) []int16 { return whiteNoise(20*time.Second, l, 3) })
		none(fmt.Sprintf("pink noise %g dBFS", l), func(testing.TB) []int16 { return pinkNoise(20*time.Second, l, 4) })
	}
	none("line noise (60 Hz hum and hiss) -40 dBFS", func(testing.TB) []int16 { return lineNoise(20*time.Second, -40, 5) })
	none("comfort noise -60 dBFS", func(testing.TB) []int16 { return comfortNoise(20*time.Second, -60, 6) })
	none("comfort noise -45 dBFS", func(testing.TB) []int16 { return comfortNoise(20*time.Second, -45, 7) })
	none("silence, then white noise -35 dBFS", func(testing.TB) []int16 {
		return concat(silence(2*time.Second), whiteNoise(10*time.Second, -35, 8))
	})
	none("keyboard typing -25 dBFS, noise -55 dBFS", func(testing.TB) []int16 {
		return mix(typing(20*time.Second, -25, 9), whiteNoise(20*time.Second, -55, 10), 0)
	})
	for _, c := range []string{"us", "uk", "de", "jp", "au", "fr"} {
		none("ring tone "+c, func(t testing.TB) []int16 { return ringback(t, c, 20*time.Second) })
	}
	none("ring tone us, noise -45 dBFS", func(t testing.TB) []int16 {
		return mix(ringback(t, "us", 20*time.Second), whiteNoise(20*time.Second, -45, 11), 0)
	})
	none("ring tone uk at -35 dBFS, noise -50 dBFS", func(t testing.TB) []int16 {
		r := ringback(t, "uk", 20*time.Second)
		return mix(gain(r, -35-dsp.Level(r[:samplesOf(400*time.Millisecond)])), whiteNoise(20*time.Second, -50, 12), 0)
	})
	none("dial tone 350+440 Hz", func(testing.TB) []int16 {
		return concat(silence(time.Second), tone(10*time.Second, []float64{350, 440}, -16))
	})
	none("busy tone 480+620 Hz", func(testing.TB) []int16 {
		return concat(silence(time.Second), tone(10*time.Second, []float64{480, 620}, -16, 500, 500))
	})
	none("1 kHz test tone -10 dBFS", func(testing.TB) []int16 {
		return concat(silence(time.Second), tone(5*time.Second, []float64{1000}, -10))
	})
	none("DTMF digits, 100 ms", func(t testing.TB) []int16 {
		return concat(silence(time.Second), dtmf(t, "1234567890*#ABCD", 100*time.Millisecond, 100*time.Millisecond))
	})
	none("DTMF digits, 400 ms", func(t testing.TB) []int16 {
		return concat(silence(time.Second), dtmf(t, "5550123", 400*time.Millisecond, 150*time.Millisecond))
	})
	none("DTMF digits, noise -45 dBFS", func(t testing.TB) []int16 {
		d := concat(silence(time.Second), dtmf(t, "8675309", 150*time.Millisecond, 100*time.Millisecond))
		return mix(d, whiteNoise(at(len(d)), -45, 13), 0)
	})

	// Hold music: a full loop and more, from its start, after silence or
	// line noise, quieter, through μ-law, over noise.
	loop := holdmusic.Loop() + 5*time.Second
	none("hold music", func(t testing.TB) []int16 { return holdMusic(t, loop) })
	none("silence, then hold music", func(t testing.TB) []int16 {
		return concat(silence(2*time.Second), holdMusic(t, loop))
	})
	none("line noise -50 dBFS, then hold music", func(t testing.TB) []int16 {
		return concat(whiteNoise(2*time.Second, -50, 14), holdMusic(t, loop))
	})
	none("hold music at -35 dBFS", func(t testing.TB) []int16 {
		return concat(silence(time.Second), gain(holdMusic(t, loop), -35-holdmusic.Level))
	})
	none("hold music μ-law", func(t testing.TB) []int16 { return ulaw(holdMusic(t, loop)) })
	none("hold music, noise -45 dBFS", func(t testing.TB) []int16 {
		m := concat(silence(time.Second), holdMusic(t, loop))
		return mix(m, whiteNoise(at(len(m)), -45, 15), 0)
	})
	return cases
}

// TestVAD runs every signal through a VAD with the default configuration and
// checks what it reports: never speaking for anything but speech; for speech,
// a start within 600 ms of the first sound, most of the speech covered, no
// flapping, and a stop within the hangover (and a little) of the last sound.
func TestVAD(t *testing.T) {
	haveEspeak := true
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		haveEspeak = false
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-72s %7s %6s %9s %6s  %s\n", "signal", "length", "starts", "speaking", "cover", "events (s)")
	for _, c := range vadCases() {
		t.Run(c.name, func(t *testing.T) {
			if c.espeak && !haveEspeak {
				t.Skip("espeak-ng not installed")
			}
			s, first, last := c.signal(t)
			r := runVAD(dsp.VADConfig{}, s)
			cover := "-"
			defer func() {
				fmt.Fprintf(&table, "%-72s %6.1fs %6d %8.1fs %6s  %s\n", c.name, at(len(s)).Seconds(),
					len(r.starts), r.speakingTime().Seconds(), cover, r.events())
			}()
			if first < 0 {
				if len(r.starts) > 0 {
					t.Errorf("speech reported: %s", r.events())
				}
				return
			}
			if len(r.starts) == 0 {
				t.Fatalf("no speech reported (speech from %v to %v)", at(first), at(last))
			}
			if d := at(r.starts[0] - first); d < 0 || d > 600*time.Millisecond {
				t.Errorf("first start %v after the speech began", d)
			}
			n, on := 0, 0
			for k := first / vadFrame; k < last/vadFrame; k++ {
				n++
				if r.speaking[k] {
					on++
				}
			}
			cv := float64(on) / float64(n)
			cover = fmt.Sprintf("%.0f%%", 100*cv)
			if cv < c.minCover {
				t.Errorf("speaking for %.0f %% of the speech, want at least %.0f %%", 100*cv, 100*c.minCover)
			}
			if max := 1 + int(at(last-first)/(2*time.Second)); len(r.starts) > max {
				t.Errorf("%d starts in %v of speech: flapping", len(r.starts), at(last-first))
			}
			if len(r.stops) != len(r.starts) {
				t.Fatalf("%d starts, %d stops: speech did not stop after the end", len(r.starts), len(r.stops))
			}
			if d := at(r.stops[len(r.stops)-1] - last); d < 200*time.Millisecond || d > 900*time.Millisecond {
				t.Errorf("last stop %v after the speech ended, want the hangover (600 ms) or a little less", d)
			}
		})
	}
	t.Log(table.String())
}

// TestVADTiming checks the onset and the hangover, with the defaults and
// configured: speech starts about Onset after the talker starts, and stops
// Hangover after the last syllable has faded. With the default hangover the
// pauses between words (up to 400 ms, and the fading syllables around them)
// do not stop the speech; with a hangover of 300 ms they do.
func TestVADTiming(t *testing.T) {
	s, first, last := speechLike(speechParams{f0: 140, rate: 4, words: 5, level: -24}, time.Second, 42)
	s = concat(s, silence(2*time.Second))
	tests := []struct {
		cfg                dsp.VADConfig
		starts             int           // 0: more than one
		startMin, startMax time.Duration // first start, after first
		stopMin, stopMax   time.Duration // last stop, after last
	}{
		{dsp.VADConfig{}, 1, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, 650 * time.Millisecond},
		{dsp.VADConfig{Hangover: 1500 * time.Millisecond}, 1, 100 * time.Millisecond, 250 * time.Millisecond, 1400 * time.Millisecond, 1550 * time.Millisecond},
		{dsp.VADConfig{Hangover: 300 * time.Millisecond}, 0, 100 * time.Millisecond, 250 * time.Millisecond, 200 * time.Millisecond, 350 * time.Millisecond},
		{dsp.VADConfig{Onset: 40 * time.Millisecond}, 1, 40 * time.Millisecond, 150 * time.Millisecond, 500 * time.Millisecond, 650 * time.Millisecond},
		{dsp.VADConfig{Onset: 200 * time.Millisecond}, 1, 200 * time.Millisecond, 600 * time.Millisecond, 500 * time.Millisecond, 650 * time.Millisecond},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("onset %v hangover %v", tt.cfg.Onset, tt.cfg.Hangover)
		name = strings.ReplaceAll(name, " 0s", " default")
		t.Run(name, func(t *testing.T) {
			r := runVAD(tt.cfg, s)
			t.Logf("speech %.2f to %.2f s, events %s", at(first).Seconds(), at(last).Seconds(), r.events())
			if len(r.starts) == 0 || len(r.stops) != len(r.starts) {
				t.Fatalf("events %s", r.events())
			}
			if tt.starts > 0 && len(r.starts) != tt.starts || tt.starts == 0 && len(r.starts) < 2 {
				t.Errorf("%d starts", len(r.starts))
			}
			if d := at(r.starts[0] - first); d < tt.startMin || d > tt.startMax {
				t.Errorf("start %v after the speech, want %v to %v", d, tt.startMin, tt.startMax)
			}
			if d := at(r.stops[len(r.stops)-1] - last); d < tt.stopMin || d > tt.stopMax {
				t.Errorf("stop %v after the speech, want %v to %v", d, tt.stopMin, tt.stopMax)
			}
		})
	}
}

// TestVADShortSounds: a single short syllable ("mm", "uh") now and then, a
// cough-like burst or a click is shorter than the onset and never starts
// speech.
func TestVADShortSounds(t *testing.T) {
	syllable, first, last := speechLike(speechParams{f0: 130, rate: 16, words: 1, level: -20}, 0, 7)
	syllable = syllable[first:min(last, first+samplesOf(60*time.Millisecond))]
	cough := whiteNoise(80*time.Millisecond, -15, 8)
	click := []int16{20000, -20000, 15000, -8000}
	var s []int16
	for range 10 {
		s = concat(s, silence(time.Second), syllable, silence(700*time.Millisecond), cough,
			silence(600*time.Millisecond), click)
	}
	if r := runVAD(dsp.VADConfig{}, s); len(r.starts) > 0 {
		t.Errorf("short sounds started speech: %s", r.events())
	}
}

// TestVADChunking: frames of other lengths are analysed in 20 ms pieces, so
// the state after any call is the state after the last whole frame fed.
func TestVADChunking(t *testing.T) {
	s, _, _ := speechLike(speechParams{f0: 180, rate: 5, words: 4, level: -20}, 500*time.Millisecond, 3)
	s = concat(s, silence(time.Second))
	want := runVAD(dsp.VADConfig{}, s)
	for _, sizes := range [][]int{{1}, {7, 333, 80}, {320}, {159, 161}, {0, 1000}} {
		v := dsp.NewVAD(dsp.VADConfig{})
		speaking := false
		for pos, k := 0, 0; pos < len(s); k++ {
			n := min(sizes[k%len(sizes)], len(s)-pos)
			changed, now := v.Process(s[pos : pos+n])
			if changed != (now != speaking) || now != v.Speaking() {
				t.Fatalf("sizes %v at %v: changed %v, speaking %v after %v", sizes, at(pos), changed, now, speaking)
			}
			pos += n
			speaking = now
			if frames := pos / vadFrame; frames > 0 && speaking != want.speaking[frames-1] {
				t.Fatalf("sizes %v at %v: speaking %v, frame by frame %v", sizes, at(pos), speaking, want.speaking[frames-1])
			}
		}
	}
}

func TestVADReset(t *testing.T) {
	s, _, _ := speechLike(speechParams{f0: 120, rate: 4, words: 3, level: -20}, 500*time.Millisecond, 5)
	v := dsp.NewVAD(dsp.VADConfig{})
	if f := v.NoiseFloor(); !math.IsInf(f, -1) {
		t.Errorf("NoiseFloor before any audio = %v", f)
	}
	for i := 0; i+vadFrame <= samplesOf(2*time.Second); i += vadFrame {
		v.Process(s[i : i+vadFrame])
	}
	if !v.Speaking() {
		t.Fatal("not speaking in the middle of speech")
	}
	v.Reset()
	if v.Speaking() || !math.IsInf(v.NoiseFloor(), -1) {
		t.Fatal("Reset kept the state")
	}
	want := runVAD(dsp.VADConfig{}, s)
	for i := 0; i+vadFrame <= len(s); i += vadFrame {
		if _, sp := v.Process(s[i : i+vadFrame]); sp != want.speaking[i/vadFrame] {
			t.Fatalf("after Reset, at %v: speaking %v, a new VAD %v", at(i), sp, !sp)
		}
	}
}

// TestVADNoiseFloor: the floor follows the background, down at once and up
// within 1.6 s.
func TestVADNoiseFloor(t *testing.T) {
	v := dsp.NewVAD(dsp.VADConfig{})
	feed := func(s []int16) {
		for i := 0; i+vadFrame <= len(s); i += vadFrame {
			v.Process(s[i : i+vadFrame])
		}
	}
	for _, step := range []struct {
		level float64
		d     time.Duration
	}{{-40, 3 * time.Second}, {-60, 100 * time.Millisecond}, {-30, 2 * time.Second}} {
		feed(whiteNoise(step.d, step.level, 1))
		if f := v.NoiseFloor(); f < step.level-5 || f > step.level+2 {
			t.Errorf("after %v of noise at %g dBFS: floor %.1f dBFS", step.d, step.level, f)
		}
	}
}

func TestVADAllocs(t *testing.T) {
	s, _, _ := speechLike(speechParams{f0: 120, rate: 4, words: 3, level: -20}, 0, 5)
	v := dsp.NewVAD(dsp.VADConfig{})
	i := 0
	if n := testing.AllocsPerRun(500, func() {
		if i+vadFrame > len(s) {
			i = 0
		}
		v.Process(s[i : i+vadFrame])
		i += vadFrame
	}); n != 0 {
		t.Errorf("Process allocates %v times a frame", n)
	}
}

// BenchmarkVAD measures Process per 20 ms frame: speech (every test runs),
// music and noise (the spectrum, most tests) and silence (the level only).
func BenchmarkVAD(b *testing.B) {
	speech, _, _ := speechLike(speechParams{f0: 130, rate: 4, words: 6, level: -20}, 0, 9)
	for _, bc := range []struct {
		name string
		s    []int16
	}{
		{"speech", speech},
		{"music", holdMusic(b, 10*time.Second)},
		{"noise", whiteNoise(10*time.Second, -45, 1)},
		{"silence", silence(10 * time.Second)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v := dsp.NewVAD(dsp.VADConfig{})
			b.ReportAllocs()
			b.SetBytes(2 * vadFrame)
			i := 0
			for b.Loop() {
				if i+vadFrame > len(bc.s) {
					i = 0
				}
				v.Process(bc.s[i : i+vadFrame])
				i += vadFrame
			}
		})
	}
}
