package voice

import (
	"math"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-voice/switchboard/internal/media/wav"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func writeTone(t *testing.T, dir, name string, n int) string {
	t.Helper()
	path := filepath.Join(dir, name)
	w, err := wav.Create(path, wav.Format{Encoding: wav.PCM, SampleRate: 8000, Channels: 1, BitsPerSample: 16})
	if err != nil {
		t.Fatal(err)
	}
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(5000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	if err := w.WriteSamples(s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
