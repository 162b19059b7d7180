package audiofile_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/audiofile"
)

func ExampleOpenFile() {
	src, err := audiofile.OpenFile("testdata/tone1k-44k1-mono.mp3")
	if err != nil {
		panic(err)
	}
	defer src.(io.Closer).Close()
	frame := make([]int16, media.FrameSamples)
	frames := 0
	for src.ReadFrame(frame) == nil {
		frames++ // each frame would go to the caller every 20 ms
	}
	s := src.(*audiofile.Source)
	fmt.Println(s.Format(), s.SampleRate(), "Hz,", frames, "frames of 8 kHz audio")
	// Output: mp3 44100 Hz, 53 frames of 8 kHz audio
}

func ExampleDecode_notAudio() {
	_, err := audiofile.Decode(strings.NewReader("<html>Not Found</html>"), "text/html")
	fmt.Println(errors.Is(err, audiofile.ErrUnsupported))
	// Output: true
}
