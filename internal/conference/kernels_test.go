package conference

import (
	"math"
	"math/rand/v2"
	"testing"
)

// kernelInputs are frames that exercise the kernels' edges: silence, full
// scale both ways, alternating extremes, noise.
func kernelInputs() []frame {
	var out []frame
	fill := func(f func(i int) int16) {
		var x frame
		for i := range x {
			x[i] = f(i)
		}
		out = append(out, x)
	}
	fill(func(int) int16 { return 0 })
	fill(func(int) int16 { return math.MaxInt16 })
	fill(func(int) int16 { return math.MinInt16 })
	fill(func(i int) int16 { return [2]int16{math.MinInt16, math.MaxInt16}[i%2] })
	fill(func(i int) int16 { return int16(i - 80) })
	rnd := rand.New(rand.NewPCG(7, 8))
	for range 20 {
		fill(func(int) int16 { return int16(rnd.Uint32()) })
	}
	return out
}

// checkKernels compares the kernels with the Go reference on one input and
// one starting sum.
func checkKernels(t *testing.T, in frame, sum [frameLen]int32) {
	t.Helper()
	s1, s2 := sum, sum
	if got, want := accumulate(&s1, &in), accumulateGeneric(&s2, &in); got != want || s1 != s2 {
		t.Fatalf("accumulate: %d, want %d; sums equal %v", got, want, s1 == s2)
	}
	if got, want := energy(&in), energyGeneric(&in); got != want {
		t.Fatalf("energy: %d, want %d", got, want)
	}
	var o1, o2 frame
	mixMinus(&o1, &sum, &in)
	mixMinusGeneric(&o2, &sum, &in)
	if o1 != o2 {
		t.Fatalf("mixMinus differs:\n%v\n%v", o1, o2)
	}
	saturate(&o1, &sum)
	saturateGeneric(&o2, &sum)
	if o1 != o2 {
		t.Fatalf("saturate differs:\n%v\n%v", o1, o2)
	}
}

func TestKernels(t *testing.T) {
	ins := kernelInputs()
	rnd := rand.New(rand.NewPCG(9, 10))
	for _, in := range ins {
		for _, scale := range []int32{0, 1 << 15, 1 << 17, 1 << 25} {
			var sum [frameLen]int32
			if scale > 0 {
				for i := range sum {
					sum[i] = rnd.Int32N(2*scale) - scale
				}
			}
			checkKernels(t, in, sum)
		}
	}
	// The largest energy a frame can have.
	var loud frame
	for i := range loud {
		loud[i] = math.MinInt16
	}
	if got := energy(&loud); got != uint64(frameLen)<<30 {
		t.Errorf("energy of full scale %d, want %d", got, frameLen<<30)
	}
}

func FuzzKernels(f *testing.F) {
	f.Add(make([]byte, 2*frameLen), int32(0))
	f.Add([]byte{0x00, 0x80, 0xff, 0x7f}, int32(1<<20))
	f.Fuzz(func(t *testing.T, b []byte, base int32) {
		var in frame
		var sum [frameLen]int32
		for i := range in {
			if 2*i+1 < len(b) {
				in[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
			}
			sum[i] = base/4 + int32(in[(i*7)%frameLen])*int32(i%5)
		}
		checkKernels(t, in, sum)
	})
}
