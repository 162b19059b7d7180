package holdmusic_test

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/g711"
	"github.com/switchboard-voice/switchboard/internal/media/holdmusic"
	"github.com/switchboard-voice/switchboard/internal/media/tones"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
)

const (
	rate  = media.SampleRate
	frame = media.FrameSamples
)

// loopLen is the loop in samples.
var loopLen = int(holdmusic.Loop() * rate / time.Second)

// read reads n samples (a multiple of frame) from src in frames.
func read(t testing.TB, src media.Source, n int) []int16 {
	t.Helper()
	out := make([]int16, n)
	for i := 0; i < n; i += frame {
		if err := src.ReadFrame(out[i : i+frame]); err != nil {
			t.Fatalf("ReadFrame at %v: %v", sampleTime(i), err)
		}
	}
	return out
}

func sampleTime(n int) time.Duration { return time.Duration(n) * time.Second / rate }

// oneLoop is the first loop of a new Source.
func oneLoop(t testing.TB) []int16 { return read(t, holdmusic.New(), loopLen) }

func TestLoop(t *testing.T) {
	if d := holdmusic.Loop(); d < 30*time.Second || d > 60*time.Second {
		t.Errorf("Loop() = %v, want 30 to 60 s", d)
	}
	if loopLen%frame != 0 {
		t.Errorf("the loop is %d samples, not whole frames", loopLen)
	}
}

