package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// sine returns n samples of a sine at freq Hz, sampled at rate, with peak amp.
func sine(n, rate int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// memFile is an in-memory io.WriteSeeker (and io.WriterAt when wrapped so).
type memFile struct {
	b   []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	end := m.off + int64(len(p))
	if end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	copy(m.b[m.off:], p)
	m.off = end
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.off = off
	case io.SeekCurrent:
		m.off += off
	case io.SeekEnd:
		m.off = int64(len(m.b)) + off
	}
	return m.off, nil
}

func needSox(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("sox"); err != nil {
		t.Skip("sox not installed")
	}
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func readFile(t testing.TB, path string) (Format, []int16) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	format, samples, err := ReadAll(f)
	if err != nil {
		t.Fatalf("ReadAll(%s): %v", filepath.Base(path), err)
	}
	return format, samples
}

// TestReadSoxFormats has sox write one signal in every encoding the reader
// supports and checks each decodes to the 16-bit reference within the
// precision of its encoding.
func TestReadSoxFormats(t *testing.T) {
	needSox(t)
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.wav")
	run(t, "sox", "-D", "-n", "-r", "8000", "-b", "16", "-c", "1", ref, "synth", "0.25", "sine", "440", "vol", "0.5")
	_, want := readFile(t, ref)
	if len(want) != 2000 {
		t.Fatalf("reference has %d samples, want 2000", len(want))
	}
	tests := []struct {
		name   string
		args   []string
		format Format
		tol    func(int16) float64
	}{
		{"pcm8", []string{"-b", "8"}, Format{PCM, 8000, 1, 8}, func(int16) float64 { return 256 }},
		{"pcm24 extensible", []string{"-b", "24"}, Format{PCM, 8000, 1, 24}, func(int16) float64 { return 0 }},
		{"pcm24 plain", []string{"-t", "wavpcm", "-b", "24"}, Format{PCM, 8000, 1, 24}, func(int16) float64 { return 0 }},
		{"pcm32", []string{"-b", "32"}, Format{PCM, 8000, 1, 32}, func(int16) float64 { return 0 }},
		{"float32", []string{"-e", "floating-point", "-b", "32"}, Format{Float, 8000, 1, 32}, func(int16) float64 { return 1 }},
		{"float64", []string{"-e", "floating-point", "-b", "64"}, Format{Float, 8000, 1, 64}, func(int16) float64 { return 1 }},
		{"ulaw", []string{"-e", "u-law"}, Format{Ulaw, 8000, 1, 8}, func(s int16) float64 { return math.Max(8, math.Abs(float64(s))/16) }},
		{"alaw", []string{"-e", "a-law"}, Format{Alaw, 8000, 1, 8}, func(s int16) float64 { return math.Max(16, math.Abs(float64(s))/16) }},
		{"stereo", []string{"-c", "2"}, Format{PCM, 8000, 2, 16}, func(int16) float64 { return 0 }},
		{"quad extensible", []string{"-c", "4"}, Format{PCM, 8000, 4, 16}, func(int16) float64 { return 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".wav")
			run(t, "sox", append(append([]string{"-D", ref}, tt.args...), path)...)
			format, got := readFile(t, path)
			if format != tt.format {
				t.Errorf("format = %v, want %v", format, tt.format)
			}
			if len(got) != len(want) {
				t.Fatalf("%d samples, want %d", len(got), len(want))
			}
			for i := range want {
				if d := math.Abs(float64(got[i]) - float64(want[i])); d > tt.tol(want[i]) {
					t.Fatalf("sample %d = %d, want %d ± %.0f", i, got[i], want[i], tt.tol(want[i]))
				}
			}
		})
	}
}

