package holdmusic_test

import (
	"bytes"
	"fmt"

	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/holdmusic"
)

func Example() {
	// A conference plays the music to a waiting participant, frame by frame.
	music := holdmusic.New()
	frame := make([]int16, 160)
	var all []int16
	for range 500 { // 10 s
		if err := music.ReadFrame(frame); err != nil {
			panic(err)
		}
		all = append(all, frame...)
	}
	fmt.Printf("%.0f dBFS, loop of %v\n", dsp.Level(all), holdmusic.Loop())

	// Or serves it as a file, for <Play> or a waitUrl.
	var wavFile bytes.Buffer
	if err := holdmusic.WriteWAV(&wavFile); err != nil {
		panic(err)
	}
	fmt.Println(wavFile.Len(), "bytes of WAV")
	// Output:
	// -20 dBFS, loop of 40s
	// 640044 bytes of WAV
}
