package audiofile

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

func needTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed", name)
	}
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// drain reads a source to its end in 20 ms frames (at most limit frames).
func drain(t testing.TB, s media.Source, limit int) (samples []int16, frames int) {
	t.Helper()
	frame := make([]int16, media.FrameSamples)
	for range limit {
		err := s.ReadFrame(frame)
		if errors.Is(err, io.EOF) {
			return samples, frames
		}
		if err != nil {
			t.Fatalf("ReadFrame after %d frames: %v", frames, err)
		}
		frames++
		samples = append(samples, frame...)
	}
	t.Fatalf("source did not end within %d frames", limit)
	return nil, 0
}

func openOrFail(t testing.TB, path string) *Source {
	t.Helper()
	s, err := OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile(%s): %v", filepath.Base(path), err)
	}
	return s.(*Source)
}

// mid drops the first and last 40 ms.
func mid(s []int16) []int16 {
	if len(s) < 800 {
		return nil
	}
	return s[320 : len(s)-320]
}

// TestDecodeSoxFiles has sox write a 1 kHz tone at -6 dBFS in many formats and
// rates; each must come out as 8 kHz frames of the right length holding the
// tone at its level.
func TestDecodeSoxFiles(t *testing.T) {
	needTool(t, "sox")
	dir := t.TempDir()
	tests := []struct {
		file   string
		args   []string
		format string
	}{
		{"8k.wav", []string{"-r", "8000"}, FormatWAV},
		{"11k.wav", []string{"-r", "11025"}, FormatWAV},
		{"16k.wav", []string{"-r", "16000"}, FormatWAV},
		{"22k.wav", []string{"-r", "22050"}, FormatWAV},
		{"24k.wav", []string{"-r", "24000"}, FormatWAV},
		{"32k.wav", []string{"-r", "32000"}, FormatWAV},
		{"44k-stereo.wav", []string{"-r", "44100", "-c", "2"}, FormatWAV},
		{"48k-24bit.wav", []string{"-r", "48000", "-b", "24"}, FormatWAV},
		{"8k-ulaw.wav", []string{"-r", "8000", "-e", "u-law"}, FormatWAV},
		{"8k-alaw.wav", []string{"-r", "8000", "-e", "a-law"}, FormatWAV},
		{"16k-8bit.wav", []string{"-r", "16000", "-b", "8"}, FormatWAV},
		{"22k-float.wav", []string{"-r", "22050", "-e", "floating-point"}, FormatWAV},
		{"8k-ulaw.au", []string{"-r", "8000", "-e", "u-law"}, FormatAU},
		{"16k.au", []string{"-r", "16000", "-b", "16"}, FormatAU},
		{"8k-alaw.au", []string{"-r", "8000", "-e", "a-law"}, FormatAU},
		{"44k.aiff", []string{"-r", "44100", "-b", "16"}, FormatAIFF},
		{"22k-stereo-8bit.aiff", []string{"-r", "22050", "-c", "2", "-b", "8"}, FormatAIFF},
		{"8k-ulaw.aifc", []string{"-r", "8000", "-e", "u-law", "-t", "aifc"}, FormatAIFF},
		{"32k-24bit.aiff", []string{"-r", "32000", "-b", "24"}, FormatAIFF},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			args := append([]string{"-D", "-n"}, tt.args...)
			run(t, "sox", append(args, path, "synth", "0.5", "sine", "1000", "vol", "0.5")...)
			s := openOrFail(t, path)
			defer s.Close()
			if s.Format() != tt.format {
				t.Errorf("Format() = %q, want %q", s.Format(), tt.format)
			}
			if d := s.Duration(); d < 499*time.Millisecond || d > 500*time.Millisecond {
				t.Errorf("Duration() = %v, want 500ms", d)
			}
			samples, frames := drain(t, s, 1000)
			if frames != 25 {
				t.Errorf("%d frames, want 25 (0.5 s)", frames)
			}
			want := dsp.DBFS(0.5 * 32768 / math.Sqrt2)
			if l := dsp.NewGoertzel(1000, 8000).Level(mid(samples)); math.Abs(l-want) > 0.5 {
				t.Errorf("1 kHz at %.2f dBFS, want %.2f", l, want)
			}
			// G.711's quantisation noise of a 1 kHz tone falls on its harmonics;
			// 2.5 kHz is clear of them and shows resampling artefacts.
			if l := dsp.NewGoertzel(2500, 8000).Level(mid(samples)); l > want-45 {
				t.Errorf("2.5 kHz at %.2f dBFS next to the tone: distortion", l)
			}
		})
	}
}

