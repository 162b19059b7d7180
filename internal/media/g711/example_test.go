package g711_test

import (
	"fmt"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

func Example() {
	pcm := []int16{0, 1000, -1000, 32767}
	payload := make([]byte, len(pcm)) // one PCMU RTP payload
	g711.EncodeUlaw(payload, pcm)
	fmt.Printf("% x\n", payload)

	back := make([]int16, len(payload))
	g711.DecodeUlaw(back, payload)
	fmt.Println(back)
	// Output:
	// ff ce 4e 80
	// [0 988 -988 32124]
}
