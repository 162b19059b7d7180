package dsp

import "math"

// FullScale is the peak of a full-scale sine in 16-bit PCM.
const FullScale = 32767

// RMS returns the root mean square of samples (0 for none).
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range samples {
		v := float64(s)
		sum += v * v
	}
	return math.Sqrt(sum / float64(len(samples)))
}

// DBFS converts an RMS value to dBFS, AES17 style: the RMS of a full-scale sine
// (FullScale/√2) is 0 dBFS; a full-scale square wave reads +3 dBFS. Zero is -Inf.
func DBFS(rms float64) float64 {
	return 20 * math.Log10(rms*math.Sqrt2/FullScale)
}

// Level returns the level of samples in dBFS (see DBFS); silence is -Inf.
func Level(samples []int16) float64 { return DBFS(RMS(samples)) }

// Amplitude returns the peak of a sine whose level is dbfs.
func Amplitude(dbfs float64) float64 { return FullScale * math.Pow(10, dbfs/20) }
