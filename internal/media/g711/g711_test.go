package g711

import (
	"math"
	"testing"
)

func TestKnownValues(t *testing.T) {
	tests := []struct {
		name   string
		sample int16
		ulaw   byte
		alaw   byte
	}{
		{"zero", 0, 0xFF, 0xD5},
		{"minus one", -1, 0x7F, 0x55},
		{"plus eight", 8, 0xFE, 0xD5},
		{"full scale positive", 32767, 0x80, 0xAA},
		{"full scale negative", -32768, 0x00, 0x2A},
		{"beyond μ-law clip", 32700, 0x80, 0xAA},
		{"μ-law segment 1 start", 132, 0xEF, 0xDD},
		{"A-law segment 1 start", 264, 0xE7, 0xC5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeUlawSample(tt.sample); got != tt.ulaw {
				t.Errorf("EncodeUlawSample(%d) = %#02x, want %#02x", tt.sample, got, tt.ulaw)
			}
			if got := EncodeAlawSample(tt.sample); got != tt.alaw {
				t.Errorf("EncodeAlawSample(%d) = %#02x, want %#02x", tt.sample, got, tt.alaw)
			}
		})
	}
}

func TestDecodeKnownValues(t *testing.T) {
	ulaw := map[byte]int16{0xFF: 0, 0x7F: 0, 0xFE: 8, 0x7E: -8, 0xF0: 120, 0xEF: 132, 0x80: 32124, 0x00: -32124}
	for c, want := range ulaw {
		if got := DecodeUlawSample(c); got != want {
			t.Errorf("DecodeUlawSample(%#02x) = %d, want %d", c, got, want)
		}
	}
	alaw := map[byte]int16{0xD5: 8, 0x55: -8, 0xAA: 32256, 0x2A: -32256, 0xD4: 24, 0xC5: 264}
	for c, want := range alaw {
		if got := DecodeAlawSample(c); got != want {
			t.Errorf("DecodeAlawSample(%#02x) = %d, want %d", c, got, want)
		}
	}
}

// TestDigitalMilliwatt checks the periodic sequences of ITU-T G.711 tables 5 and
// 6 (the "digital milliwatt", a 1 kHz sine at 0 dBm0): the ideal sine at the
// eight sampling phases encodes to exactly those codes.
func TestDigitalMilliwatt(t *testing.T) {
	tests := []struct {
		name   string
		peak   float64 // 0 dBm0 is 3.17 dB (μ) / 3.14 dB (A) below overload
		encode func(int16) byte
		want   [8]byte
	}{
		{"μ-law", 32636 * math.Pow(10, -3.17/20), EncodeUlawSample, [8]byte{0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E}},
		{"A-law", 32768 * math.Pow(10, -3.14/20), EncodeAlawSample, [8]byte{0x34, 0x21, 0x21, 0x34, 0xB4, 0xA1, 0xA1, 0xB4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k := range 8 {
				theta := math.Pi + math.Pi/8 + float64(k)*math.Pi/4
				s := int16(math.Round(tt.peak * math.Sin(theta)))
				if got := tt.encode(s); got != tt.want[k] {
					t.Errorf("phase %d: encode(%d) = %#02x, want %#02x", k, s, got, tt.want[k])
				}
			}
		})
	}
}

// TestTablesMatchReference compares the table-driven encoders against the
// G.191 reference functions for every 16-bit input.
func TestTablesMatchReference(t *testing.T) {
	for i := math.MinInt16; i <= math.MaxInt16; i++ {
		s := int16(i)
		if got, want := EncodeUlawSample(s), ulawCompress(s); got != want {
			t.Fatalf("EncodeUlawSample(%d) = %#02x, reference %#02x", s, got, want)
		}
		if got, want := EncodeAlawSample(s), alawCompress(s); got != want {
			t.Fatalf("EncodeAlawSample(%d) = %#02x, reference %#02x", s, got, want)
		}
	}
}

func TestCodeRoundTrip(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		want := b
		if b == 0x7F { // μ-law negative zero
			want = 0xFF
		}
		if got := EncodeUlawSample(DecodeUlawSample(b)); got != want {
			t.Errorf("μ-law %#02x -> %d -> %#02x", b, DecodeUlawSample(b), got)
		}
		if got := EncodeAlawSample(DecodeAlawSample(b)); got != b {
			t.Errorf("A-law %#02x -> %d -> %#02x", b, DecodeAlawSample(b), got)
		}
	}
}

func TestSymmetry(t *testing.T) {
	for c := range 128 {
		if p, n := DecodeUlawSample(byte(c)|0x80), DecodeUlawSample(byte(c)); p != -n {
			t.Errorf("μ-law %#02x=%d and %#02x=%d are not opposite", c|0x80, p, c, n)
		}
		if p, n := DecodeAlawSample(byte(c)|0x80), DecodeAlawSample(byte(c)); p != -n {
			t.Errorf("A-law %#02x=%d and %#02x=%d are not opposite", c|0x80, p, c, n)
		}
	}
}

