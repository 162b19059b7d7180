//go:build amd64 && !purego

package conference

// The SSE2 kernels of kernels_amd64.s; each works on exactly frameLen (160)
// samples. See the Generic functions of kernels.go for what they compute.

// accumulate adds in to sum and returns the sum of the squares of in.
//
//go:noescape
func accumulate(sum *[frameLen]int32, in *frame) uint64

// energy returns the sum of the squares of in.
//
//go:noescape
func energy(in *frame) uint64

// mixMinus writes sum minus own, saturated, to out.
//
//go:noescape
func mixMinus(out *frame, sum *[frameLen]int32, own *frame)

// saturate writes sum, saturated, to out.
//
//go:noescape
func saturate(out *frame, sum *[frameLen]int32)
