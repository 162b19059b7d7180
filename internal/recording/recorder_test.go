package recording

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// feed writes silence, a 1 kHz tone and silence, of the given lengths.
func feed(t *testing.T, r *Recorder, lead, tone, tail time.Duration) {
	t.Helper()
	frame := make([]int16, media.FrameSamples)
	n := 0
	write := func(d time.Duration, sound bool) {
		for i := 0; i < int(d/media.FrameDuration); i++ {
			for j := range frame {
				frame[j] = 0
				if sound {
					frame[j] = int16(6000 * math.Sin(2*math.Pi*1000*float64(n)/media.SampleRate))
				}
				n++
			}
			if err := r.WriteFrame(frame); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(lead, false)
	write(tone, true)
	write(tail, false)
}

func readWAV(t *testing.T, path string) []int16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	format, s, err := wav.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if format.SampleRate != 8000 || format.Channels != 1 {
		t.Fatalf("format %v", format)
	}
	return s
}

func TestRecordAndTrim(t *testing.T) {
	for _, trim := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "AC1", "RE1.wav")
		r, err := Start(path)
		if err != nil {
			t.Fatal(err)
		}
		feed(t, r, time.Second, 2*time.Second, 1500*time.Millisecond)
		r.sync(false)
		if s := r.SilentFor(); s < 1200*time.Millisecond || s > 1600*time.Millisecond {
			t.Errorf("SilentFor = %v after 1.5 s of silence", s)
		}
		res, err := r.Stop(trim)
		if err != nil {
			t.Fatal(err)
		}
		got := readWAV(t, path)
		if int64(len(got)) != res.Samples || !res.Voiced || res.Dropped != 0 {
			t.Fatalf("result %+v, file %d samples", res, len(got))
		}
		want, slack := 4500*time.Millisecond, 0*time.Millisecond
		if trim {
			want, slack = 2*time.Second, 250*time.Millisecond // the hangover keeps word ends
		}
		if d := res.Duration(); d < want || d > want+slack {
			t.Errorf("trim=%v: duration %v, want %v (+%v)", trim, d, want, slack)
		}
		if trim && dsp.Level(got[:media.FrameSamples]) < -20 {
			t.Error("trimmed recording does not start with the tone")
		}
		if err := r.WriteFrame(make([]int16, media.FrameSamples)); err != ErrClosed {
			t.Errorf("WriteFrame after Stop: %v", err)
		}
	}
}

func TestSilenceOnlyTrimsToEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RE.wav")
	r, err := Start(path)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, r, 2*time.Second, 0, 0)
	res, err := r.Stop(true)
	if err != nil || res.Samples != 0 || res.Voiced {
		t.Fatalf("silence-only recording: %+v %v, want empty", res, err)
	}
	if len(readWAV(t, path)) != 0 {
		t.Error("file not empty")
	}
}

// A process that dies mid-recording leaves a file whose header was last
// rewritten up to a second earlier; Repair recovers every sample on disk.
func TestCrashLeavesPlayableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RE.wav")
	r, err := Start(path)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, r, 0, 3*time.Second, 0)
	r.sync(true) // the header rewritten, as once a second
	crash := filepath.Join(t.TempDir(), "crashed.wav")
	copyFile(t, path, crash)
	if _, err := r.Stop(false); err != nil {
		t.Fatal(err)
	}

	// The copy, taken mid-recording, is already a readable WAV file.
	if n := len(readWAV(t, crash)); n < media.SampleRate {
		t.Fatalf("crashed file readable with %d samples before repair", n)
	}
	res, err := Repair(crash)
	if err != nil {
		t.Fatal(err)
	}
	got := readWAV(t, crash)
	if int64(len(got)) != res.Samples || res.Samples != 3*media.SampleRate {
		t.Fatalf("repaired file: %d samples, result %+v, want all 24000 written", len(got), res)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

func TestStartFailsOnBadPath(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o644)
	if _, err := Start(filepath.Join(blocker, "RE.wav")); err == nil {
		t.Fatal("Start under a regular file succeeded")
	}
}

func BenchmarkWriteFrame(b *testing.B) {
	r, err := Start(filepath.Join(b.TempDir(), "RE.wav"))
	if err != nil {
		b.Fatal(err)
	}
	frame := make([]int16, media.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		r.WriteFrame(frame)
	}
	b.StopTimer()
	r.Stop(false)
}

// fullDisk is a file that takes limit bytes, then fails as a full disk does.
type fullDisk struct {
	buf   []byte
	pos   int64
	limit int64
}

func (f *fullDisk) Write(p []byte) (int, error) {
	if f.pos+int64(len(p)) > f.limit {
		return 0, syscall.ENOSPC
	}
	if need := f.pos + int64(len(p)); need > int64(len(f.buf)) {
		f.buf = append(f.buf, make([]byte, need-int64(len(f.buf)))...)
	}
	copy(f.buf[f.pos:], p)
	f.pos += int64(len(p))
	return len(p), nil
}

func (f *fullDisk) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		f.pos = off
	case io.SeekCurrent:
		f.pos += off
	case io.SeekEnd:
		f.pos = int64(len(f.buf)) + off
	}
	return f.pos, nil
}

// A full disk ends the recording with an error; frames keep being accepted
// without blocking the media pacer.
func TestDiskFullFailsTheRecording(t *testing.T) {
	w, err := wav.NewWriter(&fullDisk{limit: 20000}, Format)
	if err != nil {
		t.Fatal(err)
	}
	r := start("full.wav", w)
	feed(t, r, 0, 3*time.Second, 0) // 48 KB of samples for a 20 KB disk
	r.sync(false)
	if !r.Failed() {
		t.Fatal("the recorder did not notice the full disk")
	}
	if err := r.WriteFrame(make([]int16, media.FrameSamples)); err != nil && err != ErrClosed {
		t.Fatalf("WriteFrame after failure: %v", err)
	}
	_, err = r.Stop(false)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Stop: %v, want ENOSPC", err)
	}
}
