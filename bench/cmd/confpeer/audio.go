package main

import (
	"math"

	"github.com/switchboard-voice/switchboard/bench/internal/rtpio"
)

const (
	sampleRate   = 8000
	frameSamples = 160 // 20 ms at 8 kHz; one u-law octet each
	nTones       = 16  // the talker's frame index, mod 16, as a frequency
	toneBin0     = 44  // 2,200 Hz: bin k of a 160-sample frame is k·50 Hz
	toneStep     = 2   // bins between two index tones (100 Hz)
	markerBin    = 76  // 3,800 Hz, on every markerEvery-th frame
	markerEvery  = 50  // one marker a second
	// ringFrames is the period of the (index, marker) pair: lcm(16, 50).
	ringFrames = 400
)

// toneBin is the DFT bin of index tone i.
func toneBin(i int) int { return toneBin0 + toneStep*i }

// talkerFrame returns the talker's frame n, u-law: the index tone of n mod 16
// at amplitude amp (of full scale), and the marker tone with it every
// markerEvery frames. Every tone is a whole number of cycles per frame, so the
// frames join without clicks.
func talkerFrame(n int, amp float64) []byte {
	out := make([]byte, frameSamples)
	k := toneBin(n % nTones)
	marker := n%markerEvery == 0
	for i := range out {
		v := amp * math.Sin(2*math.Pi*float64(k*i)/frameSamples)
		if marker {
			v += amp * math.Sin(2*math.Pi*float64(markerBin*i)/frameSamples)
		}
		out[i] = rtpio.Ulaw(int16(v * math.MaxInt16))
	}
	return out
}

// detector finds the talker's tones in received audio. switchboard's jitter
// buffer works in samples, not packets: when it stretches or shrinks the
// delay, the talker's 20 ms frames no longer start where the received ones
// do. So the detector looks at the last two received frames (320 samples) and
// slides a 160-sample window over them to where the talker's tone is
// cleanest: the start of one of the talker's frames, and which frame it is.
// The window is rectangular: a tone's amplitude then falls with the share of
// the window it fills, which places the frame to a few samples (a Hann
// window would be flat near the top), and the tones, whole cycles in 160
// samples, do not leak into each other's bins when aligned.
type detector struct {
	cos [markerBin + 1][frameSamples]float64
	sin [markerBin + 1][frameSamples]float64
	x   [frameSamples]float64
}

// scanStep is the stride of the sliding window, in samples (1 ms).
const scanStep = 8

func newDetector() *detector {
	d := &detector{}
	bins := make([]int, 0, nTones+1)
	for i := range nTones {
		bins = append(bins, toneBin(i))
	}
	bins = append(bins, markerBin)
	for _, k := range bins {
		for i := range frameSamples {
			a := 2 * math.Pi * float64(k*i) / frameSamples
			d.cos[k][i], d.sin[k][i] = math.Cos(a), math.Sin(a)
		}
	}
	return d
}

// analysis is what the detector found.
type analysis struct {
	off    int     // where the talker's frame starts in the 320 samples (0..159)
	idx    int     // which index tone it carries (the strongest)
	amp    float64 // its amplitude, of full scale
	marker float64 // the marker tone's amplitude there
}

// decode turns a u-law payload into samples of full scale 1 (silence past
// its end) and returns their mean square.
func decode(dst *[frameSamples]float64, payload []byte) float64 {
	var ms float64
	for i := range dst {
		v := 0.0
		if i < len(payload) {
			v = float64(rtpio.UlawDecode(payload[i])) / 32768
		}
		dst[i] = v
		ms += v * v
	}
	return ms / frameSamples
}

// amp is the amplitude of bin k in d.x: a sinusoid of amplitude A in bin k
// gives |X(k)| = A·N/2.
func (d *detector) amp(k int) float64 {
	var re, im float64
	c, s := &d.cos[k], &d.sin[k]
	for i, v := range d.x {
		re += v * c[i]
		im += v * s[i]
	}
	return 2 * math.Hypot(re, im) / frameSamples
}

// load takes the 160 samples of prev and cur from offset off.
func (d *detector) load(prev, cur *[frameSamples]float64, off int) {
	for i := range frameSamples {
		j := off + i
		v := 0.0
		if j < frameSamples {
			v = prev[j]
		} else {
			v = cur[j-frameSamples]
		}
		d.x[i] = v
	}
}

// scan finds the talker's frame in prev followed by cur, starting anywhere
// in prev.
func (d *detector) scan(prev, cur *[frameSamples]float64) analysis {
	return d.scanRange(prev, cur, 0, frameSamples-1)
}

// scanRange finds the talker's frame starting between lo and hi in prev.
func (d *detector) scanRange(prev, cur *[frameSamples]float64, lo, hi int) analysis {
	lo, hi = max(lo, 0), min(hi, frameSamples-1)
	var best analysis
	bestScore := -1.0
	for off := lo; off <= hi; off += scanStep {
		d.load(prev, cur, off)
		var top analysis
		second := 0.0
		for i := range nTones {
			v := d.amp(toneBin(i))
			switch {
			case v > top.amp:
				second = top.amp
				top = analysis{off: off, idx: i, amp: v}
			case v > second:
				second = v
			}
		}
		// Off the frame's start the window holds some of the next or the
		// previous frame's tone too: count it against the position.
		if score := top.amp - second; score > bestScore {
			best, bestScore = top, score
		}
	}
	d.load(prev, cur, best.off)
	best.marker = d.amp(markerBin)
	return best
}

// dBFS converts a mean square (full scale = 1) to dBFS on the AES17 scale: a
// full-scale sine is 0 dBFS.
func dBFS(ms float64) float64 {
	if ms <= 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(2*ms)
}