// TestKnownWAVThroughG711: a known 8 kHz WAV decodes to exactly its samples,
// and after a μ-law or A-law round trip (what a caller hears) they are still
// within G.711's quantisation error; sox's own μ-law of the same file,
// played as audio/basic, agrees with ours to within one step.
func TestKnownWAVThroughG711(t *testing.T) {
	needTool(t, "sox")
	dir := t.TempDir()
	wavPath := filepath.Join(dir, "known.wav")
	run(t, "sox", "-D", "-n", "-r", "8000", "-b", "16", "-c", "1", wavPath, "synth", "1", "sine", "300-3000", "vol", "0.7")
	raw, err := os.ReadFile(wavPath)
	if err != nil {
		t.Fatal(err)
	}
	pcm := raw[44:]
	want := make([]int16, len(pcm)/2)
	for i := range want {
		want[i] = int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8)
	}
	src, err := Decode(bytes.NewReader(raw), "audio/wav")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := drain(t, src, 100)
	if len(got) != 8000 {
		t.Fatalf("%d samples, want 8000", len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sample %d = %d, want %d: an 8 kHz file must pass unchanged", i, got[i], want[i])
		}
	}
	codes := make([]byte, len(got))
	back := make([]int16, len(got))
	for _, law := range []struct {
		name string
		enc  func([]byte, []int16)
		dec  func([]int16, []byte)
	}{{"μ-law", g711.EncodeUlaw, g711.DecodeUlaw}, {"A-law", g711.EncodeAlaw, g711.DecodeAlaw}} {
		law.enc(codes, got)
		law.dec(back, codes)
		var sig, noise float64
		for i := range want {
			d := float64(back[i]) - float64(want[i])
			if math.Abs(d) > math.Max(16, math.Abs(float64(want[i]))/16) {
				t.Fatalf("%s: sample %d = %d after G.711, want %d", law.name, i, back[i], want[i])
			}
			sig += float64(want[i]) * float64(want[i])
			noise += d * d
		}
		if snr := 10 * math.Log10(sig/noise); snr < 35 {
			t.Errorf("%s: SNR %.1f dB after G.711", law.name, snr)
		}
	}

	ulPath := filepath.Join(dir, "known.ul")
	run(t, "sox", "-D", wavPath, "-t", "ul", ulPath)
	ul, err := os.ReadFile(ulPath)
	if err != nil {
		t.Fatal(err)
	}
	src, err = Decode(bytes.NewReader(ul), "audio/basic")
	if err != nil {
		t.Fatal(err)
	}
	soxed, _ := drain(t, src, 100)
	g711.EncodeUlaw(codes, want)
	g711.DecodeUlaw(back, codes)
	for i := range want {
		if d := math.Abs(float64(soxed[i]) - float64(back[i])); d > math.Max(16, math.Abs(float64(want[i]))/8) { // one step
			t.Fatalf("sample %d: sox's μ-law gives %d, ours %d (from %d)", i, soxed[i], back[i], want[i])
		}
	}
	if s := openOrFail(t, ulPath); s.Format() != FormatRaw {
		t.Errorf(".ul file format %q", s.Format())
	}
}

