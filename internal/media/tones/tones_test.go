package tones_test

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/tones"
)

const (
	rate  = media.SampleRate
	frame = media.FrameSamples
	// seconds of audio each country is checked over: two cycles of the
	// longest cadence (6 s).
	seconds = 12
	// ramp is the rise and fall of each on period the package documents.
	ramp = 40
	// level is the documented total power of every tone, in dBm0.
	level = -13.0
)

// twilio is Twilio's list of <Dial ringTone> values.
const twilio = "at au bg br be ch cl cn cz de dk ee es fi fr gr hu il in it lt jp mx my nl no nz ph pl pt ru se sg th uk us us-old tw ve za"

// want is every country's ringing tone, written out again independently of
// table.go, in ITU-T E.180's notation: the frequencies ("425", "440+480" for
// two tones, "400*16" for 400 Hz modulated by 16 Hz, at depth), and the cadence
// in seconds, on and off alternately.
var want = []wantTone{
	{"at", "420", "1.0-5.0", 0},
	{"au", "425*25", "0.4-0.2-0.4-2.0", 0.9},
	{"bg", "425", "1.0-4.0", 0},
	{"br", "425", "1.0-4.0", 0},
	{"be", "425", "1.0-3.0", 0},
	{"ch", "425", "1.0-4.0", 0},
	{"cl", "400", "1.0-3.0", 0},
	{"cn", "450", "1.0-4.0", 0},
	{"cz", "425", "1.0-4.0", 0},
	{"de", "425", "1.0-4.0", 0},
	{"dk", "425", "1.0-4.0", 0},
	{"ee", "425", "1.0-4.0", 0},
	{"es", "425", "1.5-3.0", 0},
	{"fi", "425", "1.0-4.0", 0},
	{"fr", "440", "1.5-3.5", 0},
	{"gr", "425", "1.0-4.0", 0},
	{"hu", "425", "1.25-3.75", 0},
	{"il", "414", "1.0-3.0", 0},
	{"in", "400*25", "0.4-0.2-0.4-2.0", 0.9},
	{"it", "425", "1.0-4.0", 0},
	{"lt", "425", "1.0-4.0", 0},
	{"jp", "400*16", "1.0-2.0", 0.9},
	{"mx", "425", "1.0-4.0", 0},
	{"my", "425", "0.4-0.2-0.4-2.0", 0},
	{"nl", "425", "1.0-4.0", 0},
	{"no", "425", "1.0-4.0", 0},
	{"nz", "400+450", "0.4-0.2-0.4-2.0", 0},
	{"ph", "425+480", "1.0-4.0", 0},
	{"pl", "425", "1.0-4.0", 0},
	{"pt", "425", "1.0-5.0", 0},
	{"ru", "425", "1.0-4.0", 0},
	{"se", "425", "1.0-5.0", 0},
	{"sg", "425*24", "0.4-0.2-0.4-2.0", 1},
	{"th", "420", "1.0-5.0", 0},
	{"uk", "400+450", "0.4-0.2-0.4-2.0", 0},
	{"us", "440+480", "2.0-4.0", 0},
	{"us-old", "420*40", "2.0-4.0", 0.9},
	{"tw", "440+480", "1.0-2.0", 0},
	{"ve", "425", "1.0-4.0", 0},
	{"za", "400*33", "0.4-0.2-0.4-2.0", 0.9},
}

type wantTone struct {
	country, freq, cadence string
	depth                  float64
}

// sine is one frequency of a tone and its peak in PCM.
type sine struct{ freq, amp float64 }

// levelPeak is the peak of a sine at dbm0 (G.711: full scale is +3.17 dBm0).
func levelPeak(dbm0 float64) float64 { return 32767 * math.Pow(10, (dbm0-3.17)/20) }

// toDBm0 converts a mean square to dBm0.
func toDBm0(meanSq float64) float64 { return dsp.DBFS(math.Sqrt(meanSq)) + 3.17 }

