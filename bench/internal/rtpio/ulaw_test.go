package rtpio

import (
	"math"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

// Our u-law decoder is switchboard's; the encoder rounds as it does, or to
// the neighbouring code at a segment's edge.
func TestUlawMatchesG711(t *testing.T) {
	for c := range 256 {
		if got, want := UlawDecode(byte(c)), g711.DecodeUlawSample(byte(c)); got != want {
			t.Fatalf("UlawDecode(%#x) = %d, want %d", c, got, want)
		}
	}
	for s := math.MinInt16; s <= math.MaxInt16; s += 7 {
		if got, want := Ulaw(int16(s)), g711.EncodeUlawSample(int16(s)); got != want && got != want+1 && got != want-1 {
			t.Fatalf("Ulaw(%d) = %#x, want %#x", s, got, want)
		}
	}
}
