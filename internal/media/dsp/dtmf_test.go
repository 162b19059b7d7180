package dsp

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const allDigits = "123A456B789C*0#D"

// dial renders digits as 8 kHz audio: lead silence, then each digit for on at
// the given low/high levels (dBFS) followed by off of silence.
func dial(digits string, lead int, on, off time.Duration, lowDB, highDB float64) []int16 {
	out := make([]int16, lead)
	for i := range len(digits) {
		lo, hi, ok := DTMFFreqs(digits[i])
		if !ok {
			panic("bad digit in test")
		}
		n := int(on.Seconds() * 8000)
		for k := range n {
			v := Amplitude(lowDB)*math.Sin(2*math.Pi*lo*float64(k)/8000) + Amplitude(highDB)*math.Sin(2*math.Pi*hi*float64(k)/8000)
			out = append(out, int16(math.Round(v)))
		}
		out = append(out, make([]int16, int(off.Seconds()*8000))...)
	}
	return append(out, make([]int16, 800)...)
}

// addNoise adds white Gaussian noise at the given level (dBFS, AES17 scale).
func addNoise(s []int16, levelDB float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 1))
	sigma := Amplitude(levelDB) / math.Sqrt2
	out := make([]int16, len(s))
	for i, v := range s {
		x := float64(v) + rng.NormFloat64()*sigma
		out[i] = int16(math.Max(-32768, math.Min(32767, math.Round(x))))
	}
	return out
}

// detect feeds samples in 160-sample frames, as a call would.
func detect(s []int16) string {
	d := NewDTMFDetector(DTMFConfig{})
	var events []DTMFEvent
	for len(s) > 0 {
		n := min(160, len(s))
		events = d.Process(s[:n], events)
		s = s[n:]
	}
	var b strings.Builder
	for _, e := range events {
		if !e.End {
			b.WriteByte(e.Digit)
		}
	}
	return b.String()
}

func TestDTMFAllDigitsWithNoise(t *testing.T) {
	// Each digit at -10 dBFS per tone (-7 dBFS together), noise 20 dB below.
	for lead := 0; lead < 102; lead += 17 {
		clean := dial(allDigits, lead, 50*time.Millisecond, 50*time.Millisecond, -10, -10)
		sig := Level(clean[lead : lead+400])
		noisy := addNoise(clean, sig-20, uint64(lead))
		if got := detect(noisy); got != allDigits {
			t.Errorf("lead %d samples, 20 dB SNR: got %q, want %q", lead, got, allDigits)
		}
	}
}

func TestDTMFLowSNR(t *testing.T) {
	clean := dial(allDigits, 0, 70*time.Millisecond, 70*time.Millisecond, -10, -10)
	if got := detect(addNoise(clean, -7-12, 7)); got != allDigits {
		t.Errorf("12 dB SNR: got %q", got)
	}
}

func TestDTMFDuration(t *testing.T) {
	tests := []struct {
		name    string
		on, off time.Duration
		want    string
	}{
		{"40 ms on, 40 ms off accepted (Q.24)", 40 * time.Millisecond, 40 * time.Millisecond, allDigits},
		{"20 ms bursts rejected", 20 * time.Millisecond, 60 * time.Millisecond, ""},
		{"15 ms bursts rejected", 15 * time.Millisecond, 30 * time.Millisecond, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for lead := 0; lead < 102; lead += 7 { // every alignment with the windows
				in := dial(allDigits, lead, tt.on, tt.off, -10, -10)
				if got := detect(addNoise(in, -40, uint64(lead))); got != tt.want {
					t.Fatalf("lead %d: got %q, want %q", lead, got, tt.want)
				}
			}
		})
	}
}

func TestDTMFTwist(t *testing.T) {
	tests := []struct {
		name      string
		low, high float64
		want      string
	}{
		{"equal", -10, -10, "5"},
		{"normal twist 6 dB accepted", -8, -14, "5"},
		{"normal twist 10 dB rejected", -8, -18, ""},
		{"reverse twist 3 dB accepted", -13, -10, "5"},
		{"reverse twist 6 dB rejected", -16, -10, ""},
		{"quiet: -30 dBFS accepted", -30, -30, "5"},
		{"too quiet: -45 dBFS rejected", -45, -45, ""},
		{"single tone rejected", -10, -100, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, digit := range []string{"1", "5", "D"} {
				want := strings.ReplaceAll(tt.want, "5", digit)
				if got := detect(dial(digit, 30, 80*time.Millisecond, 50*time.Millisecond, tt.low, tt.high)); got != want {
					t.Errorf("digit %s: got %q, want %q", digit, got, want)
				}
			}
		})
	}
}

