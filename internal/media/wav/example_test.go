package wav_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/switchboard-voice/switchboard/internal/media/wav"
)

func Example() {
	path := filepath.Join(os.TempDir(), "switchboard-example.wav")
	defer os.Remove(path)

	// Record: 8 kHz 16-bit mono, flushed as we go so a crash leaves a playable file.
	w, err := wav.Create(path, wav.Default)
	if err != nil {
		panic(err)
	}
	frame := make([]int16, 160)
	for i := range 50 { // one second
		frame[0] = int16(i)
		if err := w.WriteFrame(frame); err != nil {
			panic(err)
		}
		if i%25 == 24 {
			if err := w.Flush(); err != nil {
				panic(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}

	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	format, samples, err := wav.ReadAll(f)
	if err != nil {
		panic(err)
	}
	fmt.Println(format, len(samples), "samples")
	// Output: PCM 16-bit 8000 Hz mono 8000 samples
}
