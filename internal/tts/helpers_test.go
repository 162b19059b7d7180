package tts

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// needEspeak skips the test when espeak-ng is not installed.
func needEspeak(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(DefaultEspeakPath); err != nil {
		t.Skip("espeak-ng not installed")
	}
}

// audio is a decoded WAV file.
type audio struct {
	info    wavInfo
	samples []int16
}

func (a audio) seconds() float64 { return a.info.duration() }

// rms is the root mean square of the samples, in 16-bit units.
func (a audio) rms() float64 {
	if len(a.samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range a.samples {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(a.samples)))
}

// decodeWAV parses an exact WAV file (as this package writes them).
func decodeWAV(t testing.TB, b []byte) audio {
	t.Helper()
	info, err := parseWAVHeader(b, int64(len(b)), true)
	if err != nil {
		t.Fatalf("not an exact WAV: %v", err)
	}
	if riff := binary.LittleEndian.Uint32(b[4:8]); int(riff) != len(b)-8 {
		t.Fatalf("RIFF size %d, file has %d", riff, len(b)-8)
	}
	data := b[info.dataOffset:]
	s := make([]int16, len(data)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return audio{info, s}
}

func decodeWAVFile(t testing.TB, path string) audio {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeWAV(t, b)
}

// makeWAV builds a WAV with the given samples; placeholder writes espeak-ng's
// placeholder sizes.
func makeWAV(samples []int16, rate int, placeholder bool) []byte {
	b := make([]byte, 44+2*len(samples))
	copy(b[0:], "RIFF")
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	riff, data := uint32(len(b)-8), uint32(2*len(samples))
	if placeholder {
		riff, data = 0x7ffffff0+36, 0x7ffffff0
	}
	binary.LittleEndian.PutUint32(b[4:], riff)
	binary.LittleEndian.PutUint32(b[40:], data)
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}