func TestDTMFRepeatsAndDropouts(t *testing.T) {
	// "11" with a 40 ms pause is two digits; a 1 s tone is one; a 10 ms
	// drop-out inside a tone does not split it.
	if got := detect(dial("11", 0, 60*time.Millisecond, 40*time.Millisecond, -10, -10)); got != "11" {
		t.Errorf("11 with 40 ms pause: %q", got)
	}
	if got := detect(dial("7", 0, time.Second, 0, -10, -10)); got != "7" {
		t.Errorf("1 s tone: %q", got)
	}
	tone := dial("9", 0, 200*time.Millisecond, 0, -10, -10)
	clear(tone[800:880])
	if got := detect(tone); got != "9" {
		t.Errorf("10 ms drop-out: %q", got)
	}
	// Straight from one digit to another, no pause: both reported.
	if got := detect(append(dial("4", 0, 80*time.Millisecond, 0, -10, -10)[:640], dial("8", 0, 80*time.Millisecond, 0, -10, -10)...)); got != "48" {
		t.Errorf("4 then 8 without a pause: %q", got)
	}
}

func TestDTMFFrequencyTolerance(t *testing.T) {
	// Q.24 asks detectors to accept ±1.5 % frequency deviation.
	for _, dev := range []float64{-0.015, 0.015} {
		lo, hi := 852*(1+dev), 1336*(1+dev)
		s := append(make([]int16, 100), ToneSamples([]float64{lo, hi}, -10, 80*time.Millisecond)...)
		s = append(s, make([]int16, 800)...)
		if got := detect(s); got != "8" {
			t.Errorf("%+.1f %%: got %q", dev*100, got)
		}
	}
}

func TestDTMFEvents(t *testing.T) {
	in := dial("3", 800, 100*time.Millisecond, 100*time.Millisecond, -10, -10) // starts at 100 ms
	d := NewDTMFDetector(DTMFConfig{})
	events := d.Process(in[:1400], nil)
	if len(events) != 1 || events[0].End || events[0].Digit != '3' {
		t.Fatalf("events after 75 ms of tone: %+v", events)
	}
	if d.Active() != '3' {
		t.Errorf("Active() = %q", d.Active())
	}
	events = d.Process(in[1400:], events)
	if len(events) != 2 || !events[1].End || events[1].Digit != '3' {
		t.Fatalf("events: %+v", events)
	}
	if s := events[0].Start; s < 90*time.Millisecond || s > 110*time.Millisecond {
		t.Errorf("Start = %v, want ≈100ms", s)
	}
	if du := events[1].Duration; du < 85*time.Millisecond || du > 115*time.Millisecond {
		t.Errorf("Duration = %v, want ≈100ms", du)
	}
	if d.Active() != 0 {
		t.Errorf("Active() = %q after the end", d.Active())
	}
	d.Reset()
	if got := d.Process(in[:400], nil); len(got) != 0 || d.Active() != 0 {
		t.Errorf("after Reset: %+v", got)
	}
}

func TestDTMFNoiseOnly(t *testing.T) {
	for _, lvl := range []float64{-60, -30, -10, -3} {
		if got := detect(addNoise(make([]int16, 8000*5), lvl, 3)); got != "" {
			t.Errorf("noise at %g dBFS: digits %q", lvl, got)
		}
	}
}

// espeak renders text with espeak-ng as 8 kHz samples.
func espeak(t testing.TB, args ...string) []int16 {
	t.Helper()
	out, err := exec.Command("espeak-ng", append([]string{"--stdout"}, args...)...).Output()
	if err != nil {
		t.Fatalf("espeak-ng: %v", err)
	}
	// espeak-ng writes a 44-byte header with placeholder sizes, 22050 Hz 16-bit mono.
	if len(out) < 44 || !bytes.HasPrefix(out, []byte("RIFF")) {
		t.Fatalf("espeak-ng output is not WAVE")
	}
	pcm := out[44:]
	s := make([]int16, len(pcm)/2)
	for i := range s {
		s[i] = int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8)
	}
	r, err := NewResampler(22050, 8000)
	if err != nil {
		t.Fatal(err)
	}
	return r.Flush(r.Process(nil, s))
}

