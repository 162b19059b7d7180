package media_test

import (
	"context"
	"fmt"
	"io"
	"net/netip"

	"github.com/switchboard-voice/switchboard/internal/media"
)

// Two sessions of one engine call each other over loopback: one plays 100 ms
// of a tone, the other hears it and receives a DTMF digit.
func Example() {
	engine, err := media.NewEngine(media.EngineConfig{
		IP:      netip.MustParseAddr("127.0.0.1"),
		PortMin: 41000, PortMax: 41099,
	})
	if err != nil {
		panic(err)
	}
	defer engine.Close()

	caller, _ := engine.NewSession()
	callee, _ := engine.NewSession()
	// What the SDP offer/answer would say about the other side.
	caller.SetRemote(media.Remote{Addr: callee.LocalAddr(), Codec: media.PCMU, EventPT: 101, Direction: media.SendRecv})
	callee.SetRemote(media.Remote{Addr: caller.LocalAddr(), Codec: media.PCMU, EventPT: 101, Direction: media.SendRecv})

	heard := 0
	callee.SetSink(media.SinkFunc(func(frame []int16) error {
		for _, s := range frame {
			if s > 1000 || s < -1000 {
				heard++
				break
			}
		}
		return nil
	}))

	frames := 0
	tone := media.SourceFunc(func(frame []int16) error {
		if frames == 5 {
			return io.EOF
		}
		frames++
		for i := range frame {
			frame[i] = [4]int16{0, 8000, 0, -8000}[i%4] // 2 kHz
		}
		return nil
	})
	if err := caller.Play(context.Background(), tone); err != nil {
		panic(err)
	}
	if err := caller.SendDTMF(context.Background(), "7"); err != nil {
		panic(err)
	}
	d := <-callee.DTMF()
	callee.SetSink(nil)
	fmt.Println("tone heard:", heard > 0)
	fmt.Printf("digit %c for %v\n", d.Digit, d.Duration)
	// Output:
	// tone heard: true
	// digit 7 for 100ms
}