// parseFreq turns E.180 notation into sines whose total power is level.
func parseFreq(t *testing.T, s string, depth float64) []sine {
	t.Helper()
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("bad frequency %q", s)
		}
		return v
	}
	a := levelPeak(level)
	if f1, f2, ok := strings.Cut(s, "+"); ok {
		return []sine{{num(f1), a / math.Sqrt2}, {num(f2), a / math.Sqrt2}}
	}
	if fc, fm, ok := strings.Cut(s, "*"); ok {
		c, m := num(fc), num(fm)
		// (1 + d·cos ωm t)·sin ωc t has the power of (1 + d²/2) carriers.
		ac := a / math.Sqrt(1+depth*depth/2)
		return []sine{{c, ac}, {c - m, ac * depth / 2}, {c + m, ac * depth / 2}}
	}
	return []sine{{num(s), a}}
}

// parseCadence turns "0.4-0.2-0.4-2.0" into periods in samples.
func parseCadence(t *testing.T, s string) []int {
	t.Helper()
	var out []int
	for f := range strings.SplitSeq(s, "-") {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("bad cadence %q", s)
		}
		out = append(out, int(math.Round(v*rate)))
	}
	if len(out)%2 != 0 {
		t.Fatalf("cadence %q: odd number of periods", s)
	}
	return out
}

// period is one on period of the cadence, as samples [start, end).
type period struct{ start, end int }

// onPeriods lists the on periods that end within n samples.
func onPeriods(cadence []int, n int) []period {
	var out []period
	for at, i := 0, 0; ; i++ {
		d := cadence[i%len(cadence)]
		if at+d > n {
			return out
		}
		if i%2 == 0 {
			out = append(out, period{at, at + d})
		}
		at += d
	}
}

// generate reads n samples from src in frames of FrameSamples.
func generate(t testing.TB, src media.Source, n int) []int16 {
	t.Helper()
	out := make([]int16, n)
	for i := 0; i < n; i += frame {
		if err := src.ReadFrame(out[i : i+frame]); err != nil {
			t.Fatalf("ReadFrame at sample %d: %v", i, err)
		}
	}
	return out
}

func ringback(t testing.TB, country string) media.Source {
	t.Helper()
	src, ok := tones.Ringback(country)
	if !ok || src == nil {
		t.Fatalf("Ringback(%q) = %v, %v", country, src, ok)
	}
	return src
}

func meanSquare(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s / float64(len(x))
}

func TestCountries(t *testing.T) {
	got := tones.Countries()
	list := strings.Fields(twilio)
	slices.Sort(list)
	if !slices.Equal(got, list) {
		t.Fatalf("Countries() = %v\nwant Twilio's %v", got, list)
	}
	var tested []string
	for _, w := range want {
		tested = append(tested, w.country)
	}
	slices.Sort(tested)
	if !slices.Equal(tested, list) {
		t.Fatalf("the test table covers %v, want %v", tested, list)
	}
	got[0] = "changed"
	if tones.Countries()[0] == "changed" {
		t.Error("Countries returns the package's own slice")
	}
	for _, c := range list {
		ringback(t, c)
	}
}

func TestUnknownCountry(t *testing.T) {
	for _, c := range []string{"", "xx", "gb", "usa", "us_old", "US", "De", " us", "uk ", "u"} {
		if src, ok := tones.Ringback(c); ok || src != nil {
			t.Errorf("Ringback(%q) = %v, %v; want nil, false", c, src, ok)
		}
	}
}