const speechText = `Thank you for calling. Your call is important to us. Please listen
carefully, as our menu options have changed. For billing, press one. For technical
support, press two. To speak with an operator, stay on the line. The quick brown fox
jumps over the lazy dog. She sells sea shells by the sea shore. Peter Piper picked a
peck of pickled peppers. How much wood would a woodchuck chuck if a woodchuck could
chuck wood? Seven, eight, nine, ten. Hello, hello, is anybody there? Oh, I see.
Beautiful weather today, isn't it? Meet me at the station at half past four.`

// TestDTMFNoFalseDigitsOnSpeech runs about a minute of synthetic speech, in
// several voices and pitches, through the detector: no digit may appear.
func TestDTMFNoFalseDigitsOnSpeech(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
	var total time.Duration
	for _, v := range []struct{ voice, pitch, speed string }{
		{"en-us", "50", "175"},
		{"en-us+f3", "80", "160"},
		{"en", "20", "190"},
		{"en-us+m7", "99", "140"},
		{"en-us+f4", "65", "200"},
	} {
		s := espeak(t, "-v", v.voice, "-p", v.pitch, "-s", v.speed, speechText)
		total += time.Duration(len(s)) * time.Second / 8000
		if got := detect(s); got != "" {
			t.Errorf("voice %s pitch %s: false digits %q", v.voice, v.pitch, got)
		}
		// Loud speech with the detector's most lenient level threshold too.
		loud := make([]int16, len(s))
		for i, x := range s {
			loud[i] = int16(math.Max(-32768, math.Min(32767, float64(x)*2)))
		}
		if got := detect(loud); got != "" {
			t.Errorf("voice %s, +6 dB: false digits %q", v.voice, got)
		}
	}
	if total < 50*time.Second {
		t.Errorf("only %v of speech tested", total)
	}
	t.Logf("%v of speech, no false digits", total)
}

// TestDTMFOverSpeech: digits dialled while someone talks are still heard.
func TestDTMFOverSpeech(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
	speech := espeak(t, "-v", "en-us", "For billing, press one. For support, press two.")
	digits := dial("1290", 4000, 80*time.Millisecond, 120*time.Millisecond, -8, -8)
	mix := make([]int16, max(len(speech), len(digits)))
	for i := range mix {
		var v float64
		if i < len(speech) {
			v += float64(speech[i]) * Amplitude(-24) / FullScale * 4
		}
		if i < len(digits) {
			v += float64(digits[i])
		}
		mix[i] = int16(math.Max(-32768, math.Min(32767, v)))
	}
	if got := detect(mix); got != "1290" {
		t.Errorf("digits over speech: %q, want 1290", got)
	}
}

func TestDetectDTMF(t *testing.T) {
	if got := DetectDTMF(dial("0*#", 0, 60*time.Millisecond, 60*time.Millisecond, -10, -10)); got != "0*#" {
		t.Errorf("DetectDTMF = %q", got)
	}
}

func TestDTMFRoundTripWithGenerator(t *testing.T) {
	g, err := DTMFSource("8675309#", 60*time.Millisecond, 60*time.Millisecond, -10)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := readAll(t, g, 1000)
	if got := DetectDTMF(s); got != "8675309#" {
		t.Errorf("generated then detected: %q", got)
	}
}

func BenchmarkDTMFDetector(b *testing.B) {
	frame := dial("5", 0, 20*time.Millisecond, 0, -10, -10)[:160]
	d := NewDTMFDetector(DTMFConfig{})
	events := make([]DTMFEvent, 0, 4)
	b.ReportAllocs()
	b.SetBytes(320)
	for b.Loop() {
		events = d.Process(frame, events[:0])
	}
}

func TestDTMFChunkingInvariant(t *testing.T) {
	in := addNoise(dial("159D", 33, 60*time.Millisecond, 50*time.Millisecond, -12, -10), -40, 9)
	var want []DTMFEvent
	want = NewDTMFDetector(DTMFConfig{}).Process(in, want)
	for _, size := range []int{1, 7, 51, 160, 333} {
		d := NewDTMFDetector(DTMFConfig{})
		var got []DTMFEvent
		for i := 0; i < len(in); i += size {
			got = d.Process(in[i:min(i+size, len(in))], got)
		}
		if len(got) != len(want) {
			t.Fatalf("chunks of %d: %d events, want %d", size, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("chunks of %d: event %d = %+v, want %+v", size, i, got[i], want[i])
			}
		}
	}
	if len(want) != 8 {
		t.Errorf("%d events for 4 digits, want 8 (start and end each): %+v", len(want), want)
	}
}
