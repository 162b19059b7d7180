package conference

import "math"

// The mixer's arithmetic on whole frames. On amd64 accumulate, energy,
// mixMinus and saturate are SSE2 assembly (kernels_amd64.s: eight samples an
// instruction, SSE2 being part of every amd64 CPU); elsewhere, or with the
// purego build tag, they are the Go functions below, which are also the
// reference the assembly is tested against.

// accumulateGeneric adds in to sum and returns the sum of the squares of in.
func accumulateGeneric(sum *[frameLen]int32, in *frame) uint64 {
	var sq uint64
	for i := range in {
		x := int32(in[i])
		sum[i] += x
		sq += uint64(x * x) // at most 2^30: fits int32
	}
	return sq
}

// energyGeneric returns the sum of the squares of in.
func energyGeneric(in *frame) uint64 {
	var sq uint64
	for _, v := range in {
		x := int32(v)
		sq += uint64(x * x)
	}
	return sq
}

// mixMinusGeneric writes sum minus own, saturated, to out.
func mixMinusGeneric(out *frame, sum *[frameLen]int32, own *frame) {
	for i := range out {
		out[i] = sat16(sum[i] - int32(own[i]))
	}
}

// saturateGeneric writes sum, saturated, to out.
func saturateGeneric(out *frame, sum *[frameLen]int32) {
	for i := range out {
		out[i] = sat16(sum[i])
	}
}

// subtract takes in from acc (the rare coached listener: plain Go).
func subtract(acc *[frameLen]int32, in *frame) {
	for i := range acc {
		acc[i] -= int32(in[i])
	}
}

// add adds in to acc.
func add(acc *[frameLen]int32, in *frame) {
	for i := range acc {
		acc[i] += int32(in[i])
	}
}

// sat16 clips v to the int16 range.
func sat16(v int32) int16 {
	return int16(min(max(v, math.MinInt16), math.MaxInt16))
}