// TestCadence measures the energy of every 20 ms frame over 12 s: frames
// wholly inside an on period sound, frames wholly inside an off period are
// silent, and the runs of sounding and silent frames match the cadence within
// one frame.
func TestCadence(t *testing.T) {
	for _, w := range want {
		t.Run(w.country, func(t *testing.T) {
			t.Parallel()
			cadence := parseCadence(t, w.cadence)
			x := generate(t, ringback(t, w.country), seconds*rate)
			// A frame sounds if its RMS is over 1 % of the tone's (40 dB
			// down): a modulated tone's troughs can be deep, while silence
			// is zero.
			threshold := levelPeak(level) / math.Sqrt2 / 100
			frames := len(x) / frame
			on := make([]bool, frames)
			for k := range on {
				on[k] = math.Sqrt(meanSquare(x[k*frame:(k+1)*frame])) > threshold
			}

			// Frame by frame against the cadence.
			inOn := make([]bool, len(x))
			for _, p := range onPeriods(cadence, 2*len(x)) {
				for i := p.start; i < min(p.end, len(x)); i++ {
					inOn[i] = true
				}
			}
			bad := 0
			for k := range frames {
				f := inOn[k*frame : (k+1)*frame]
				switch {
				case !slices.Contains(f, false) && !on[k]:
					bad++
					t.Errorf("frame %d (%v) is inside an on period but silent", k, frameTime(k))
				case !slices.Contains(f, true) && slices.ContainsFunc(x[k*frame:(k+1)*frame], func(v int16) bool { return v != 0 }):
					bad++
					t.Errorf("frame %d (%v) is inside an off period but not silent", k, frameTime(k))
				}
				if bad == 5 {
					t.Fatal("giving up")
				}
			}

			// Runs of on and off frames against the cadence.
			type run struct {
				on bool
				n  int
			}
			var runs []run
			for _, o := range on {
				if len(runs) > 0 && runs[len(runs)-1].on == o {
					runs[len(runs)-1].n++
				} else {
					runs = append(runs, run{o, 1})
				}
			}
			if !runs[0].on {
				t.Fatalf("the tone starts with %d silent frames", runs[0].n)
			}
			complete := runs[:len(runs)-1] // the last may be cut short
			if len(complete) < len(cadence) {
				t.Fatalf("only %d complete on/off periods in %d s", len(complete), seconds)
			}
			for j, r := range complete {
				d := cadence[j%len(cadence)]
				if r.on != (j%2 == 0) || abs(r.n*frame-d) > frame {
					t.Fatalf("period %d: %v for %d frames (%v), want %v for %v ±1 frame; runs %v",
						j, onOff(r.on), r.n, frameTime(r.n), onOff(j%2 == 0), sampleTime(d), runs)
				}
			}
		})
	}
}

// TestFrequencies checks the spectrum of every on period (less a frame at each
// end): each frequency of the tone has its share of the power within 1 dB,
// together they carry all of it, and the frequencies other countries use are
// at least 30 dB down.
func TestFrequencies(t *testing.T) {
	others := []float64{350, 380, 400, 414, 420, 425, 440, 450, 480, 500, 620, 950, 1400}
	for _, w := range want {
		t.Run(w.country, func(t *testing.T) {
			t.Parallel()
			sines := parseFreq(t, w.freq, w.depth)
			cadence := parseCadence(t, w.cadence)
			x := generate(t, ringback(t, w.country), seconds*rate)
			periods := onPeriods(cadence, len(x))
			if len(periods) < 2 {
				t.Fatalf("only %d on periods", len(periods))
			}
			for _, p := range periods {
				block := x[p.start+frame : p.end-frame]
				total := meanSquare(block)
				var sum float64
				for _, s := range sines {
					got := dsp.GoertzelPower(block, s.freq, rate)
					sum += got
					if d := 10 * math.Log10(got/(s.amp*s.amp/2)); math.Abs(d) > 1 {
						t.Errorf("%v: %g Hz is %+.2f dB from its share of the tone", sampleTime(p.start), s.freq, d)
					}
				}
				if r := sum / total; r < 0.95 || r > 1.05 {
					t.Errorf("%v: the tone's frequencies carry %.1f %% of the power", sampleTime(p.start), 100*r)
				}

				// Off-frequencies, through a Hann window so that a
				// component nearby does not leak into them.
				win := hann(block)
				var strongest float64
				for _, s := range sines {
					strongest = max(strongest, dsp.GoertzelPower(win, s.freq, rate))
				}
				for _, f := range others {
					if slices.ContainsFunc(sines, func(s sine) bool { return math.Abs(s.freq-f) < 15 }) {
						continue
					}
					if d := 10 * math.Log10(dsp.GoertzelPower(win, f, rate)/strongest); d > -30 {
						t.Errorf("%v: %g Hz is at %+.1f dB relative to the tone, want -30 dB or less", sampleTime(p.start), f, d)
					}
				}
			}
		})
	}
}