func TestDecodeEspeak(t *testing.T) {
	needTool(t, "espeak-ng")
	out, err := exec.Command("espeak-ng", "-v", "en-us", "--stdout", "Please hold while we connect your call.").Output()
	if err != nil {
		t.Fatal(err)
	}
	src, err := Decode(io.NopCloser(bytes.NewReader(out)), "audio/x-wav")
	if err != nil {
		t.Fatal(err)
	}
	s := src.(*Source)
	if s.SampleRate() != 22050 || s.Duration() != -1 {
		t.Errorf("rate %d, duration %v; want 22050 and -1 (placeholder sizes)", s.SampleRate(), s.Duration())
	}
	samples, frames := drain(t, s, 5000)
	inSamples := (len(out) - 44) / 2
	wantFrames := (inSamples*8000/22050 + 159) / 160
	if frames < wantFrames || frames > wantFrames+1 {
		t.Errorf("%d frames, want %d (%.2f s of speech)", frames, wantFrames, float64(inSamples)/22050)
	}
	if l := dsp.Level(samples); l < -40 || l > -3 {
		t.Errorf("speech level %.1f dBFS", l)
	}
	// Speech survives G.711: the round trip adds only quantisation noise.
	codes := make([]byte, len(samples))
	back := make([]int16, len(samples))
	g711.EncodeUlaw(codes, samples)
	g711.DecodeUlaw(back, codes)
	var sig, noise float64
	for i := range samples {
		d := float64(back[i]) - float64(samples[i])
		sig += float64(samples[i]) * float64(samples[i])
		noise += d * d
	}
	if snr := 10 * math.Log10(sig/noise); snr < 30 {
		t.Errorf("speech SNR after μ-law %.1f dB", snr)
	}
}

