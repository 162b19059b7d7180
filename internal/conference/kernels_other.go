//go:build !amd64 || purego

package conference

func accumulate(sum *[frameLen]int32, in *frame) uint64 { return accumulateGeneric(sum, in) }

func energy(in *frame) uint64 { return energyGeneric(in) }

func mixMinus(out *frame, sum *[frameLen]int32, own *frame) { mixMinusGeneric(out, sum, own) }

func saturate(out *frame, sum *[frameLen]int32) { saturateGeneric(out, sum) }
