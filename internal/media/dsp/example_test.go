package dsp_test

import (
	"fmt"
	"math"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
)

// The generators are media.Sources.
var (
	_ media.Source = (*dsp.Generator)(nil)
	_ media.Source = (*dsp.ResampledSource)(nil)
)

func ExampleResampler() {
	// One second of a 1 kHz tone at 44.1 kHz, converted to 8 kHz in 20 ms pieces.
	in := make([]int16, 44100)
	for i := range in {
		in[i] = int16(10000 * math.Sin(2*math.Pi*1000*float64(i)/44100))
	}
	r, err := dsp.NewResampler(44100, 8000)
	if err != nil {
		panic(err)
	}
	var out []int16
	for i := 0; i < len(in); i += 882 {
		out = r.Process(out, in[i:i+882])
	}
	out = r.Flush(out)
	fmt.Println(len(out), "samples")
	fmt.Printf("1 kHz at %.1f dBFS\n", dsp.NewGoertzel(1000, 8000).Level(out[400:7600]))
	// Output:
	// 8000 samples
	// 1 kHz at -10.3 dBFS
}

func ExampleDTMFDetector() {
	tones, err := dsp.DTMFSource("42#", 60*time.Millisecond, 60*time.Millisecond, -10)
	if err != nil {
		panic(err)
	}
	d := dsp.NewDTMFDetector(dsp.DTMFConfig{})
	frame := make([]int16, media.FrameSamples)
	var events []dsp.DTMFEvent
	for tones.ReadFrame(frame) == nil {
		events = d.Process(frame, events)
	}
	for _, e := range events {
		if !e.End {
			fmt.Printf("%c at %v\n", e.Digit, e.Start.Round(5*time.Millisecond))
		}
	}
	// Output:
	// 4 at 0s
	// 2 at 120ms
	// # at 240ms
}

func ExampleToneSource() {
	// A 400 Hz ring-back style tone at -13 dBFS for 100 ms: five 20 ms frames.
	src := dsp.ToneSource([]float64{400}, -13, 100*time.Millisecond)
	frame := make([]int16, media.FrameSamples)
	n := 0
	for src.ReadFrame(frame) == nil {
		n++
	}
	fmt.Println(n, "frames at", fmt.Sprintf("%.1f dBFS", dsp.Level(frame)))
	// Output:
	// 5 frames at -13.0 dBFS
}
