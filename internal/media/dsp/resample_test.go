package dsp

import (
	"errors"
	"fmt"
	"io"
	"math"
	"testing"
)

var commonRates = []int{8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000}

// sine returns n samples at rate of a sine at freq with peak amp.
func sine(n, rate int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// resampleAll runs src through a new Resampler in chunks of the given sizes
// (cycled) and flushes it.
func resampleAll(t testing.TB, in, out int, src []int16, chunks ...int) []int16 {
	t.Helper()
	r, err := NewResampler(in, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) == 0 {
		chunks = []int{len(src) + 1}
	}
	var dst []int16
	for i, k := 0, 0; i < len(src); k++ {
		n := min(chunks[k%len(chunks)], len(src)-i)
		dst = r.Process(dst, src[i:i+n])
		i += n
	}
	return r.Flush(dst)
}

// middle drops the first and last 25 ms, where the stream's edges are.
func middle(s []int16, rate int) []int16 {
	edge := rate / 40
	if len(s) <= 2*edge {
		return nil
	}
	return s[edge : len(s)-edge]
}

func TestResampleLengthAndLevel(t *testing.T) {
	for _, in := range commonRates {
		t.Run(fmt.Sprint(in), func(t *testing.T) {
			src := sine(in, in, 1000, Amplitude(-6)) // one second
			out := resampleAll(t, in, 8000, src, 441, 100, 7, 1000)
			if len(out) != 8000 {
				t.Errorf("%d samples out, want 8000", len(out))
			}
			m := middle(out, 8000)
			if lvl := NewGoertzel(1000, 8000).Level(m); math.Abs(lvl+6) > 0.2 {
				t.Errorf("1 kHz at %.2f dBFS, want -6", lvl)
			}
			if lvl := Level(m); math.Abs(lvl+6) > 0.2 {
				t.Errorf("overall level %.2f dBFS, want -6 (nothing added)", lvl)
			}
		})
	}
}

// TestResampleIsAligned checks there is no delay: output sample n is the input
// signal at time n/8000 s.
func TestResampleIsAligned(t *testing.T) {
	for _, in := range commonRates {
		src := sine(in/2, in, 250, 16000)
		out := resampleAll(t, in, 8000, src, 333)
		want := sine(len(out), 8000, 250, 16000)
		var maxErr float64
		for i := 100; i < len(out)-100; i++ {
			maxErr = math.Max(maxErr, math.Abs(float64(out[i])-float64(want[i])))
		}
		if maxErr > 16 { // -60 dB of the amplitude
			t.Errorf("%d Hz: output differs from the ideal by up to %.0f", in, maxErr)
		}
	}
}

func TestResampleAntiAliasing(t *testing.T) {
	tests := []struct {
		in       int
		freq     float64
		minAtten float64 // dB
	}{
		{48000, 6000, 60},
		{44100, 6000, 60},
		{44100, 4300, 50},
		{44100, 5000, 60},
		{44100, 11025, 60},
		{44100, 20000, 60},
		{22050, 4500, 60},
		{22050, 10000, 60},
		{16000, 4500, 55},
		{16000, 7000, 60},
		{11025, 5000, 60},
		{32000, 12000, 60},
		{24000, 9000, 60},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%gHz@%d", tt.freq, tt.in), func(t *testing.T) {
			src := sine(tt.in/2, tt.in, tt.freq, Amplitude(-3))
			out := middle(resampleAll(t, tt.in, 8000, src, 960), 8000)
			atten := -3 - Level(out)
			t.Logf("attenuated %.1f dB", atten)
			if atten < tt.minAtten {
				t.Errorf("attenuated %.1f dB, want ≥ %.0f", atten, tt.minAtten)
			}
		})
	}
}

func TestResample3kHzAt44k(t *testing.T) {
	src := sine(44100, 44100, 3000, Amplitude(-10))
	out := middle(resampleAll(t, 44100, 8000, src, 882), 8000)
	at := NewGoertzel(3000, 8000).Level(out)
	if math.Abs(at+10) > 0.3 {
		t.Errorf("3 kHz comes out at %.2f dBFS, want -10", at)
	}
	for _, f := range []float64{1000, 2000, 2500, 3500, 3900} {
		if l := NewGoertzel(f, 8000).Level(out); l > at-50 {
			t.Errorf("%g Hz at %.1f dBFS next to the 3 kHz tone at %.1f", f, l, at)
		}
	}
}