// TestLevel checks the level of every on period and the peak of the whole.
func TestLevel(t *testing.T) {
	if tones.Level != level {
		t.Errorf("Level = %v dBm0, documented as %v", tones.Level, level)
	}
	for _, w := range want {
		t.Run(w.country, func(t *testing.T) {
			t.Parallel()
			x := generate(t, ringback(t, w.country), seconds*rate)
			for _, p := range onPeriods(parseCadence(t, w.cadence), len(x)) {
				if got := toDBm0(meanSquare(x[p.start+frame : p.end-frame])); math.Abs(got-level) > 0.25 {
					t.Errorf("%v: level %.2f dBm0, want %.2f", sampleTime(p.start), got, level)
				}
			}
			var peak float64
			for _, v := range x {
				peak = max(peak, math.Abs(float64(v)))
			}
			if peak > 0.3*32767 || peak < 0.1*32767 {
				t.Errorf("peak %.0f (%.3f of full scale), want 0.1 to 0.3", peak, peak/32767)
			}
		})
	}
}

// TestWaveform checks the samples themselves against the tone computed
// directly, sample n of a frequency being sin(2π·f·n/8000) at any distance
// from the start: exact (±1 LSB) inside the on periods, so the phase runs on
// without a break across frames and periods; silent in the off periods; and
// rising and falling over the 5 ms ramps, with no step larger than the tone's
// own slope allows.
func TestWaveform(t *testing.T) {
	for _, w := range want {
		t.Run(w.country, func(t *testing.T) {
			t.Parallel()
			sines := parseFreq(t, w.freq, w.depth)
			cadence := parseCadence(t, w.cadence)
			x := generate(t, ringback(t, w.country), seconds*rate)
			checkWaveform(t, x, 0, sines, cadence)
		})
	}
}

// checkWaveform checks x, which starts first samples into the tone.
func checkWaveform(t *testing.T, x []int16, first int, sines []sine, cadence []int) {
	t.Helper()
	ref := func(n int) float64 {
		var v float64
		for _, s := range sines {
			v += s.amp * math.Sin(2*math.Pi*math.Mod(s.freq*float64(n), rate)/rate)
		}
		return v
	}
	var peak, slope float64
	for _, s := range sines {
		peak += s.amp
		slope += s.amp * 2 * math.Pi * s.freq / rate
	}
	// The largest step: the tone's slope plus the ramp's (0.5·π/40 per sample).
	maxStep := slope + peak*0.5*math.Pi/ramp + 2

	var cycle int
	for _, d := range cadence {
		cycle += d
	}
	errs := 0
	fail := func(format string, args ...any) {
		if errs++; errs <= 10 {
			t.Errorf(format, args...)
		}
	}
	for i, v := range x {
		n := first + i
		// Where is n in the cadence?
		pos, seg := n%cycle, 0
		for pos >= cadence[seg] {
			pos -= cadence[seg]
			seg++
		}
		length := cadence[seg]
		r := ref(n)
		switch {
		case seg%2 == 1:
			if v != 0 {
				fail("sample %d (%v): %d in an off period", n, sampleTime(n), v)
			}
		case pos >= ramp && pos < length-ramp:
			if math.Abs(float64(v)-r) > 1 {
				fail("sample %d (%v): %d, want %.1f", n, sampleTime(n), v, r)
			}
		default: // in a ramp
			if math.Abs(float64(v)) > math.Abs(r)+1 {
				fail("sample %d (%v): %d in a ramp exceeds the tone's %.1f", n, sampleTime(n), v, r)
			}
			if (pos == 0 || pos == length-1) && math.Abs(float64(v)) > 0.02*peak {
				fail("sample %d (%v): %d at the edge of an on period", n, sampleTime(n), v)
			}
		}
		if i > 0 && math.Abs(float64(v)-float64(x[i-1])) > maxStep {
			fail("sample %d (%v): step of %d, more than %.0f", n, sampleTime(n), int(v)-int(x[i-1]), maxStep)
		}
	}
}

