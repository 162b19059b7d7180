package conference

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMix measures one tick of a room as the pacer runs it: every
// participant's WriteFrame, Mix, every participant's ReadFrame. "all" has
// every participant talking (n own mix-minus buffers); "3talk" has three
// talking and the rest unmuted but silent (digital silence, as a muted phone
// or a VAD gate gives): they all share the full mix.
func BenchmarkMix(b *testing.B) {
	for _, n := range []int{10, 100, 250, 1000} {
		for _, talking := range []string{"all", "3talk"} {
			b.Run(fmt.Sprintf("n=%d/%s", n, talking), func(b *testing.B) {
				m := NewMixer(MixerConfig{Capacity: n})
				eps := make([]*Endpoint, n)
				in := make([][]int16, n)
				rnd := rand.New(rand.NewPCG(uint64(n), 1))
				for i := range eps {
					eps[i] = m.Add(fmt.Sprint(i))
					eps[i].Set(Flags{Talks: true, Hears: true})
					in[i] = make([]int16, frameLen)
					if talking == "all" || i < 3 {
						for k := range in[i] {
							in[i][k] = int16(rnd.IntN(8000) - 4000)
						}
					}
				}
				out := make([]int16, frameLen)
				b.ReportAllocs()
				for b.Loop() {
					for i, e := range eps {
						e.WriteFrame(in[i])
					}
					m.Mix()
					for _, e := range eps {
						e.ReadFrame(out)
					}
				}
			})
		}
	}
}
