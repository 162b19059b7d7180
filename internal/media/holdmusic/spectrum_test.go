package holdmusic_test

import (
	"math"
	"math/cmplx"
)

// fft is an in-place radix-2 FFT (len(x) a power of two).
func fft(x []complex128) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		w := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := range size / 2 {
				a, b := x[start+k], x[start+k+size/2]*wk
				x[start+k], x[start+k+size/2] = a+b, a-b
				wk *= w
			}
		}
	}
}

// powerSpectrum returns the power of each FFT bin (0 to Nyquist) of block,
// Hann-windowed and zero-padded to n (a power of two ≥ len(block)).
func powerSpectrum(block []int16, n int) []float64 {
	x := make([]complex128, n)
	m := float64(len(block) - 1)
	for i, v := range block {
		x[i] = complex(float64(v)*(0.5-0.5*math.Cos(2*math.Pi*float64(i)/m)), 0)
	}
	fft(x)
	p := make([]float64, n/2+1)
	for i := range p {
		p[i] = real(x[i])*real(x[i]) + imag(x[i])*imag(x[i])
	}
	return p
}

// dominance returns the frequency of the strongest spectral peak of block
// (8 kHz) and the share of the block's power within ±width Hz of it.
func dominance(block []int16, width float64) (freq, share float64) {
	const n = 1 << 14
	p := powerSpectrum(block, n)
	binHz := 8000.0 / n
	var total float64
	peak := 0
	for i, v := range p {
		total += v
		if v > p[peak] {
			peak = i
		}
	}
	w := int(math.Ceil(width / binHz))
	var near float64
	for i := max(0, peak-w); i <= min(len(p)-1, peak+w); i++ {
		near += p[i]
	}
	return float64(peak) * binHz, near / total
}