func TestDecodeMP3Fixtures(t *testing.T) {
	tests := []struct {
		file     string
		rate     int
		dur      time.Duration
		freq     float64
		level    float64 // dBFS of the tone
		unwanted float64 // a frequency that must be absent at 8 kHz
	}{
		{"tone1k-44k1-mono.mp3", 44100, time.Second, 1000, dsp.DBFS(0.5 * 32768 / math.Sqrt2), 3000},
		{"tone440-22k05-stereo-id3.mp3", 22050, 500 * time.Millisecond, 440, dsp.DBFS(0.5 * 32768 / math.Sqrt2), 1320},
		// The 6 kHz component would alias to 2 kHz without the anti-aliasing filter.
		{"tone1k6k-48k-mono.mp3", 48000, time.Second, 1000, dsp.DBFS(0.25 * 32768 / math.Sqrt2), 2000},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			s := openOrFail(t, path)
			if s.Format() != FormatMP3 || s.SampleRate() != tt.rate {
				t.Errorf("format %q at %d Hz, want mp3 at %d", s.Format(), s.SampleRate(), tt.rate)
			}
			// MP3 adds encoder and decoder delay: up to ~60 ms.
			if d := s.Duration(); d < tt.dur || d > tt.dur+80*time.Millisecond {
				t.Errorf("Duration() = %v, want about %v", d, tt.dur)
			}
			samples, frames := drain(t, s, 1000)
			if got := time.Duration(frames) * media.FrameDuration; got < tt.dur || got > tt.dur+100*time.Millisecond {
				t.Errorf("played %v, want about %v", got, tt.dur)
			}
			m := mid(samples)
			if l := dsp.NewGoertzel(tt.freq, 8000).Level(m); math.Abs(l-tt.level) > 1 {
				t.Errorf("%g Hz at %.2f dBFS, want %.2f", tt.freq, l, tt.level)
			}
			if l := dsp.NewGoertzel(tt.unwanted, 8000).Level(m); l > tt.level-40 {
				t.Errorf("%g Hz at %.2f dBFS: should be ≥ 40 dB below the tone", tt.unwanted, l)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close after EOF: %v", err)
			}
		})
	}
	// Prove the 48 kHz fixture really carries the 6 kHz tone before resampling.
	f, err := os.Open(filepath.Join("testdata", "tone1k6k-48k-mono.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mr, _, _, err := newMP3(f)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, 24000)
	n := 0
	for n < len(buf) {
		k, err := mr.ReadSamples(buf[n:])
		n += k
		if err != nil {
			break
		}
	}
	if l := dsp.NewGoertzel(6000, 48000).Level(buf[4800:n]); l < -20 {
		t.Errorf("fixture's 6 kHz tone at only %.1f dBFS", l)
	}
}

func TestDecodeMP3FromStream(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "tone440-22k05-stereo-id3.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	// Not a Seeker, wrong content type: sniffed anyway, length unknown.
	src, err := Decode(io.MultiReader(bytes.NewReader(b)), "application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	if d := src.(*Source).Duration(); d != -1 {
		t.Errorf("Duration() = %v from a stream, want -1", d)
	}
	if _, frames := drain(t, src, 1000); frames < 25 || frames > 30 {
		t.Errorf("%d frames", frames)
	}
	// Cut in the middle of a frame: plays what there is, then ends cleanly.
	src, err = Decode(bytes.NewReader(b[:len(b)*2/3]), "audio/mpeg")
	if err != nil {
		t.Fatal(err)
	}
	if _, frames := drain(t, src, 1000); frames < 10 || frames > 25 {
		t.Errorf("truncated mp3: %d frames", frames)
	}
}

func TestDecodeRawContentTypes(t *testing.T) {
	tone := dsp.ToneSamples([]float64{1000}, -10, 200*time.Millisecond)
	ulaw := make([]byte, len(tone))
	g711.EncodeUlaw(ulaw, tone)
	alaw := make([]byte, len(tone))
	g711.EncodeAlaw(alaw, tone)
	l16 := make([]byte, 0, 4*len(tone))
	for _, v := range tone { // 16 kHz stereo big-endian: each sample twice in time, twice in channels
		for range 4 {
			l16 = append(l16, byte(uint16(v)>>8), byte(v))
		}
	}
	tests := []struct {
		ct   string
		data []byte
	}{
		{"audio/basic", ulaw},
		{"audio/x-mulaw", ulaw},
		{"audio/PCMU", ulaw},
		{"audio/basic; rate=8000; channels=1", ulaw},
		{"audio/x-alaw", alaw},
		{"audio/L16; rate=16000; channels=2", l16},
	}
	for _, tt := range tests {
		t.Run(tt.ct, func(t *testing.T) {
			src, err := Decode(bytes.NewReader(tt.data), tt.ct)
			if err != nil {
				t.Fatal(err)
			}
			samples, frames := drain(t, src, 100)
			if frames != 10 {
				t.Errorf("%d frames, want 10", frames)
			}
			if l := dsp.NewGoertzel(1000, 8000).Level(mid(samples)); math.Abs(l+10) > 0.5 {
				t.Errorf("1 kHz at %.2f dBFS, want -10", l)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	fakeSync := append([]byte{0xFF, 0xFB, 0x90, 0x64}, bytes.Repeat([]byte{0x55}, 600)...)
	tests := []struct {
		name string
		data []byte
		ct   string
		want error
	}{
		{"empty", nil, "audio/mpeg", ErrUnsupported},
		{"html error page", []byte("<!DOCTYPE html><html><body>404 Not Found</body></html>"), "text/html", ErrUnsupported},
		{"json", []byte(`{"code": 20404}`), "application/json", ErrUnsupported},
		{"text claiming wav", []byte("this is not audio at all, honestly"), "audio/wav", ErrUnsupported},
		{"ogg", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"), "audio/ogg", ErrUnsupported},
		{"flac", []byte("fLaC\x00\x00\x00\x22\x10\x00\x10\x00"), "audio/flac", ErrUnsupported},
		{"bad content type", []byte("xxxxxxxxxxxxxxxx"), "audio/basic; rate=", ErrUnsupported},
		{"L16 with a silly rate", []byte("xxxxxxxxxxxxxxxx"), "audio/L16; rate=0", ErrUnsupported},
		{"wav header cut", []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00"), "audio/wav", ErrMalformed},
		{"wav ADPCM", append([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x02\x00\x01\x00\x40\x1f\x00\x00\x40\x1f\x00\x00\x00\x01\x04\x00"), "data\x00\x00\x00\x00"...), "audio/wav", ErrUnsupported},
		{"au cut", []byte(".snd\x00\x00\x00\x18\x00\x00"), "audio/basic", ErrMalformed},
		{"au unknown encoding", []byte(".snd\x00\x00\x00\x18\xff\xff\xff\xff\x00\x00\x00\x17\x00\x00\x1f\x40\x00\x00\x00\x01"), "audio/basic", ErrUnsupported},
		{"aiff without sound", []byte("FORM\x00\x00\x00\x04AIFF"), "audio/aiff", ErrMalformed},
		{"id3 then nothing", []byte("ID3\x03\x00\x00\x00\x00\x00\x10"), "audio/mpeg", ErrMalformed},
		{"mp3 sync then garbage", fakeSync, "audio/mpeg", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := Decode(bytes.NewReader(tt.data), tt.ct)
			if err == nil {
				// Some damage only shows while decoding.
				frame := make([]int16, 160)
				for range 100 {
					if err = src.ReadFrame(frame); err != nil {
						break
					}
				}
				if errors.Is(err, io.EOF) {
					err = nil
				}
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := OpenFile(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// closeCounter records Close calls on a reader.
type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

func TestSourceClosesAtEOF(t *testing.T) {
	ulaw := bytes.Repeat([]byte{0xFF}, 400)
	cc := &closeCounter{Reader: bytes.NewReader(ulaw)}
	src, err := Decode(cc, "audio/basic")
	if err != nil {
		t.Fatal(err)
	}
	if _, frames := drain(t, src, 10); frames != 3 {
		t.Errorf("%d frames from 400 samples, want 3", frames)
	}
	if cc.closed != 1 {
		t.Errorf("closed %d times at EOF, want 1", cc.closed)
	}
	if err := src.(*Source).Close(); err != nil || cc.closed != 1 {
		t.Errorf("Close after EOF: %v, closed %d times", err, cc.closed)
	}
	if err := src.ReadFrame(make([]int16, 160)); !errors.Is(err, io.EOF) {
		t.Errorf("ReadFrame after Close: %v", err)
	}
	cc = &closeCounter{Reader: bytes.NewReader(ulaw)}
	src, _ = Decode(cc, "audio/basic")
	if err := src.(*Source).Close(); err != nil || cc.closed != 1 {
		t.Errorf("early Close: %v, closed %d", err, cc.closed)
	}
}

func TestLoop(t *testing.T) {
	opens := 0
	open := func() (media.Source, error) {
		opens++
		return dsp.ToneSource([]float64{440}, -10, 70*time.Millisecond), nil // 4 frames
	}
	if _, frames := drain(t, Loop(open, 3), 100); frames != 12 || opens != 3 {
		t.Errorf("loop 3: %d frames, %d opens; want 12, 3", frames, opens)
	}
	opens = 0
	if _, frames := drain(t, Loop(open, 0), 5000); frames != 4*MaxLoop || opens != MaxLoop {
		t.Errorf("loop 0: %d frames, %d opens; want %d, %d", frames, opens, 4*MaxLoop, MaxLoop)
	}
	l := Loop(open, 5)
	frame := make([]int16, 160)
	for i := range 6 {
		if err := l.ReadFrame(frame); err != nil {
			t.Fatalf("loop ended after %d frames: %v", i, err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.ReadFrame(frame); !errors.Is(err, io.EOF) {
		t.Errorf("after Close: %v", err)
	}
	empty := func() (media.Source, error) { return dsp.SilenceSource(0), nil }
	if _, frames := drain(t, Loop(empty, 0), 10); frames != 0 {
		t.Errorf("looping an empty source for ever gave %d frames", frames)
	}
	boom := errors.New("fetch failed")
	failing := func() (media.Source, error) { return nil, boom }
	if err := Loop(failing, 2).ReadFrame(frame); !errors.Is(err, boom) {
		t.Errorf("open error: %v", err)
	}
}

func TestIsMP3(t *testing.T) {
	tests := []struct {
		head []byte
		want bool
	}{
		{[]byte("ID3\x04"), true},
		{[]byte{0xFF, 0xFB, 0x90, 0x64}, true},  // MPEG-1 layer III 128 kbit/s 44.1 kHz
		{[]byte{0xFF, 0xF3, 0x48, 0xC4}, true},  // MPEG-2 layer III
		{[]byte{0xFF, 0xFD, 0x90, 0x64}, false}, // layer II
		{[]byte{0xFF, 0xEB, 0x90, 0x64}, false}, // reserved version
		{[]byte{0xFF, 0xFB, 0xF0, 0x64}, false}, // bad bit rate
		{[]byte{0xFF, 0xFB, 0x9C, 0x64}, false}, // bad sampling frequency
		{[]byte{0xFF, 0xFB}, false},
		{[]byte("RIFF"), false},
	}
	for _, tt := range tests {
		if got := isMP3(tt.head); got != tt.want {
			t.Errorf("isMP3(% x) = %v", tt.head, got)
		}
	}
}

func TestExtended(t *testing.T) {
	// 44100 and 8000 as AIFF writes them.
	if got := extended([]byte{0x40, 0x0E, 0xAC, 0x44, 0, 0, 0, 0, 0, 0}); got != 44100 {
		t.Errorf("extended(44100) = %g", got)
	}
	if got := extended([]byte{0x40, 0x0B, 0xFA, 0, 0, 0, 0, 0, 0, 0}); got != 8000 {
		t.Errorf("extended(8000) = %g", got)
	}
	if got := extended([]byte{0x7F, 0xFF, 0xC0, 0, 0, 0, 0, 0, 0, 0}); got != 0 {
		t.Errorf("extended(NaN) = %g", got)
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"tone440-22k05-stereo-id3.mp3"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err == nil {
			f.Add(b[:min(len(b), 1200)], "audio/mpeg")
		}
	}
	f.Add([]byte("RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x08\x00\x00\x00\x01\x00\x02\x00\x03\x00\x04\x00"), "audio/wav")
	f.Add([]byte(".snd\x00\x00\x00\x18\xff\xff\xff\xff\x00\x00\x00\x01\x00\x00\x1f\x40\x00\x00\x00\x01\xff\x80\x00"), "")
	f.Add([]byte("FORM\x00\x00\x00\x30AIFFCOMM\x00\x00\x00\x12\x00\x01\x00\x00\x00\x02\x00\x10\x40\x0B\xFA\x00\x00\x00\x00\x00\x00\x00SSND\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04"), "audio/aiff")
	f.Add([]byte{0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0}, "audio/mpeg")
	f.Add([]byte{1, 2, 3, 4, 5}, "audio/L16;rate=44100;channels=2")
	f.Fuzz(func(t *testing.T, data []byte, ct string) {
		src, err := Decode(bytes.NewReader(data), ct)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		frame := make([]int16, 160)
		for range 2000 {
			if err := src.ReadFrame(frame); err != nil {
				return
			}
		}
	})
}

func BenchmarkDecodeMP3(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "tone1k-44k1-mono.mp3"))
	if err != nil {
		b.Fatal(err)
	}
	frame := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		src, err := Decode(bytes.NewReader(data), "audio/mpeg")
		if err != nil {
			b.Fatal(err)
		}
		for src.ReadFrame(frame) == nil {
		}
	}
}
