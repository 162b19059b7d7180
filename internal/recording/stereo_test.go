package recording

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
)

// span is a stretch of stereo audio: a tone of left Hz on channel 1 and one
// of right Hz on channel 2, 0 for silence.
type span struct {
	d           time.Duration
	left, right float64
}

// feedStereo writes the spans to r, frame by frame.
func feedStereo(t testing.TB, r *Recorder, spans ...span) {
	t.Helper()
	left := make([]int16, media.FrameSamples)
	right := make([]int16, media.FrameSamples)
	n := 0
	tone := func(f float64, i int) int16 {
		if f == 0 {
			return 0
		}
		return int16(6000 * math.Sin(2*math.Pi*f*float64(i)/media.SampleRate))
	}
	for _, s := range spans {
		for range int(s.d / media.FrameDuration) {
			for j := range left {
				left[j], right[j] = tone(s.left, n), tone(s.right, n)
				n++
			}
			if err := r.WriteStereo(left, right); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// readStereo reads a recording back, one slice per channel.
func readStereo(t testing.TB, path string) (left, right []int16) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	format, s, err := wav.ReadAllInterleaved(f)
	if err != nil {
		t.Fatal(err)
	}
	if format != StereoFormat {
		t.Fatalf("format %v, want %v", format, StereoFormat)
	}
	if len(s)%2 != 0 {
		t.Fatalf("%d samples: not whole stereo frames", len(s))
	}
	for i := 0; i < len(s); i += 2 {
		left = append(left, s[i])
		right = append(right, s[i+1])
	}
	return left, right
}

// power is the energy of s at freq Hz (Goertzel), normalised by length.
func power(s []int16, freq float64) float64 {
	if len(s) == 0 {
		return 0
	}
	k := 2 * math.Cos(2*math.Pi*freq/media.SampleRate)
	var s1, s2 float64
	for _, v := range s {
		s0 := float64(v) + k*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - k*s1*s2) / float64(len(s)*len(s))
}

// hasTone checks that s holds a tone at want Hz, at least 30 dB above the
// other frequency.
func hasTone(t *testing.T, name string, s []int16, want, other float64) {
	t.Helper()
	pw, po := power(s, want), power(s, other)
	if pw < 1e6 || pw < 1000*po {
		t.Errorf("%s: power %.3g at %v Hz, %.3g at %v Hz: want the %v Hz tone alone", name, pw, want, po, other, want)
	}
}

func TestStereoKeepsEachSideOnItsChannel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "AC1", "RE1.wav")
	r, err := StartStereo(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Channels() != 2 {
		t.Fatalf("Channels() = %d", r.Channels())
	}
	feedStereo(t, r, span{d: time.Second}, span{time.Second, 440, 1000}, span{d: time.Second})
	r.sync(false)
	if s := r.SilentFor(); s < 700*time.Millisecond || s > 1100*time.Millisecond {
		t.Errorf("SilentFor = %v after 1 s of silence", s)
	}
	res, err := r.Stop(false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Channels != 2 || res.Samples != 3*media.SampleRate || res.Duration() != 3*time.Second || !res.Voiced || res.Dropped != 0 {
		t.Fatalf("result %+v (duration %v), want 2 channels, 3 s", res, res.Duration())
	}
	left, right := readStereo(t, path)
	if int64(len(left)) != res.Samples {
		t.Fatalf("file has %d frames, result says %d", len(left), res.Samples)
	}
	sec := media.SampleRate
	hasTone(t, "left", left[sec:2*sec], 440, 1000)
	hasTone(t, "right", right[sec:2*sec], 1000, 440)
	for _, part := range [][]int16{left[:sec], left[2*sec:], right[:sec], right[2*sec:]} {
		if lvl := dsp.Level(part); !math.IsInf(lvl, -1) {
			t.Errorf("silence reads %.1f dBFS", lvl)
		}
	}
	if err := r.WriteStereo(left[:160], right[:160]); err != ErrClosed {
		t.Errorf("WriteStereo after Stop: %v", err)
	}
}

func TestStereoWriteFrameAndErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RE.wav")
	r, err := StartStereo(path)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, media.FrameSamples)
	if err := r.WriteStereo(frame, frame[:80]); !errors.Is(err, ErrChannelLength) {
		t.Errorf("channels of different lengths: %v", err)
	}
	for i := range frame {
		frame[i] = int16(i * 50)
	}
	if err := r.WriteFrame(frame); err != nil { // goes to both channels
		t.Fatal(err)
	}
	res, err := r.Stop(false)
	if err != nil || res.Samples != int64(media.FrameSamples) || res.Channels != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	left, right := readStereo(t, path)
	for i := range frame {
		if left[i] != frame[i] || right[i] != frame[i] {
			t.Fatalf("sample %d: %d/%d, want %d on both", i, left[i], right[i], frame[i])
		}
	}

	mono, err := Start(filepath.Join(t.TempDir(), "mono.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if err := mono.WriteStereo(frame, frame); !errors.Is(err, ErrNotStereo) {
		t.Errorf("WriteStereo on mono: %v", err)
	}
	if res, err := mono.Stop(false); err != nil || res.Channels != 1 {
		t.Errorf("mono result %+v %v", res, err)
	}
}

// Trimming a stereo recording keeps every frame where either side speaks:
// here the left side starts, the right side ends.
func TestStereoTrim(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RE.wav")
	r, err := StartStereo(path)
	if err != nil {
		t.Fatal(err)
	}
	feedStereo(t, r,
		span{d: time.Second},
		span{500 * time.Millisecond, 440, 0},
		span{500 * time.Millisecond, 440, 1000},
		span{500 * time.Millisecond, 0, 1000},
		span{d: 1500 * time.Millisecond},
	)
	res, err := r.Stop(true)
	if err != nil {
		t.Fatal(err)
	}
	if want, slack := 1500*time.Millisecond, 250*time.Millisecond; res.Duration() < want || res.Duration() > want+slack {
		t.Errorf("trimmed duration %v, want %v (+%v)", res.Duration(), want, slack)
	}
	left, right := readStereo(t, path)
	if int64(len(left)) != res.Samples || res.Channels != 2 || !res.Voiced {
		t.Fatalf("result %+v, file %d frames", res, len(left))
	}
	half := media.SampleRate / 2
	hasTone(t, "left at the start", left[:half], 440, 1000)
	if lvl := dsp.Level(right[:half]); !math.IsInf(lvl, -1) {
		t.Errorf("right side at the start reads %.1f dBFS, want silence", lvl)
	}
	hasTone(t, "right at the end", right[2*half:3*half], 1000, 440)
	if lvl := dsp.Level(left[2*half : 3*half]); !math.IsInf(lvl, -1) {
		t.Errorf("left side at the end reads %.1f dBFS, want silence", lvl)
	}

	// Silence on both sides trims to nothing.
	path = filepath.Join(t.TempDir(), "RE2.wav")
	r, err = StartStereo(path)
	if err != nil {
		t.Fatal(err)
	}
	feedStereo(t, r, span{d: time.Second})
	res, err = r.Stop(true)
	if err != nil || res.Samples != 0 || res.Voiced {
		t.Fatalf("silence-only stereo recording: %+v %v, want empty", res, err)
	}
	if left, _ := readStereo(t, path); len(left) != 0 {
		t.Error("file not empty")
	}
}

// A stereo recording left by a crash: the copy taken mid-recording is
// readable, and Repair makes the sizes right, to whole stereo frames.
func TestStereoCrashRepair(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RE.wav")
	r, err := StartStereo(path)
	if err != nil {
		t.Fatal(err)
	}
	feedStereo(t, r, span{3 * time.Second, 440, 1000})
	r.sync(true) // the header rewritten, as once a second
	crash := filepath.Join(t.TempDir(), "crashed.wav")
	copyFile(t, path, crash)
	if _, err := r.Stop(false); err != nil {
		t.Fatal(err)
	}
	if left, _ := readStereo(t, crash); len(left) < media.SampleRate {
		t.Fatalf("crashed file readable with %d frames before repair", len(left))
	}
	res, err := Repair(crash)
	if err != nil {
		t.Fatal(err)
	}
	if res.Channels != 2 || res.Samples != 3*media.SampleRate || res.Duration() != 3*time.Second {
		t.Fatalf("repaired: %+v, want 2 channels, 3 s", res)
	}

	// Make the stopped file look as a crash leaves it: sizes as of the
	// first second, and half a stereo frame (one left sample) at the end.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const header = 44
	stale := uint32(media.SampleRate * StereoFormat.BlockAlign())
	binary.LittleEndian.PutUint32(b[4:], header-8+stale)
	binary.LittleEndian.PutUint32(b[header-4:], stale)
	b = append(b, 0x34, 0x12)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if left, _ := readStereo(t, path); len(left) != media.SampleRate {
		t.Fatalf("stale header: %d frames, want the first second's", len(left))
	}
	res, err = Repair(path)
	if err != nil {
		t.Fatal(err)
	}
	if res.Channels != 2 || res.Samples != 3*media.SampleRate {
		t.Fatalf("repaired: %+v, want 2 channels, 3 s", res)
	}
	left, right := readStereo(t, path)
	if int64(len(left)) != res.Samples {
		t.Fatalf("repaired file: %d frames, result %+v", len(left), res)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != header+3*media.SampleRate*4 {
		t.Errorf("repaired file size %v %v: the half frame was not cut", st.Size(), err)
	}
	hasTone(t, "repaired left", left[2*media.SampleRate:], 440, 1000)
	hasTone(t, "repaired right", right[2*media.SampleRate:], 1000, 440)
}

// WriteStereo runs on the media pacer: once the recording runs it must not
// allocate, whether the writer keeps up or frames are dropped.
func TestWriteStereoDoesNotAllocate(t *testing.T) {
	r, err := StartStereo(filepath.Join(t.TempDir(), "RE.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop(false)
	left := make([]int16, media.FrameSamples)
	right := make([]int16, media.FrameSamples)
	for range 2 * queueFrames { // warm up: fill the queue and the spares
		r.WriteStereo(left, right)
	}
	if n := testing.AllocsPerRun(2000, func() { r.WriteStereo(left, right) }); n != 0 {
		t.Errorf("WriteStereo: %v allocations per frame", n)
	}
}

func BenchmarkWriteStereo(b *testing.B) {
	r, err := StartStereo(filepath.Join(b.TempDir(), "RE.wav"))
	if err != nil {
		b.Fatal(err)
	}
	left := make([]int16, media.FrameSamples)
	right := make([]int16, media.FrameSamples)
	for i := range left {
		left[i] = int16(i * 10)
		right[i] = int16(-i * 10)
	}
	b.ReportAllocs()
	for b.Loop() {
		r.WriteStereo(left, right)
	}
	b.StopTimer()
	r.Stop(false)
}