// TestRoundTripErrorBound checks that every sample comes back within half a
// quantisation step: G.711 steps double each segment, so the error is bounded by
// a small absolute value near zero and by 1/32 of the magnitude above it
// (a 4-bit mantissa plus the implied leading bit), up to the overload point.
func TestRoundTripErrorBound(t *testing.T) {
	tests := []struct {
		name     string
		rt       func(int16) int16
		abs      float64 // bound near zero
		overload int     // beyond this, clipping error
	}{
		{"μ-law", func(s int16) int16 { return DecodeUlawSample(EncodeUlawSample(s)) }, 4, 32124},
		{"A-law", func(s int16) int16 { return DecodeAlawSample(EncodeAlawSample(s)) }, 8, 32256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := -tt.overload; i <= tt.overload; i++ {
				got := tt.rt(int16(i))
				err := math.Abs(float64(got) - float64(i))
				bound := math.Max(tt.abs, math.Abs(float64(i))/32+5)
				if err > bound {
					t.Fatalf("%d -> %d: error %.0f > bound %.1f", i, got, err, bound)
				}
			}
		})
	}
}

// TestSineSNR checks the signal-to-quantisation-noise ratio G.711 is known for:
// about 38 dB for a sine well inside the range.
func TestSineSNR(t *testing.T) {
	const n = 8000
	src := make([]int16, n)
	for i := range src {
		src[i] = int16(10000 * math.Sin(2*math.Pi*1004*float64(i)/8000))
	}
	codes := make([]byte, n)
	out := make([]int16, n)
	for _, law := range []struct {
		name string
		enc  func([]byte, []int16)
		dec  func([]int16, []byte)
	}{{"μ-law", EncodeUlaw, DecodeUlaw}, {"A-law", EncodeAlaw, DecodeAlaw}} {
		law.enc(codes, src)
		law.dec(out, codes)
		var sig, noise float64
		for i := range src {
			sig += float64(src[i]) * float64(src[i])
			d := float64(out[i]) - float64(src[i])
			noise += d * d
		}
		snr := 10 * math.Log10(sig/noise)
		if snr < 35 {
			t.Errorf("%s: SNR %.1f dB, want ≥ 35", law.name, snr)
		}
		t.Logf("%s SNR %.1f dB", law.name, snr)
	}
}

func TestSliceFunctionsMatchSample(t *testing.T) {
	src := []int16{0, 1, -1, 100, -100, 1000, -1000, 32767, -32768, 12345}
	u := make([]byte, len(src))
	a := make([]byte, len(src))
	EncodeUlaw(u, src)
	EncodeAlaw(a, src)
	du := make([]int16, len(src))
	da := make([]int16, len(src))
	DecodeUlaw(du, u)
	DecodeAlaw(da, a)
	for i, s := range src {
		if u[i] != EncodeUlawSample(s) || a[i] != EncodeAlawSample(s) {
			t.Errorf("sample %d: slice and single-sample encoders disagree", s)
		}
		if du[i] != DecodeUlawSample(u[i]) || da[i] != DecodeAlawSample(a[i]) {
			t.Errorf("sample %d: slice and single-sample decoders disagree", s)
		}
	}
}

func TestMismatchedLengthsDoNotPanic(t *testing.T) {
	dst := make([]byte, 2)
	EncodeUlaw(dst, []int16{1000, 2000, 3000})
	EncodeAlaw(dst, []int16{1000})
	out := make([]int16, 1)
	DecodeUlaw(out, []byte{0x80, 0x80})
	DecodeAlaw(out, nil)
	if dst[0] != EncodeAlawSample(1000) || dst[1] != EncodeUlawSample(2000) || out[0] != DecodeUlawSample(0x80) {
		t.Errorf("short conversions wrote wrong values: %v %v", dst, out)
	}
}

func TestTranscode(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		u := DecodeUlawSample(b)
		if got := DecodeAlawSample(UlawToAlaw(b)); math.Abs(float64(got-u)) > math.Max(16, math.Abs(float64(u))/16) {
			t.Errorf("UlawToAlaw(%#02x): %d -> %d", b, u, got)
		}
		a := DecodeAlawSample(b)
		if got := DecodeUlawSample(AlawToUlaw(b)); math.Abs(float64(got-a)) > math.Max(16, math.Abs(float64(a))/16) {
			t.Errorf("AlawToUlaw(%#02x): %d -> %d", b, a, got)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	src := make([]int16, 160)
	codes := make([]byte, 160)
	if n := testing.AllocsPerRun(100, func() {
		EncodeUlaw(codes, src)
		DecodeUlaw(src, codes)
		EncodeAlaw(codes, src)
		DecodeAlaw(src, codes)
	}); n != 0 {
		t.Errorf("codec allocates %.0f times per frame", n)
	}
}

func benchFrame() []int16 {
	src := make([]int16, 160)
	for i := range src {
		src[i] = int16(8000 * math.Sin(float64(i)/3))
	}
	return src
}

func BenchmarkEncodeUlaw(b *testing.B) {
	src, dst := benchFrame(), make([]byte, 160)
	b.ReportAllocs()
	b.SetBytes(int64(len(src) * 2))
	for b.Loop() {
		EncodeUlaw(dst, src)
	}
}

func BenchmarkDecodeUlaw(b *testing.B) {
	src, dst := make([]byte, 160), make([]int16, 160)
	EncodeUlaw(src, benchFrame())
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		DecodeUlaw(dst, src)
	}
}

func BenchmarkEncodeAlaw(b *testing.B) {
	src, dst := benchFrame(), make([]byte, 160)
	b.ReportAllocs()
	b.SetBytes(int64(len(src) * 2))
	for b.Loop() {
		EncodeAlaw(dst, src)
	}
}

func BenchmarkDecodeAlaw(b *testing.B) {
	src, dst := make([]byte, 160), make([]int16, 160)
	EncodeAlaw(src, benchFrame())
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		DecodeAlaw(dst, src)
	}
}
