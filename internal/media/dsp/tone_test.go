package dsp

import (
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

// readAll drains a source in frames of 160 samples, at most limit frames.
func readAll(t testing.TB, s interface{ ReadFrame([]int16) error }, limit int) (samples []int16, frames int) {
	t.Helper()
	frame := make([]int16, 160)
	for range limit {
		err := s.ReadFrame(frame)
		if errors.Is(err, io.EOF) {
			return samples, frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames++
		samples = append(samples, frame...)
	}
	return samples, frames
}

func TestToneSource(t *testing.T) {
	tests := []struct {
		name   string
		freqs  []float64
		level  float64
		d      time.Duration
		frames int
	}{
		{"1 kHz", []float64{1000}, -10, time.Second, 50},
		{"440 Hz quiet", []float64{440}, -40, 100 * time.Millisecond, 5},
		{"partial last frame", []float64{1000}, -10, 25 * time.Millisecond, 2},
		{"dual tone", []float64{350, 440}, -13, 200 * time.Millisecond, 10},
		{"zero length", []float64{1000}, -10, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := ToneSource(tt.freqs, tt.level, tt.d)
			if g.Duration() != tt.d {
				t.Errorf("Duration() = %v", g.Duration())
			}
			samples, frames := readAll(t, g, 1000)
			if frames != tt.frames {
				t.Fatalf("%d frames, want %d", frames, tt.frames)
			}
			if frames == 0 {
				return
			}
			n := int(tt.d.Seconds() * 8000)
			for _, v := range samples[n:] {
				if v != 0 {
					t.Fatal("padding is not silence")
				}
			}
			body := samples[:n]
			for _, f := range tt.freqs {
				if l := NewGoertzel(f, 8000).Level(body); math.Abs(l-tt.level) > 0.3 {
					t.Errorf("%g Hz at %.2f dBFS, want %.0f", f, l, tt.level)
				}
			}
			if len(tt.freqs) == 1 {
				if l := Level(body); math.Abs(l-tt.level) > 0.2 {
					t.Errorf("Level = %.2f dBFS, want %.0f", l, tt.level)
				}
			}
			if p := GoertzelPower(body, 2500, 8000); p > Amplitude(tt.level-40)*Amplitude(tt.level-40) {
				t.Errorf("energy at 2.5 kHz: %g", p)
			}
		})
	}
}

func TestToneForeverAndClipping(t *testing.T) {
	g := ToneSource([]float64{300, 301, 302}, 0, Forever) // three full-scale sines: must clip, not wrap
	if g.Duration() != Forever {
		t.Errorf("Duration() = %v", g.Duration())
	}
	samples, frames := readAll(t, g, 500)
	if frames != 500 {
		t.Fatalf("a Forever tone ended after %d frames", frames)
	}
	clipped := 0
	for i, got := range samples {
		var v float64
		for _, f := range []float64{300, 301, 302} {
			v += 32767 * math.Sin(2*math.Pi*f*float64(i)/8000)
		}
		want := math.Max(-32768, math.Min(32767, v))
		if math.Abs(float64(got)-want) > 2 {
			t.Fatalf("sample %d = %d, want %.0f (clipped, not wrapped)", i, got, want)
		}
		if want == 32767 {
			clipped++
		}
	}
	if clipped == 0 {
		t.Error("test signal never clipped")
	}
}

func TestSilenceSource(t *testing.T) {
	samples, frames := readAll(t, SilenceSource(70*time.Millisecond), 100)
	if frames != 4 {
		t.Errorf("%d frames, want 4", frames)
	}
	for _, v := range samples {
		if v != 0 {
			t.Fatal("silence is not silent")
		}
	}
	if math.IsInf(Level(samples), -1) == false {
		t.Errorf("Level(silence) = %v, want -Inf", Level(samples))
	}
	if _, frames := readAll(t, SilenceSource(Forever), 300); frames != 300 {
		t.Errorf("Forever silence ended after %d frames", frames)
	}
}

func TestDTMFSource(t *testing.T) {
	g, err := DTMFSource("1w#", 100*time.Millisecond, 50*time.Millisecond, -8)
	if err != nil {
		t.Fatal(err)
	}
	if want := 800 * time.Millisecond; g.Duration() != want {
		t.Errorf("Duration() = %v, want %v", g.Duration(), want)
	}
	samples, _ := readAll(t, g, 100)
	one := samples[:800]
	for _, f := range []float64{697, 1209} {
		if l := NewGoertzel(f, 8000).Level(one); math.Abs(l+8) > 0.3 {
			t.Errorf("'1': %g Hz at %.2f dBFS, want -8", f, l)
		}
	}
	if l := Level(samples[800:1200]); !math.IsInf(l, -1) {
		t.Errorf("gap after '1' at %.1f dBFS", l)
	}
	if l := Level(samples[1200:5200]); !math.IsInf(l, -1) {
		t.Errorf("w pause at %.1f dBFS", l)
	}
	pound := samples[5200:6000]
	for _, f := range []float64{941, 1477} {
		if l := NewGoertzel(f, 8000).Level(pound); math.Abs(l+8) > 0.3 {
			t.Errorf("'#': %g Hz at %.2f dBFS", f, l)
		}
	}
	if _, err := DTMFSource("12x", time.Second, 0, -8); !errors.Is(err, ErrDigit) {
		t.Errorf("bad digit: err = %v", err)
	}
}

func TestDTMFFreqs(t *testing.T) {
	tests := []struct {
		d         byte
		low, high float64
	}{
		{'1', 697, 1209}, {'5', 770, 1336}, {'9', 852, 1477}, {'0', 941, 1336},
		{'*', 941, 1209}, {'#', 941, 1477}, {'A', 697, 1633}, {'d', 941, 1633},
	}
	for _, tt := range tests {
		low, high, ok := DTMFFreqs(tt.d)
		if !ok || low != tt.low || high != tt.high {
			t.Errorf("DTMFFreqs(%q) = %g, %g, %v", tt.d, low, high, ok)
		}
	}
	for _, d := range []byte{'E', 'w', ' ', 0} {
		if _, _, ok := DTMFFreqs(d); ok {
			t.Errorf("DTMFFreqs(%q) ok", d)
		}
	}
}

func TestGoertzelMatchesDFT(t *testing.T) {
	block := sine(205, 8000, 770, 5000)
	for i := range block {
		block[i] += int16(i%13*50 - 300)
	}
	for _, f := range []float64{697, 770, 1000, 1633} {
		var re, im float64
		for n, x := range block {
			w := 2 * math.Pi * f * float64(n) / 8000
			re += float64(x) * math.Cos(w)
			im -= float64(x) * math.Sin(w)
		}
		want := 2 * (re*re + im*im) / float64(len(block)*len(block))
		if got := GoertzelPower(block, f, 8000); math.Abs(got-want) > 1e-6*want {
			t.Errorf("%g Hz: Goertzel %g, DFT %g", f, got, want)
		}
	}
	if GoertzelPower(nil, 1000, 8000) != 0 {
		t.Error("power of an empty block")
	}
	if g := NewGoertzel(1000, 8000); g.Freq() != 1000 {
		t.Error("Freq")
	}
}

func TestLevel(t *testing.T) {
	tests := []struct {
		name string
		s    []int16
		want float64
	}{
		{"full-scale sine", sine(8000, 8000, 1000, 32767), 0},
		{"-20 dBFS sine", sine(8000, 8000, 1000, Amplitude(-20)), -20},
		{"full-scale square", []int16{32767, -32767, 32767, -32767}, 3.01},
	}
	for _, tt := range tests {
		if got := Level(tt.s); math.Abs(got-tt.want) > 0.05 {
			t.Errorf("%s: Level = %.2f, want %.2f", tt.name, got, tt.want)
		}
	}
	if RMS(nil) != 0 {
		t.Error("RMS(nil)")
	}
}

func BenchmarkGoertzel(b *testing.B) {
	block := sine(160, 8000, 1000, 8000)
	g := NewGoertzel(1000, 8000)
	b.ReportAllocs()
	for b.Loop() {
		_ = g.Power(block)
	}
}

func BenchmarkToneSource(b *testing.B) {
	g := ToneSource([]float64{350, 440}, -13, Forever)
	frame := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		_ = g.ReadFrame(frame)
	}
}

// TestToneHeardAfterG711: a played tone is heard at its frequency after the
// codec a call uses.
func TestToneHeardAfterG711(t *testing.T) {
	for _, f := range []float64{350, 440, 1000, 2600, 3300} {
		samples, _ := readAll(t, ToneSource([]float64{f}, -12, 200*time.Millisecond), 100)
		for _, law := range []struct {
			name string
			enc  func([]byte, []int16)
			dec  func([]int16, []byte)
		}{{"PCMU", g711.EncodeUlaw, g711.DecodeUlaw}, {"PCMA", g711.EncodeAlaw, g711.DecodeAlaw}} {
			codes := make([]byte, len(samples))
			heard := make([]int16, len(samples))
			law.enc(codes, samples)
			law.dec(heard, codes)
			at := NewGoertzel(f, 8000).Level(heard)
			if math.Abs(at+12) > 0.3 {
				t.Errorf("%s %g Hz heard at %.2f dBFS, want -12", law.name, f, at)
			}
			for _, other := range []float64{f * 0.8, f * 1.25} {
				if l := NewGoertzel(other, 8000).Level(heard); l > at-30 {
					t.Errorf("%s %g Hz: %g Hz at %.1f dBFS", law.name, f, other, l)
				}
			}
		}
	}
}