func TestResamplePassBand(t *testing.T) {
	for _, in := range []int{44100, 48000, 16000} {
		for _, f := range []float64{300, 1000, 2000, 3000, 3400} {
			out := middle(resampleAll(t, in, 8000, sine(in/2, in, f, Amplitude(-6))), 8000)
			if l := Level(out); math.Abs(l+6) > 0.3 {
				t.Errorf("%g Hz at %d Hz: %.2f dBFS after resampling, want -6", f, in, l)
			}
		}
	}
}

func TestResampleUp(t *testing.T) {
	for _, out := range []int{16000, 44100, 48000} {
		src := sine(8000, 8000, 1000, Amplitude(-6))
		got := resampleAll(t, 8000, out, src, 160)
		if len(got) != out {
			t.Errorf("8000->%d: %d samples, want %d", out, len(got), out)
		}
		m := middle(got, out)
		if l := NewGoertzel(1000, out).Level(m); math.Abs(l+6) > 0.2 {
			t.Errorf("8000->%d: 1 kHz at %.2f dBFS", out, l)
		}
		if l := Level(m); math.Abs(l+6) > 0.2 {
			t.Errorf("8000->%d: level %.2f dBFS (images above 4 kHz?)", out, l)
		}
	}
}

func TestResampleChunkingInvariant(t *testing.T) {
	src := sine(22050, 22050, 440, 12000)
	for i := range src {
		src[i] += int16(i%7*100 - 300)
	}
	whole := resampleAll(t, 22050, 8000, src)
	for _, chunks := range [][]int{{1}, {2, 3, 5}, {160}, {4410}} {
		got := resampleAll(t, 22050, 8000, src, chunks...)
		if fmt.Sprint(got) != fmt.Sprint(whole) {
			t.Errorf("chunks %v change the output", chunks)
		}
	}
}

func TestResamplePassThroughAndReset(t *testing.T) {
	r, err := NewResampler(8000, 8000)
	if err != nil {
		t.Fatal(err)
	}
	src := []int16{1, 2, 3, -4}
	if got := r.Flush(r.Process(nil, src)); fmt.Sprint(got) != fmt.Sprint(src) {
		t.Errorf("8000->8000 = %v", got)
	}
	r2, _ := NewResampler(16000, 8000)
	a := r2.Flush(r2.Process(nil, sine(1600, 16000, 500, 9000)))
	b := r2.Flush(r2.Process(nil, sine(1600, 16000, 500, 9000))) // Flush resets
	if fmt.Sprint(a) != fmt.Sprint(b) || len(a) != 800 {
		t.Errorf("a flushed resampler does not start afresh (%d, %d samples)", len(a), len(b))
	}
	if r2.InRate() != 16000 || r2.OutRate() != 8000 || r2.Delay() <= 0 {
		t.Errorf("rates %d->%d delay %d", r2.InRate(), r2.OutRate(), r2.Delay())
	}
}

func TestResampleOddRates(t *testing.T) {
	for _, in := range []int{7999, 44101, 96000, 192000, 1000} {
		src := sine(in/4, in, 440, Amplitude(-6))
		out := resampleAll(t, in, 8000, src, 1234)
		if want := (len(src)*8000 + in - 1) / in; len(out) != want {
			t.Errorf("%d Hz: %d samples, want %d", in, len(out), want)
		}
		if in >= 8000 {
			if l := NewGoertzel(440, 8000).Level(middle(out, 8000)); math.Abs(l+6) > 0.3 {
				t.Errorf("%d Hz: 440 Hz at %.2f dBFS", in, l)
			}
		}
	}
}

