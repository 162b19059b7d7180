package rtpio

import "math/bits"

// Ulaw encodes a linear sample (G.711 u-law: bias 0x84, 8 segments).
func Ulaw(s int16) byte {
	const bias, clip = 0x84, 32635
	sign := byte(0)
	x := int(s)
	if x < 0 {
		x, sign = -x, 0x80
	}
	x = min(x, clip) + bias
	exp := bits.Len(uint(x)) - 8 // 0..7
	mant := (x >> (exp + 3)) & 0x0f
	return ^(sign | byte(exp<<4) | byte(mant))
}

// UlawDecode decodes a G.711 u-law octet.
func UlawDecode(u byte) int16 {
	u = ^u
	t := (int(u&0x0f) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}