// TestLevel checks the loudness: Level over the loop, steady over every 2 s
// (no loud bursts, no long quiet passages), and peaks under -6 dBFS.
func TestLevel(t *testing.T) {
	x := oneLoop(t)
	if got := dsp.Level(x); math.Abs(got-holdmusic.Level) > 0.1 {
		t.Errorf("level %.2f dBFS, want %.1f (Level)", got, holdmusic.Level)
	}
	if holdmusic.Level < -23 || holdmusic.Level > -17 {
		t.Errorf("Level = %v dBFS, want about -20", holdmusic.Level)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := 0; i+2*rate <= len(x); i += rate / 2 {
		l := dsp.Level(x[i : i+2*rate])
		lo, hi = min(lo, l), max(hi, l)
	}
	if lo < holdmusic.Level-3 || hi > holdmusic.Level+3 {
		t.Errorf("2 s windows range from %.1f to %.1f dBFS, want within 3 dB of %v", lo, hi, holdmusic.Level)
	}
	var peak int
	for _, v := range x {
		peak = max(peak, int(v), -int(v))
	}
	limit := dsp.Amplitude(-6)
	if float64(peak) >= limit {
		t.Errorf("peak %d (%.1f dBFS), want under -6 dBFS (%.0f)", peak, dsp.DBFS(float64(peak)/math.Sqrt2), limit)
	}
	if peak >= 32767 {
		t.Error("the music clips")
	}
	t.Logf("level %.2f dBFS, 2 s windows %.1f to %.1f dBFS, peak %d (%.1f dBFS)", dsp.Level(x), lo, hi, peak, 20*math.Log10(float64(peak)/32767))
}

// TestSeamless plays three loops and checks that they are the same samples
// and that the joins between them are like any other point of the music: no
// step from one sample to the next, and no change in the slope, larger than
// the music's own around them.
func TestSeamless(t *testing.T) {
	x := read(t, holdmusic.New(), 3*loopLen)
	for i := range loopLen {
		if x[i] != x[i+loopLen] || x[i] != x[i+2*loopLen] {
			t.Fatalf("sample %d of the loop differs between loops: %d %d %d", i, x[i], x[i+loopLen], x[i+2*loopLen])
		}
	}
	near := rate / 10 // 100 ms either side of the join
	var maxStep, maxBend float64
	for i := loopLen - near; i < loopLen+near; i++ {
		if i == loopLen {
			continue
		}
		maxStep = max(maxStep, math.Abs(float64(x[i])-float64(x[i-1])))
		maxBend = max(maxBend, math.Abs(float64(x[i+1])-2*float64(x[i])+float64(x[i-1])))
	}
	step := math.Abs(float64(x[loopLen]) - float64(x[loopLen-1]))
	bend := math.Abs(float64(x[loopLen+1]) - 2*float64(x[loopLen]) + float64(x[loopLen-1]))
	t.Logf("at the join: step %.0f, bend %.0f; within 100 ms: steps up to %.0f, bends up to %.0f", step, bend, maxStep, maxBend)
	if step > maxStep {
		t.Errorf("step of %.0f from the last sample to the first, the music's own are at most %.0f", step, maxStep)
	}
	if bend > maxBend {
		t.Errorf("slope changes by %.0f at the join, the music's own by at most %.0f", bend, maxBend)
	}
	// And the level just before the join is the level just after it.
	before, after := dsp.Level(x[loopLen-near:loopLen]), dsp.Level(x[loopLen:loopLen+near])
	if math.Abs(before-after) > 3 {
		t.Errorf("level %.1f dBFS before the join, %.1f after", before, after)
	}
}

// TestNoDTMF runs a loop and the join into the next through the DTMF
// detector, as sent, after G.711 and louder: no digit may be heard.
func TestNoDTMF(t *testing.T) {
	x := read(t, holdmusic.New(), loopLen+2*rate)
	variants := map[string][]int16{"as sent": x}
	codes := make([]byte, len(x))
	for name, law := range map[string]struct {
		enc func([]byte, []int16)
		dec func([]int16, []byte)
	}{"PCMU": {g711.EncodeUlaw, g711.DecodeUlaw}, "PCMA": {g711.EncodeAlaw, g711.DecodeAlaw}} {
		y := make([]int16, len(x))
		law.enc(codes, x)
		law.dec(y, codes)
		variants[name] = y
	}
	loud := make([]int16, len(x))
	for i, v := range x {
		loud[i] = int16(max(-32768, min(32767, 2*int(v)))) // +6 dB
	}
	variants["+6 dB"] = loud
	for name, y := range variants {
		d := dsp.NewDTMFDetector(dsp.DTMFConfig{})
		var events []dsp.DTMFEvent
		for i := 0; i < len(y); i += frame {
			events = d.Process(y[i:i+frame], events)
		}
		if len(events) > 0 {
			t.Errorf("%s: DTMF detected: %+v", name, events)
		}
	}
}

// TestNoSpeech: hold music is not a participant speaking.
func TestNoSpeech(t *testing.T) {
	x := read(t, holdmusic.New(), 2*loopLen)
	v := dsp.NewVAD(dsp.VADConfig{})
	for i := 0; i < len(x); i += frame {
		if changed, _ := v.Process(x[i : i+frame]); changed {
			t.Fatalf("the VAD reports speech at %v", sampleTime(i))
		}
	}
}

// TestSpectrumVaries checks that the music is music, not a tone: over every
// 2 s (and every 500 ms), no one frequency carries much of the power, and the
// strongest frequency moves about as the chords and the tune change.
func TestSpectrumVaries(t *testing.T) {
	x := read(t, holdmusic.New(), loopLen+2*rate) // every window, across the join too
	pitches := map[int]bool{}
	for _, w := range []struct {
		len      int
		maxShare float64
	}{{2 * rate, 0.6}, {rate / 2, 0.8}} {
		worst := 0.0
		for i := 0; i+w.len <= len(x) && i < loopLen; i += w.len / 4 {
			f, share := dominance(x[i:i+w.len], 3)
			worst = max(worst, share)
			if share > w.maxShare {
				t.Errorf("%v window at %v: %.0f Hz carries %.0f %% of the power", sampleTime(w.len), sampleTime(i), f, 100*share)
			}
			if w.len == 2*rate {
				pitches[int(math.Round(12*math.Log2(f/440)))] = true
			}
		}
		t.Logf("%v windows: the strongest frequency carries at most %.0f %% of the power", sampleTime(w.len), 100*worst)
	}
	if len(pitches) < 6 {
		t.Errorf("the strongest frequency of 2 s windows takes only %d pitches over the loop", len(pitches))
	}
	t.Logf("the strongest frequency of 2 s windows takes %d pitches", len(pitches))

	// The measure itself: a ring tone, or a chord held for 2 s, would fail.
	ring, _ := tones.Ringback("de")
	if _, share := dominance(read(t, ring, rate), 3); share < 0.9 {
		t.Errorf("a 425 Hz ring tone measures %.2f", share)
	}
	chord := dsp.ToneSamples([]float64{293.66, 369.99, 440}, -20, 2*time.Second)
	if _, share := dominance(chord, 3); share < 0.3 {
		t.Errorf("a held chord measures %.2f", share)
	}
}

// TestSources checks that Sources are independent, endless and accept
// any read size, and that ReadFrame allocates nothing.
func TestSources(t *testing.T) {
	a, b := holdmusic.New(), holdmusic.New()
	read(t, a, 7*frame)
	if !slices.Equal(read(t, b, frame), read(t, holdmusic.New(), frame)) {
		t.Error("reading one Source moved another")
	}

	want := read(t, holdmusic.New(), loopLen+rate)
	src := holdmusic.New()
	got := make([]int16, len(want))
	sizes := []int{1, 7, 160, 333, 39, 2000, 41, 80, 8000}
	for i, k := 0, 0; i < len(got); k++ {
		n := min(sizes[k%len(sizes)], len(got)-i)
		if err := src.ReadFrame(got[i : i+n]); err != nil {
			t.Fatal(err)
		}
		i += n
	}
	if !slices.Equal(got, want) {
		t.Error("reads of odd sizes differ from reads of frames")
	}
	// A read longer than the loop wraps around it.
	long := make([]int16, 2*loopLen+5)
	if err := holdmusic.New().ReadFrame(long); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(long[:loopLen], long[loopLen:2*loopLen]) || !slices.Equal(long[2*loopLen:], long[:5]) {
		t.Error("a read longer than the loop does not repeat it")
	}

	buf := make([]int16, frame)
	src = holdmusic.New()
	if n := testing.AllocsPerRun(5000, func() { _ = src.ReadFrame(buf) }); n != 0 {
		t.Errorf("ReadFrame allocates %v times a frame", n)
	}
}

func TestWriteWAV(t *testing.T) {
	var b bytes.Buffer
	if err := holdmusic.WriteWAV(&b); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 44+2*loopLen {
		t.Errorf("%d bytes, want %d", b.Len(), 44+2*loopLen)
	}
	path := filepath.Join(t.TempDir(), "hold.wav")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	format, samples, err := wav.ReadAll(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if format != wav.Default {
		t.Errorf("format %v, want %v", format, wav.Default)
	}
	if !slices.Equal(samples, oneLoop(t)) {
		t.Error("the file's samples are not one loop of the music")
	}
	if _, err := exec.LookPath("soxi"); err == nil {
		out, err := exec.Command("soxi", "-D", path).Output()
		if err != nil {
			t.Fatalf("soxi: %v", err)
		}
		if got := strings.TrimSpace(string(out)); got != "40.000000" {
			t.Errorf("soxi reads %s s", got)
		}
	}
	if err := holdmusic.WriteWAV(failWriter{}); err == nil {
		t.Error("a failing writer's error is not returned")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func BenchmarkReadFrame(b *testing.B) {
	src := holdmusic.New()
	buf := make([]int16, frame)
	b.ReportAllocs()
	b.SetBytes(2 * int64(frame))
	for b.Loop() {
		_ = src.ReadFrame(buf)
	}
}

func BenchmarkWriteWAV(b *testing.B) {
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		_ = holdmusic.WriteWAV(&buf)
	}
}