func TestResampleClipsNotWraps(t *testing.T) {
	sq := make([]int16, 4410)
	for i := range sq {
		sq[i] = 32767
		if i/50%2 == 1 {
			sq[i] = -32768
		}
	}
	out := resampleAll(t, 44100, 8000, sq)
	checked := 0
	for i, v := range out {
		j := int(math.Round(float64(i) * 44100 / 8000))
		if j < 15 || j+15 >= len(sq) {
			continue
		}
		if sq[j-15] != sq[j] || sq[j+15] != sq[j] {
			continue // near an edge of the square wave
		}
		checked++
		if (v > 0) != (sq[j] > 0) || math.Abs(float64(v)) < 30000 {
			t.Fatalf("sample %d = %d on a plateau at %d: overflow wrapped", i, v, sq[j])
		}
	}
	if checked < 200 {
		t.Fatalf("only %d plateau samples checked", checked)
	}
}

func TestNewResamplerRejects(t *testing.T) {
	for _, r := range [][2]int{{0, 8000}, {-1, 8000}, {8000, 0}, {MinRate - 1, 8000}, {MaxRate + 1, 8000}} {
		if _, err := NewResampler(r[0], r[1]); !errors.Is(err, ErrRate) {
			t.Errorf("NewResampler(%d, %d) err = %v", r[0], r[1], err)
		}
	}
}

func TestResampleNoAllocs(t *testing.T) {
	r, _ := NewResampler(44100, 8000)
	src := sine(882, 44100, 1000, 8000)
	dst := make([]int16, 0, 400)
	dst = r.Process(dst[:0], src) // warm up the buffer
	if n := testing.AllocsPerRun(100, func() { dst = r.Process(dst[:0], src) }); n != 0 {
		t.Errorf("Process allocates %.0f times per 20 ms", n)
	}
}

// sliceReader is a SampleReader over a slice, n samples per read.
type sliceReader struct {
	s []int16
	n int
}

func (r *sliceReader) ReadSamples(dst []int16) (int, error) {
	if len(r.s) == 0 {
		return 0, io.EOF
	}
	n := copy(dst[:min(len(dst), r.n)], r.s)
	r.s = r.s[n:]
	return n, nil
}

func TestResampledSource(t *testing.T) {
	src := sine(44100*21/100, 44100, 1000, 10000) // 210 ms
	s, err := NewResampledSource(&sliceReader{s: src, n: 500}, 44100, 8000)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 160)
	var got []int16
	frames := 0
	for range 100 {
		err := s.ReadFrame(frame)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames++
		got = append(got, frame...)
	}
	if frames != 11 { // 1680 samples: 10 whole frames and one padded
		t.Errorf("%d frames, want 11", frames)
	}
	for _, v := range got[1680:] {
		if v != 0 {
			t.Fatalf("last frame not padded with silence: %v", got[1680:])
		}
	}
	if err := s.ReadFrame(frame); !errors.Is(err, io.EOF) {
		t.Errorf("ReadFrame after EOF = %v", err)
	}
	if l := NewGoertzel(1000, 8000).Level(got[200:1500]); math.Abs(l-DBFS(10000/math.Sqrt2)) > 0.2 {
		t.Errorf("1 kHz at %.2f dBFS", l)
	}
	if _, err := NewResampledSource(&sliceReader{}, 0, 8000); !errors.Is(err, ErrRate) {
		t.Errorf("rate 0: %v", err)
	}
}

type stuckReader struct{}

func (stuckReader) ReadSamples([]int16) (int, error) { return 0, nil }

func TestResampledSourceStuckReader(t *testing.T) {
	s, _ := NewResampledSource(stuckReader{}, 16000, 8000)
	if err := s.ReadFrame(make([]int16, 160)); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("err = %v, want io.ErrNoProgress", err)
	}
}

func benchResample(b *testing.B, in int) {
	r, _ := NewResampler(in, 8000)
	src := sine(in/50, in, 1000, 8000) // 20 ms
	dst := make([]int16, 0, 400)
	b.ReportAllocs()
	b.SetBytes(int64(len(src) * 2))
	for b.Loop() {
		dst = r.Process(dst[:0], src)
	}
}

func BenchmarkResample48kTo8k(b *testing.B)   { benchResample(b, 48000) }
func BenchmarkResample44k1To8k(b *testing.B)  { benchResample(b, 44100) }
func BenchmarkResample22k05To8k(b *testing.B) { benchResample(b, 22050) }
func BenchmarkResample16kTo8k(b *testing.B)   { benchResample(b, 16000) }