// TestFrameSizes reads in pieces of odd sizes, across every kind of
// boundary, and gets the same samples as in whole frames.
func TestFrameSizes(t *testing.T) {
	for _, c := range []string{"uk", "jp", "hu", "us"} {
		t.Run(c, func(t *testing.T) {
			wantX := generate(t, ringback(t, c), seconds*rate)
			src := ringback(t, c)
			got := make([]int16, len(wantX))
			sizes := []int{1, 7, 160, 333, 39, 2000, 41, 80}
			for i, k := 0, 0; i < len(got); k++ {
				n := min(sizes[k%len(sizes)], len(got)-i)
				if err := src.ReadFrame(got[i : i+n]); err != nil {
					t.Fatal(err)
				}
				i += n
			}
			for i := range got {
				if got[i] != wantX[i] {
					t.Fatalf("sample %d: %d in odd pieces, %d in frames", i, got[i], wantX[i])
				}
			}
		})
	}
}

// TestEndless plays an hour and checks that the tone is still exact, in
// phase and in cadence, and that ReadFrame never failed.
func TestEndless(t *testing.T) {
	if testing.Short() {
		t.Skip("an hour of audio")
	}
	for _, c := range []string{"jp", "hu"} {
		t.Run(c, func(t *testing.T) {
			w := want[slices.IndexFunc(want, func(w wantTone) bool { return w.country == c })]
			src := ringback(t, c)
			buf := make([]int16, frame)
			skip := 3600 * rate
			for i := 0; i < skip; i += frame {
				if err := src.ReadFrame(buf); err != nil {
					t.Fatalf("ReadFrame after %v: %v", sampleTime(i), err)
				}
			}
			x := generate(t, src, seconds*rate)
			checkWaveform(t, x, skip, parseFreq(t, w.freq, w.depth), parseCadence(t, w.cadence))
		})
	}
}

// TestIndependent checks that each Ringback is a source of its own.
func TestIndependent(t *testing.T) {
	a, b := ringback(t, "us"), ringback(t, "us")
	generate(t, a, 7*frame)
	x := generate(t, b, frame)
	y := generate(t, ringback(t, "us"), frame)
	if !slices.Equal(x, y) {
		t.Error("reading one source moved another")
	}
}

func TestReadFrameAllocs(t *testing.T) {
	for _, c := range tones.Countries() {
		src := ringback(t, c)
		buf := make([]int16, frame)
		if n := testing.AllocsPerRun(500, func() { _ = src.ReadFrame(buf) }); n != 0 {
			t.Errorf("%s: ReadFrame allocates %v times a frame", c, n)
		}
	}
}

func BenchmarkRingback(b *testing.B) {
	for _, c := range []string{"de", "us", "uk", "jp"} {
		b.Run(c, func(b *testing.B) {
			src := ringback(b, c)
			buf := make([]int16, frame)
			b.ReportAllocs()
			b.SetBytes(2 * int64(frame))
			for b.Loop() {
				_ = src.ReadFrame(buf)
			}
		})
	}
}

func hann(x []int16) []int16 {
	out := make([]int16, len(x))
	n := float64(len(x) - 1)
	for i, v := range x {
		out[i] = int16(math.Round(float64(v) * (0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/n))))
	}
	return out
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func sampleTime(n int) string { return fmt.Sprintf("%.3fs", float64(n)/rate) }
func frameTime(k int) string  { return sampleTime(k * frame) }
