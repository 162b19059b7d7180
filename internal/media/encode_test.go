package media

import (
	"bytes"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

// The shard's encoding memo gives exactly what encoding each frame gives,
// whatever the order of laws and frames (the same frame twice, another one,
// the same buffer rewritten between two calls).
func TestEncodeMemoMatchesEncoding(t *testing.T) {
	var m encodeMemo
	r := newRand(3)
	frames := make([][]int16, 3)
	for i := range frames {
		frames[i] = make([]int16, FrameSamples)
		for j := range frames[i] {
			frames[i][j] = int16(r.IntN(65536) - 32768)
		}
	}
	shared := make([]int16, FrameSamples)
	got, want := make([]byte, FrameSamples), make([]byte, FrameSamples)
	for i := range 200 {
		alaw := r.IntN(3) == 0
		f := frames[r.IntN(len(frames))]
		if r.IntN(4) == 0 {
			copy(shared, frames[r.IntN(len(frames))])
			shared[r.IntN(FrameSamples)]++ // rewritten in place, a sample differs
			f = shared
		}
		m.encode(got, f, alaw)
		if alaw {
			g711.EncodeAlaw(want, f)
		} else {
			g711.EncodeUlaw(want, f)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("call %d (alaw %v): memo gave a different encoding", i, alaw)
		}
	}
}
