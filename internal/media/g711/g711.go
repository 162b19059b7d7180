package g711

// Silence codes: the encoding of the linear sample 0.
const (
	// UlawSilence is the μ-law code for 0 (positive zero).
	UlawSilence byte = 0xFF
	// AlawSilence is the A-law code for 0 (the smallest positive step).
	AlawSilence byte = 0xD5
)

var (
	// ulawEncode maps a sample's top 14 bits (int16 >> 2, offset to unsigned) to
	// its μ-law code.
	ulawEncode [1 << 14]byte
	// alawEncode maps a sample's top 12 bits (int16 >> 4, offset to unsigned) to
	// its A-law code.
	alawEncode [1 << 12]byte
	ulawDecode [256]int16
	alawDecode [256]int16
	ulawToAlaw [256]byte
	alawToUlaw [256]byte
)

func init() {
	for i := range ulawEncode {
		// Index i holds samples whose arithmetic >>2 is i-8192; take the lowest.
		s := int16((i - 1<<13) << 2)
		ulawEncode[i] = ulawCompress(s)
	}
	for i := range alawEncode {
		s := int16((i - 1<<11) << 4)
		alawEncode[i] = alawCompress(s)
	}
	for c := range 256 {
		ulawDecode[c] = ulawExpand(byte(c))
		alawDecode[c] = alawExpand(byte(c))
	}
	for c := range 256 {
		ulawToAlaw[c] = EncodeAlawSample(ulawDecode[c])
		alawToUlaw[c] = EncodeUlawSample(alawDecode[c])
	}
}

// ulawCompress is G.191's ulaw_compress for one sample (ITU-T G.711 table 2a):
// the one's-complement magnitude of the sample's 14-bit value plus the bias 33,
// clipped to 13 bits, coded as segment and 4-bit mantissa, all bits inverted.
func ulawCompress(s int16) byte {
	var absno int32
	if s < 0 {
		absno = int32(^s)>>2 + 33
	} else {
		absno = int32(s)>>2 + 33
	}
	if absno > 0x1FFF {
		absno = 0x1FFF
	}
	segno := int32(1)
	for i := absno >> 6; i != 0; i >>= 1 {
		segno++
	}
	high := 8 - segno
	low := 0x0F - (absno>>segno)&0x0F
	out := byte(high<<4 | low)
	if s >= 0 {
		out |= 0x80
	}
	return out
}

// ulawExpand is G.191's ulaw_expand: the midpoint of the code's interval.
func ulawExpand(c byte) int16 {
	sign := int32(1)
	if c < 0x80 {
		sign = -1
	}
	m := int32(^c)
	exponent := (m >> 4) & 0x07
	segment := exponent + 1
	m &= 0x0F
	step := int32(4) << segment
	return int16(sign * ((0x80 << exponent) + step*m + step/2 - 4*33))
}

// alawCompress is G.191's alaw_compress (ITU-T G.711 table 1a): the 12-bit
// one's-complement magnitude coded as segment and mantissa, sign bit set for
// non-negative samples, even bits inverted (XOR 0x55).
func alawCompress(s int16) byte {
	var ix int32
	if s < 0 {
		ix = int32(^s) >> 4
	} else {
		ix = int32(s) >> 4
	}
	if ix > 15 {
		iexp := int32(1)
		for ix > 16+15 {
			ix >>= 1
			iexp++
		}
		ix -= 16
		ix += iexp << 4
	}
	if s >= 0 {
		ix |= 0x80
	}
	return byte(ix ^ 0x55)
}

// alawExpand is G.191's alaw_expand.
func alawExpand(c byte) int16 {
	ix := int32(c^0x55) & 0x7F
	iexp := ix >> 4
	mant := ix & 0x0F
	if iexp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if iexp > 1 {
		mant <<= iexp - 1
	}
	if c > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

// EncodeUlawSample returns the μ-law code of one linear sample.
func EncodeUlawSample(s int16) byte { return ulawEncode[uint16(s)>>2^1<<13] }

// DecodeUlawSample returns the linear value of one μ-law code.
func DecodeUlawSample(c byte) int16 { return ulawDecode[c] }

// EncodeAlawSample returns the A-law code of one linear sample.
func EncodeAlawSample(s int16) byte { return alawEncode[uint16(s)>>4^1<<11] }

// DecodeAlawSample returns the linear value of one A-law code.
func DecodeAlawSample(c byte) int16 { return alawDecode[c] }

// UlawToAlaw transcodes one μ-law code to A-law.
func UlawToAlaw(c byte) byte { return ulawToAlaw[c] }

// AlawToUlaw transcodes one A-law code to μ-law.
func AlawToUlaw(c byte) byte { return alawToUlaw[c] }

// EncodeUlaw encodes src into dst as μ-law. len(dst) must equal len(src); only
// min(len(dst), len(src)) samples are converted otherwise.
func EncodeUlaw(dst []byte, src []int16) {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = ulawEncode[uint16(s)>>2^1<<13]
	}
}

// DecodeUlaw decodes the μ-law codes in src into dst. len(dst) must equal
// len(src); only min(len(dst), len(src)) codes are converted otherwise.
func DecodeUlaw(dst []int16, src []byte) {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, c := range src {
		dst[i] = ulawDecode[c]
	}
}

// EncodeAlaw encodes src into dst as A-law. len(dst) must equal len(src); only
// min(len(dst), len(src)) samples are converted otherwise.
func EncodeAlaw(dst []byte, src []int16) {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = alawEncode[uint16(s)>>4^1<<11]
	}
}

// DecodeAlaw decodes the A-law codes in src into dst. len(dst) must equal
// len(src); only min(len(dst), len(src)) codes are converted otherwise.
func DecodeAlaw(dst []int16, src []byte) {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, c := range src {
		dst[i] = alawDecode[c]
	}
}