// TestReadEspeak reads espeak-ng's streamed output, whose sizes are
// placeholders, until the end of the input.
func TestReadEspeak(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
	out, err := exec.Command("espeak-ng", "-v", "en-us", "--stdout", "Hello, this is switchboard.").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint32(out[40:44]); got != 0x7ffffff0 {
		t.Logf("espeak-ng data size is %#x, not the placeholder this test is about", got)
	}
	r, err := NewReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.Frames() != -1 || r.Duration() != -1 {
		t.Errorf("Frames, Duration = %d, %v; want -1, -1 for a placeholder size", r.Frames(), r.Duration())
	}
	format, samples, err := ReadAll(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if format != (Format{PCM, 22050, 1, 16}) {
		t.Errorf("format %v", format)
	}
	if want := (len(out) - 44) / 2; len(samples) != want {
		t.Errorf("%d samples, want %d (everything to EOF)", len(samples), want)
	}
	var peak int16
	for _, s := range samples {
		peak = max(peak, s, -s)
	}
	if peak < 3000 {
		t.Errorf("peak %d: speech expected", peak)
	}
}

// chunk builds a RIFF chunk with its pad byte.
func chunk(id string, body []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func fmtBody(tag, ch uint16, rate uint32, align, bits uint16) []byte {
	le := binary.LittleEndian
	b := le.AppendUint16(nil, tag)
	b = le.AppendUint16(b, ch)
	b = le.AppendUint32(b, rate)
	b = le.AppendUint32(b, rate*uint32(align))
	b = le.AppendUint16(b, align)
	return le.AppendUint16(b, bits)
}

func riff(chunks ...[]byte) []byte {
	body := []byte("WAVE")
	for _, c := range chunks {
		body = append(body, c...)
	}
	return chunk("RIFF", body)
}

func pcm16(s ...int16) []byte {
	var b []byte
	for _, v := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

func TestReadCrafted(t *testing.T) {
	fmt16 := chunk("fmt ", fmtBody(1, 1, 16000, 2, 16))
	data := chunk("data", pcm16(1, -2, 300, -32768, 32767))
	all := []int16{1, -2, 300, -32768, 32767}
	withCount := func(b []byte, off int, v uint32) []byte {
		b = bytes.Clone(b)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		want    []int16
		wantErr error
	}{
		{"plain", riff(fmt16, data), all, nil},
		{"LIST and fact before data", riff(chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00test\x00")), fmt16, chunk("fact", []byte{5, 0, 0, 0}), data), all, nil},
		{"odd chunk padded", riff(chunk("junk", []byte{1, 2, 3}), fmt16, data), all, nil},
		{"odd fmt chunk padded", riff(chunk("fmt ", append(fmtBody(1, 1, 16000, 2, 16), 0, 0, 7)), data), all, nil},
		{"chunk after data ignored", riff(fmt16, data, chunk("LIST", []byte("INFO"))), all, nil},
		{"placeholder data size", withCount(riff(fmt16, data), 40, 0x7ffffff0), all, nil},
		{"max data size", withCount(riff(fmt16, data), 40, 0xffffffff), all, nil},
		{"zero data size reads to EOF", withCount(riff(fmt16, data), 40, 0), all, nil},
		{"data cut short", withCount(riff(fmt16, data), 40, 100), all, nil},
		{"partial last frame dropped", riff(fmt16, chunk("data", append(pcm16(7, 8), 9))), []int16{7, 8}, nil},
		{"data shorter than file", riff(fmt16, withCount(data, 4, 4)), []int16{1, -2}, nil},
		{"stereo downmix", riff(chunk("fmt ", fmtBody(1, 2, 8000, 4, 16)), chunk("data", pcm16(100, 300, -100, -301))), []int16{200, -200}, nil},
		{"8-bit unsigned", riff(chunk("fmt ", fmtBody(1, 1, 8000, 1, 8)), chunk("data", []byte{0x80, 0xFF, 0x00})), []int16{0, 127 << 8, -32768}, nil},
		{"μ-law", riff(chunk("fmt ", fmtBody(7, 1, 8000, 1, 8)), chunk("data", []byte{0xFF, 0x80, 0x00})), []int16{0, 32124, -32124}, nil},
		{"A-law", riff(chunk("fmt ", fmtBody(6, 1, 8000, 1, 8)), chunk("data", []byte{0xD5, 0xAA})), []int16{8, 32256}, nil},
		{"zero block align tolerated", riff(chunk("fmt ", fmtBody(1, 1, 8000, 0, 16)), data), all, nil},
		{"24 bits in 32-bit containers", riff(chunk("fmt ", fmtBody(1, 1, 8000, 4, 24)), chunk("data", []byte{0, 0, 0x34, 0x12})), []int16{0x1234}, nil},

		{"empty", nil, nil, ErrNotWAVE},
		{"text", []byte("hello, this is not a wave file at all"), nil, ErrNotWAVE},
		{"RIFF but AVI", chunk("RIFF", []byte("AVI LIST")), nil, ErrNotWAVE},
		{"RIFX", append([]byte("RIFX\x00\x00\x00\x00WAVE"), fmt16...), nil, ErrUnsupported},
		{"no chunks", riff(), nil, ErrNoData},
		{"no data chunk", riff(fmt16), nil, ErrNoData},
		{"data before fmt", riff(data, fmt16), nil, ErrMalformed},
		{"short fmt", riff(chunk("fmt ", []byte{1, 0, 1, 0}), data), nil, ErrMalformed},
		{"huge fmt", riff(chunk("fmt ", make([]byte, 4000)), data), nil, ErrMalformed},
		{"fmt cut short", append(riff(), "fmt \x10\x00\x00\x00\x01\x00"...), nil, ErrMalformed},
		{"zero channels", riff(chunk("fmt ", fmtBody(1, 0, 8000, 2, 16)), data), nil, ErrMalformed},
		{"zero rate", riff(chunk("fmt ", fmtBody(1, 1, 0, 2, 16)), data), nil, ErrMalformed},
		{"bad block align", riff(chunk("fmt ", fmtBody(1, 2, 8000, 3, 16)), data), nil, ErrMalformed},
		{"ADPCM", riff(chunk("fmt ", fmtBody(2, 1, 8000, 256, 4)), data), nil, ErrUnsupported},
		{"MP3 in WAVE", riff(chunk("fmt ", fmtBody(0x55, 1, 8000, 1, 0)), data), nil, ErrUnsupported},
		{"PCM 48 bits", riff(chunk("fmt ", fmtBody(1, 1, 8000, 6, 48)), data), nil, ErrUnsupported},
		{"μ-law 16 bits", riff(chunk("fmt ", fmtBody(7, 1, 8000, 2, 16)), data), nil, ErrMalformed},
		{"second fmt", riff(fmt16, fmt16, data), nil, ErrMalformed},
		{"short extensible", riff(chunk("fmt ", fmtBody(0xFFFE, 1, 8000, 2, 16)), data), nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := ReadAll(bytes.NewReader(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("samples = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExtensibleSubFormats(t *testing.T) {
	ext := func(sub uint16, bits uint16) []byte {
		b := fmtBody(0xFFFE, 1, 8000, bits/8, bits)
		b = binary.LittleEndian.AppendUint16(b, 22)
		b = binary.LittleEndian.AppendUint16(b, bits)
		b = binary.LittleEndian.AppendUint32(b, 4) // front centre
		b = binary.LittleEndian.AppendUint16(b, sub)
		return append(b, ksSubtypeTail...)
	}
	_, got, err := ReadAll(bytes.NewReader(riff(chunk("fmt ", ext(7, 8)), chunk("data", []byte{0x80, 0x00}))))
	if err != nil || fmt.Sprint(got) != "[32124 -32124]" {
		t.Errorf("extensible μ-law: %v, %v", got, err)
	}
	bad := ext(1, 16)
	bad[len(bad)-1] ^= 0xFF // not the KSDATAFORMAT_SUBTYPE GUID family
	if _, _, err := ReadAll(bytes.NewReader(riff(chunk("fmt ", bad), chunk("data", pcm16(1))))); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown sub-format GUID: err = %v, want ErrUnsupported", err)
	}
}

// oneByteReader returns one byte per Read, to exercise partial reads.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestReadPartialReads(t *testing.T) {
	want := sine(1001, 8000, 700, 9000)
	var mf memFile
	w, err := NewWriter(&mf, Format{Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	stereo := make([]int16, 0, 2*len(want))
	for _, s := range want {
		stereo = append(stereo, s, s)
	}
	if err := w.WriteSamples(stereo); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(oneByteReader{bytes.NewReader(mf.b)})
	if err != nil {
		t.Fatal(err)
	}
	var got []int16
	buf := make([]int16, 7)
	for {
		n, err := r.ReadSamples(buf)
		got = append(got, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("partial reads changed the samples")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadError(t *testing.T) {
	hdr := riff(chunk("fmt ", fmtBody(1, 1, 8000, 2, 16)))
	hdr = append(hdr, "data\x00\x10\x00\x00"...)
	r, err := NewReader(io.MultiReader(bytes.NewReader(hdr), errReader{}))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, 10)
	if _, err := r.ReadSamples(buf); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v, want the underlying error", err)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	src := sine(8000, 8000, 1000, 12000)
	tests := []struct {
		format Format
		tol    float64
	}{
		{Format{}, 0},
		{Format{Encoding: Ulaw}, 400},
		{Format{Encoding: Alaw}, 400},
		{Format{SampleRate: 16000}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.format.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.wav")
			w, err := Create(path, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(src); i += 160 {
				if err := w.WriteFrame(src[i : i+160]); err != nil {
					t.Fatal(err)
				}
			}
			if got := w.Frames(); got != int64(len(src)) {
				t.Errorf("Frames() = %d", got)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); !errors.Is(err, ErrClosed) {
				t.Errorf("second Close: %v", err)
			}
			if err := w.WriteFrame(src[:160]); !errors.Is(err, ErrClosed) {
				t.Errorf("WriteFrame after Close: %v", err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			if r.Frames() != int64(len(src)) {
				t.Errorf("header says %d frames, want %d", r.Frames(), len(src))
			}
			_, got, err := ReadAll(bytes.NewReader(mustRead(t, path)))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(src) {
				t.Fatalf("%d samples back, want %d", len(got), len(src))
			}
			for i := range src {
				if math.Abs(float64(got[i])-float64(src[i])) > tt.tol {
					t.Fatalf("sample %d: %d, want %d", i, got[i], src[i])
				}
			}
			if tt.format.Encoding == Ulaw {
				var codes [1]byte
				g711.EncodeUlaw(codes[:], src[5:6])
				if want := g711.DecodeUlawSample(codes[0]); got[5] != want {
					t.Errorf("μ-law sample = %d, want G.711's %d", got[5], want)
				}
			}
		})
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSoxAcceptsOurFiles has an independent reader (sox) check the files the
// Writer makes, including one cut off after a Flush.
func TestSoxAcceptsOurFiles(t *testing.T) {
	needSox(t)
	for _, f := range []Format{{}, {Encoding: Ulaw}, {Encoding: Alaw, Channels: 2}} {
		path := filepath.Join(t.TempDir(), "x.wav")
		w, err := Create(path, f)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteSamples(sine(4000*f.Channels+4000*(1-min(f.Channels, 1)), 8000, 500, 8000)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("soxi", "-s", path).CombinedOutput()
		if err != nil {
			t.Fatalf("soxi %v: %v %s", f, err, out)
		}
		if strings.TrimSpace(string(out)) != "4000" {
			t.Errorf("%v: soxi says %s samples, want 4000", f, out)
		}
	}
}

// TestFlushMakesPlayableFile simulates a crash: the file as it stands after a
// Flush (and after more samples, some of which reached the disk unflushed) is a
// valid WAVE file holding at least everything up to the Flush; Repair then
// recovers every whole frame that reached the disk.
func TestFlushMakesPlayableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	w, err := Create(path, Format{})
	if err != nil {
		t.Fatal(err)
	}
	if _, samples := readBytes(t, mustRead(t, path)); len(samples) != 0 {
		t.Errorf("fresh file holds %d samples", len(samples))
	}
	src := sine(24000, 8000, 440, 10000)
	if err := w.WriteSamples(src[:8000]); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSamples(src[8000:]); err != nil { // 32000 bytes: most reach the file unflushed
		t.Fatal(err)
	}
	crashed := mustRead(t, path) // what a crash now would leave
	r, err := NewReader(bytes.NewReader(crashed))
	if err != nil {
		t.Fatal(err)
	}
	if r.Frames() != 8000 {
		t.Errorf("after Flush the header says %d frames, want 8000", r.Frames())
	}
	_, got := readBytes(t, crashed)
	if len(got) != 8000 || fmt.Sprint(got) != fmt.Sprint(src[:8000]) {
		t.Errorf("crashed file plays %d samples, want the 8000 flushed", len(got))
	}

	// Leave a torn last sample as a crash can, then repair.
	torn := filepath.Join(t.TempDir(), "torn.wav")
	if err := os.WriteFile(torn, append(crashed, 0x42), 0o644); err != nil {
		t.Fatal(err)
	}
	onDisk := int64(len(crashed)-44) / 2
	if onDisk <= 8000 {
		t.Fatalf("test needs unflushed samples on disk; got %d", onDisk)
	}
	n, err := Repair(torn)
	if err != nil {
		t.Fatal(err)
	}
	if n != onDisk {
		t.Errorf("Repair = %d frames, want %d", n, onDisk)
	}
	fixed := mustRead(t, torn)
	r, err = NewReader(bytes.NewReader(fixed))
	if err != nil || r.Frames() != onDisk {
		t.Fatalf("repaired header: %v frames, %v", r.Frames(), err)
	}
	if got := binary.LittleEndian.Uint32(fixed[4:]); int(got) != len(fixed)-8 {
		t.Errorf("RIFF size %d, file %d bytes", got, len(fixed))
	}
	_, got = readBytes(t, fixed)
	if fmt.Sprint(got) != fmt.Sprint(src[:onDisk]) {
		t.Errorf("repaired samples differ from what was written")
	}
	if n2, err := Repair(torn); err != nil || n2 != n || !bytes.Equal(mustRead(t, torn), fixed) {
		t.Errorf("second Repair changed the file or failed: %d, %v", n2, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, got := readBytes(t, mustRead(t, path)); len(got) != len(src) {
		t.Errorf("closed file has %d samples, want %d", len(got), len(src))
	}
}

func readBytes(t testing.TB, b []byte) (Format, []int16) {
	t.Helper()
	f, s, err := ReadAll(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return f, s
}

func TestRepair(t *testing.T) {
	fmt16 := chunk("fmt ", fmtBody(1, 1, 8000, 2, 16))
	ulawFmt := chunk("fmt ", append(fmtBody(7, 1, 8000, 1, 8), 0, 0))
	setU32 := func(b []byte, off int, v uint32) []byte {
		b = bytes.Clone(b)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	good := riff(fmt16, chunk("data", pcm16(1, 2, 3)))
	withList := riff(fmt16, chunk("data", pcm16(1, 2, 3)), chunk("LIST", []byte("INFOabcd")))
	ulaw := riff(ulawFmt, chunk("fact", []byte{3, 0, 0, 0}), chunk("data", []byte{0xFF, 0x80, 0x00}))
	tests := []struct {
		name      string
		in        []byte
		frames    int64
		wantBytes []byte // nil: only check consistency
		wantErr   error
	}{
		{"consistent file untouched", good, 3, good, nil},
		{"chunk after data untouched", withList, 3, withList, nil},
		{"chunk after data, stale RIFF size", setU32(withList, 4, 0x7ffffff0), 3, withList, nil},
		{"espeak placeholders", setU32(setU32(good, 4, 0x7ffffff0+36), 40, 0x7ffffff0), 3, good, nil},
		{"zero sizes after crash", setU32(setU32(good, 4, 36), 40, 0), 3, good, nil},
		{"stale sizes", setU32(setU32(good, 4, 38), 40, 2), 3, good, nil},
		{"torn sample", append(bytes.Clone(good), 9), 3, good, nil},
		{"μ-law odd data gets pad and fact", setU32(setU32(ulaw[:len(ulaw)-1], 4, 4), len(ulaw)-8, 0), 3, ulaw, nil},
		{"header only", riff(fmt16, chunk("data", nil)), 0, riff(fmt16, chunk("data", nil)), nil},
		{"not a wave file", []byte("garbage garbage garbage garbage garbage garbage"), 0, nil, ErrNotWAVE},
		{"no data chunk", riff(fmt16), 0, nil, ErrNoData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.wav")
			if err := os.WriteFile(path, tt.in, 0o644); err != nil {
				t.Fatal(err)
			}
			n, err := Repair(path)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if !bytes.Equal(mustRead(t, path), tt.in) {
					t.Errorf("a file Repair refused was changed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.frames {
				t.Errorf("frames = %d, want %d", n, tt.frames)
			}
			out := mustRead(t, path)
			if tt.wantBytes != nil && !bytes.Equal(out, tt.wantBytes) {
				t.Errorf("repaired file\n% x\nwant\n% x", out, tt.wantBytes)
			}
			h, err := parseHeader(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if h.riffSize+8 != int64(len(out)) || h.dataSize >= 0 && h.dataSize/int64(h.blockAlign) != n {
				t.Errorf("repaired file is not consistent: % x", out)
			}
			if h.factOffset >= 0 {
				if got := binary.LittleEndian.Uint32(out[h.factOffset:]); int64(got) != n {
					t.Errorf("fact says %d frames, want %d", got, n)
				}
			}
		})
	}
	if _, err := Repair(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestHeaderGolden pins the exact header bytes the Writer produces for each
// format; run with -update to rewrite testdata/*.golden.
func TestHeaderGolden(t *testing.T) {
	tests := []struct {
		name   string
		format Format
	}{
		{"pcm16_8k_mono", Format{}},
		{"pcm16_16k_stereo", Format{SampleRate: 16000, Channels: 2}},
		{"ulaw_8k_mono", Format{Encoding: Ulaw}},
		{"alaw_8k_mono", Format{Encoding: Alaw}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mf memFile
			w, err := NewWriter(&mf, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteSamples(make([]int16, 3*w.Format().Channels)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got := hexDump(mf.b)
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("header changed:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func hexDump(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); i += 16 {
		end := min(i+16, len(b))
		fmt.Fprintf(&sb, "%04x: % x\n", i, b[i:end])
	}
	return sb.String()
}

func TestWriterRejects(t *testing.T) {
	for _, f := range []Format{
		{Encoding: PCM, BitsPerSample: 24},
		{Encoding: Float},
		{Encoding: Ulaw, BitsPerSample: 16},
		{Channels: 3},
		{SampleRate: -1},
	} {
		if _, err := NewWriter(&memFile{}, f); !errors.Is(err, ErrFormat) {
			t.Errorf("NewWriter(%v) err = %v, want ErrFormat", f, err)
		}
	}
	w, err := NewWriter(&memFile{}, Format{Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSamples([]int16{1, 2, 3}); !errors.Is(err, ErrFormat) {
		t.Errorf("odd sample count for stereo: %v", err)
	}
	if _, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir.wav"), Format{}); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
}

type failWriter struct{ memFile }

func (f *failWriter) Write(p []byte) (int, error) {
	if len(f.b) > 0 {
		return 0, errors.New("disk full")
	}
	return f.memFile.Write(p)
}

func TestWriterSurfacesWriteErrors(t *testing.T) {
	w, err := NewWriter(&failWriter{}, Format{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSamples(make([]int16, 100)); err != nil {
		t.Fatal(err) // still buffered
	}
	if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Flush err = %v, want disk full", err)
	}
	if err := w.WriteSamples(make([]int16, 1)); err == nil {
		t.Error("write after failure succeeded")
	}
}

func FuzzReader(f *testing.F) {
	fmt16 := chunk("fmt ", fmtBody(1, 1, 8000, 2, 16))
	f.Add(riff(fmt16, chunk("data", pcm16(1, 2, 3))))
	f.Add(riff(chunk("fmt ", fmtBody(7, 2, 8000, 2, 8)), chunk("data", []byte{1, 2, 3, 4, 5})))
	f.Add(riff(chunk("fmt ", fmtBody(3, 1, 8000, 4, 32)), chunk("data", []byte{0, 0, 0x80, 0x7f, 0, 0, 0xc0, 0x7f})))
	f.Add(riff(chunk("LIST", []byte("INFO")), chunk("fmt ", fmtBody(1, 3, 44100, 9, 24)), chunk("data", make([]byte, 20))))
	f.Add([]byte("RIFF\xf0\xff\xff\x7fWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x22\x56\x00\x00\x44\xac\x00\x00\x02\x00\x10\x00data\xf0\xff\xff\x7f\x00\x01"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewReader(bytes.NewReader(in))
		if err != nil {
			if r != nil {
				t.Fatal("reader with error")
			}
			return
		}
		buf := make([]int16, 33)
		total := 0
		for range len(in) + 2 {
			n, err := r.ReadSamples(buf)
			total += n
			if err != nil {
				break
			}
		}
		if total > len(in) {
			t.Fatalf("%d samples from %d bytes", total, len(in))
		}
	})
}

func BenchmarkReadPCM16(b *testing.B) {
	var mf memFile
	w, _ := NewWriter(&mf, Format{})
	_ = w.WriteSamples(sine(8000, 8000, 440, 9000))
	_ = w.Close()
	buf := make([]int16, 160)
	b.ReportAllocs()
	b.SetBytes(int64(len(mf.b)))
	for b.Loop() {
		r, _ := NewReader(bytes.NewReader(mf.b))
		for {
			if _, err := r.ReadSamples(buf); err != nil {
				break
			}
		}
	}
}

func BenchmarkWriteFrame(b *testing.B) {
	var mf memFile
	w, _ := NewWriter(&mf, Format{})
	frame := sine(160, 8000, 440, 9000)
	b.ReportAllocs()
	b.SetBytes(320)
	for b.Loop() {
		_ = w.WriteFrame(frame)
		if len(mf.b) > 1<<20 {
			mf.b, mf.off = mf.b[:0], 0
		}
	}
}

// ReadInterleaved keeps every channel where ReadSamples mixes them down.
func TestReadInterleaved(t *testing.T) {
	left, right := sine(1000, 8000, 440, 9000), sine(1000, 8000, 1000, 5000)
	inter := make([]int16, 0, 2*len(left))
	for i := range left {
		inter = append(inter, left[i], right[i])
	}
	for _, enc := range []Encoding{PCM, Ulaw} {
		t.Run(enc.String(), func(t *testing.T) {
			var mf memFile
			w, err := NewWriter(&mf, Format{Encoding: enc, Channels: 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteSamples(inter); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			format, got, err := ReadAllInterleaved(bytes.NewReader(mf.b))
			if err != nil {
				t.Fatal(err)
			}
			if format.Channels != 2 || len(got) != len(inter) {
				t.Fatalf("%v, %d samples, want stereo and %d", format, len(got), len(inter))
			}
			tol := 0.0
			if enc == Ulaw {
				tol = 300
			}
			for i := range inter {
				if math.Abs(float64(got[i])-float64(inter[i])) > tol {
					t.Fatalf("sample %d: %d, want %d", i, got[i], inter[i])
				}
			}
			_, mono, err := ReadAll(bytes.NewReader(mf.b))
			if err != nil || len(mono) != len(left) {
				t.Fatalf("ReadAll: %d samples, %v", len(mono), err)
			}
			if want := int16((int32(got[20]) + int32(got[21])) / 2); mono[10] != want {
				t.Errorf("mixed sample %d, want %d", mono[10], want)
			}

			r, err := NewReader(bytes.NewReader(mf.b))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.ReadInterleaved(make([]int16, 1)); !errors.Is(err, io.ErrShortBuffer) {
				t.Errorf("one-sample buffer for stereo: %v", err)
			}
			buf := make([]int16, 5) // two frames fit; the odd sample stays unused
			total := 0
			for {
				n, err := r.ReadInterleaved(buf)
				if n%2 != 0 {
					t.Fatalf("%d samples: not whole frames", n)
				}
				total += n
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if total != len(inter) {
				t.Errorf("read %d samples, want %d", total, len(inter))
			}
		})
	}
	// Mono and float: ReadInterleaved of a mono file is ReadSamples.
	data := riff(chunk("fmt ", fmtBody(3, 2, 8000, 8, 32)),
		chunk("data", binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, math.Float32bits(0.5)), math.Float32bits(-0.25))))
	_, got, err := ReadAllInterleaved(bytes.NewReader(data))
	if err != nil || len(got) != 2 || got[0] != 16384 || got[1] != -8192 {
		t.Errorf("float stereo: %v %v", got, err)
	}
}
