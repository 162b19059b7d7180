package dsp

import (
	"math"
	"math/bits"
	"sync"
	"time"
)

// Voice activity detection, for the speaker events of a conference
// (participant-speech-start and participant-speech-stop).
//
// # Method
//
// The VAD looks at 8 kHz audio in frames of 20 ms and asks of each frame
// whether it looks like voiced speech; the answers, smoothed by an onset and a
// hangover, give the speaking state. A frame looks like speech when all of
// these hold:
//
//  1. Level: after a DC-blocking high-pass filter (about 60 Hz), the frame's
//     level is at least MinLevel (-50 dBFS): comfort noise and a silent line
//     never count.
//
//  2. Signal-to-noise ratio: the level is at least MinSNR (9 dB) above the
//     noise floor. The floor is the minimum of the smoothed frame level over
//     the last 1.6 s (minimum statistics, after R. Martin, "Noise power
//     spectral density estimation based on optimal smoothing and minimum
//     statistics", IEEE Trans. Speech and Audio Processing 9(5), 2001):
//     speech pauses between syllables and words many times a second, so the
//     minimum finds the background under speech, while a sound that goes on
//     without pauses (line noise, hum, a fan, a phone system's hold music)
//     becomes the floor itself within 1.6 s and stops counting. As in ITU-T
//     G.729 Annex B the background is learnt from the signal, not configured;
//     unlike G.729B's it needs no speech/non-speech decision to adapt, so a
//     wrong decision cannot keep it from adapting.
//
//  3. Periodicity: voiced speech is periodic at its pitch, 50 to 400 Hz. The
//     peak of the normalised cross-correlation of the last 40 ms with itself
//     over those lags (the NCCF of D. Talkin's RAPT, "A robust algorithm for
//     pitch tracking (RAPT)", 1995; the open-loop pitch gain of speech codecs:
//     the AMR VAD, 3GPP TS 26.094, flags tones with it) must reach 0.5. Noise
//     (hiss, comfort noise, breath, rustle, keyboard clicks) stays well below.
//
//  4. Not a tone: ring-back, DTMF, dial and busy tones are perfectly periodic
//     too, but their power sits in one or two frequencies. A frame is a tone
//     when, in its 256-point spectrum (32 ms, Hann window), the two strongest
//     peaks (±2 bins each) hold 90 % of the power and fewer than three peaks
//     matter (local maxima within 30 dB of the strongest and 6 dB over their
//     band's noise floor). A tone holds 97 to 100 % in one or two peaks even
//     under noise; a vowel whose first formant sits on two harmonics can
//     concentrate its power as much, but its other harmonics still show.
//
//  5. Spectral change: speech never holds still. Its level rises and falls
//     with the syllables, 3 to 6 a second (the modulation that carries its
//     intelligibility: T. Houtgast and H. Steeneken's speech transmission
//     index), and its formants move from phoneme to phoneme, so that over
//     40 ms the energy changes by several dB across much of the spectrum.
//     The spectrum is summed into 14 bands of 250 Hz (94 Hz to 3.6 kHz),
//     each with its own noise floor (minimum statistics again); a frame's
//     change is the median, over the bands at least 8 dB above their floor,
//     of the absolute change in dB from two frames before (levels under
//     floor+4 dB are taken as floor+4, so that the noise's own fluctuation
//     does not count), and the median of that over the last nine frames
//     (180 ms) must reach 4 dB. Speech in the tests changes by 5 to 10 dB;
//     music, whose notes and chords hold for hundreds of milliseconds and
//     change a few bands at a time, by about 1 dB (under 4 even where a whole
//     chord changes); steady tones by nothing. This is the spectral flux of
//     speech/music discriminators (E. Scheirer and M. Slaney, "Construction
//     and evaluation of a robust multifeature speech/music discriminator",
//     ICASSP 1997), made robust by medians: a single attack, or a sound
//     switching on, changes the spectrum for a frame or two and is ignored.
//
// Speech starts when at least Onset's worth of frames (5) out of the last
// Onset+100 ms (10 frames) looked like speech: the first syllable or two.
// It stops after Hangover (600 ms, 30 frames) in a row that did not: the
// hangover of G.729B and of the WebRTC VAD (common_audio/vad), which bridges
// unvoiced consonants, stops and the pauses within and between words, so
// that the events follow talk spurts rather than syllables and do not flap.
//
// The checks run cheapest first: a silent frame (-80 dBFS or less) costs the
// filter, its energy and the floor update; any other the spectrum too (the
// spectral change needs every frame's bands); the periodicity search (at
// 2 kHz, then refined at 8 kHz) runs only for frames that pass every other
// test.

// VAD timing, spectrum and thresholds.
const (
	vadFrame        = 160   // samples analysed at a time: 20 ms
	vadHist         = 320   // samples kept for the periodicity search: 40 ms
	vadFFT          = 256   // spectrum size: 32 ms, 31.25 Hz bins
	vadBands        = 14    // bands of the spectral change measure
	vadBandBins     = 8     // bins per band: 250 Hz
	vadFirstBin     = 3     // first bin of the first band: 94 Hz
	vadBandRange    = 30    // dB below the strongest band at which bands are floored
	vadAbsFloor     = -90   // dBFS: the band level of silence, the lowest noise floor
	vadSilence      = -80   // dBFS: frames at or below are silence, not analysed
	vadFluxLen      = 9     // frames over which the median change is taken
	vadActiveMargin = 8     // dB over its floor at which a band counts in the change
	vadClampMargin  = 4     // dB over its floor below which a band's level is not told apart
	vadMinActive    = 2     // bands that must count, or the change is nil
	vadMinFlux      = 4.0   // dB: the least median change of speech
	vadTonal        = 0.9   // share of the power in two peaks from which a frame may be a tone
	vadMinPeaks     = 3     // peaks that matter in a frame that is not a tone
	vadMinPeriod    = 0.5   // the least normalised correlation of voiced speech
	vadOnsetSlack   = 5     // the onset counts frames within its length and 5 more
	vadSubWin       = 16    // frames in each sub-window of the minimum search (320 ms)
	vadSubWins      = 5     // sub-windows: the noise floor is the minimum over 1.6 s
	vadMinLag       = 5     // at 2 kHz: 400 Hz
	vadMaxLag       = 40    // at 2 kHz: 50 Hz
	vadDCPole       = 0.953 // the DC blocker's pole: about 60 Hz
)

// VADConfig tunes a VAD. Zero fields take the defaults shown.
type VADConfig struct {
	// Onset is how much speech-like audio makes speech start: that many
	// frames' worth within the last Onset+100 ms. Default 100 ms; at most
	// 540 ms.
	Onset time.Duration
	// Hangover is how long the audio must not look like speech before speech
	// stops. Default 600 ms.
	Hangover time.Duration
	// MinLevel is the lowest frame level, in dBFS, that can count as speech.
	// Default -50.
	MinLevel float64
	// MinSNR is by how much, in dB, a frame must exceed the noise floor to
	// count as speech. Default 9.
	MinSNR float64
}

func (c VADConfig) withDefaults() VADConfig {
	if c.Onset <= 0 {
		c.Onset = 100 * time.Millisecond
	}
	if c.Hangover <= 0 {
		c.Hangover = 600 * time.Millisecond
	}
	if c.MinLevel == 0 {
		c.MinLevel = -50
	}
	if c.MinSNR == 0 {
		c.MinSNR = 9
	}
	return c
}

// A VAD is a voice activity detector for 8 kHz audio. Feed it every frame of
// one stream with Process; it is not safe for concurrent use.
type VAD struct {
	tab         *vadTables
	onsetFrames int
	hangFrames  int
	minLevel    float64 // dBFS
	minSNR      float64 // dB

	// Input.
	x1, y1  float64           // DC blocker state
	hist    [vadHist]float64  // filtered samples, oldest first
	pending [vadFrame]float64 // filtered samples of the frame being filled
	fill    int

	// Noise floors: minimum statistics of the smoothed level, of the whole
	// band and of each band of the spectral change measure.
	noise     minTracker
	bandNoise [vadBands]minTracker

	// Spectral change.
	bands   [2][vadBands]float64 // band levels (dBFS) of the last two frames, newest first
	flux    [vadFluxLen]float64
	fluxPos int

	// Decisions.
	recent   uint32 // speech-like flags of the latest frames, newest in bit 0
	quiet    int    // frames in a row not speech-like
	speaking bool

	// Scratch for the spectrum.
	re, im [vadFFT / 2]float64
	pow    [vadFFT/2 + 1]float64
}

// vadTables are shared by every VAD.
type vadTables struct {
	win      [vadFFT]float64 // Hann window
	cos, sin [vadFFT / 2]float64
	rev      [vadFFT / 2]uint8 // bit reversal for the 128-point FFT
}

var vadShared = sync.OnceValue(func() *vadTables {
	t := new(vadTables)
	for i := range t.win {
		t.win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/vadFFT)
	}
	for i := range t.cos {
		t.cos[i] = math.Cos(2 * math.Pi * float64(i) / vadFFT)
		t.sin[i] = -math.Sin(2 * math.Pi * float64(i) / vadFFT)
	}
	const bits = 7 // log2(vadFFT/2)
	for i := range t.rev {
		r := 0
		for b := range bits {
			r |= (i >> b & 1) << (bits - 1 - b)
		}
		t.rev[i] = uint8(r)
	}
	return t
})

// NewVAD returns a detector tuned by cfg (a zero VADConfig gives the
// defaults).
func NewVAD(cfg VADConfig) *VAD {
	cfg = cfg.withDefaults()
	frame := 20 * time.Millisecond
	v := &VAD{
		tab:         vadShared(),
		onsetFrames: min(max(1, int((cfg.Onset+frame/2)/frame)), 32-vadOnsetSlack),
		hangFrames:  max(1, int((cfg.Hangover+frame/2)/frame)),
		minLevel:    cfg.MinLevel,
		minSNR:      cfg.MinSNR,
	}
	v.Reset()
	return v
}

// Reset forgets all audio seen, as for a new stream: the VAD is not speaking.
func (v *VAD) Reset() {
	*v = VAD{tab: v.tab, onsetFrames: v.onsetFrames, hangFrames: v.hangFrames, minLevel: v.minLevel, minSNR: v.minSNR}
	v.noise.reset()
	for b := range v.bandNoise {
		v.bandNoise[b].reset()
	}
	for i := range v.bands {
		for b := range v.bands[i] {
			v.bands[i][b] = vadAbsFloor
		}
	}
}

// Speaking reports the current state: whether speech has started and not
// stopped.
func (v *VAD) Speaking() bool { return v.speaking }

// NoiseFloor returns the current estimate of the background level in dBFS
// (-Inf before any audio).
func (v *VAD) NoiseFloor() float64 {
	if !v.noise.started {
		return math.Inf(-1)
	}
	return v.noise.floor()
}

// Process analyses the next frame of audio (20 ms: 160 samples at 8 kHz) and
// returns the speaking state after it, and whether that changed with this
// frame: changed and speaking is a speech start, changed and not speaking a
// speech stop. Frames of another length are accepted: the audio is analysed
// in 20 ms pieces as they complete, and changed compares the state after the
// call with the state before it. Process does not allocate.
func (v *VAD) Process(frame []int16) (changed bool, speaking bool) {
	was := v.speaking
	for _, s := range frame {
		// DC blocker: a one-pole high-pass at about 60 Hz, which also takes
		// most of mains hum's fundamental out of the level.
		x := float64(s)
		y := x - v.x1 + vadDCPole*v.y1
		v.x1, v.y1 = x, y
		v.pending[v.fill] = y
		if v.fill++; v.fill == vadFrame {
			v.frame()
			v.fill = 0
		}
	}
	return v.speaking != was, v.speaking
}

// frame analyses the completed frame in pending.
func (v *VAD) frame() {
	copy(v.hist[:], v.hist[vadFrame:])
	copy(v.hist[vadHist-vadFrame:], v.pending[:])

	var e float64
	for _, y := range v.pending {
		e += y * y
	}
	level := vadDB(e / vadFrame)
	floor := v.noise.push(level)

	like := false
	if level > vadSilence {
		tonal := v.spectrum()
		like = level >= v.minLevel && level-floor >= v.minSNR && !tonal &&
			v.medianFlux() >= vadMinFlux && v.periodicity() >= vadMinPeriod
	} else {
		v.silentBands()
	}
	v.decide(like)
}

// vadDB converts a mean square to dBFS (AES17: a full-scale sine is 0).
func vadDB(meanSq float64) float64 {
	const ref = FullScale * FullScale / 2
	if meanSq <= ref*1e-12 {
		return -120
	}
	return 10 * math.Log10(meanSq/ref)
}

// A minTracker follows the noise floor under a level (dBFS) given once per
// frame: the minimum of the smoothed level over the last vadSubWins
// sub-windows of vadSubWin frames, kept as one minimum per sub-window.
type minTracker struct {
	smooth  float64
	started bool
	subMin  [vadSubWins]float64
	curMin  float64
	subN    int
}

func (m *minTracker) reset() {
	*m = minTracker{curMin: math.Inf(1)}
	for i := range m.subMin {
		m.subMin[i] = math.Inf(1)
	}
}

// push adds a frame's level and returns the floor it is judged against,
// which includes the frame itself: the floor follows a falling level at once
// and a rising one after 1.6 s at most.
func (m *minTracker) push(level float64) float64 {
	if !m.started {
		m.smooth, m.started = level, true
	} else {
		m.smooth += 0.5 * (level - m.smooth)
	}
	m.curMin = min(m.curMin, m.smooth)
	f := m.floor()
	if m.subN++; m.subN == vadSubWin {
		copy(m.subMin[1:], m.subMin[:vadSubWins-1])
		m.subMin[0], m.curMin, m.subN = m.curMin, math.Inf(1), 0
	}
	return f
}

// floor is the minimum of the smoothed level over the sub-windows.
func (m *minTracker) floor() float64 {
	f := m.curMin
	for _, x := range m.subMin {
		f = min(f, x)
	}
	return max(f, vadAbsFloor)
}

// spectrum computes the power spectrum of the last 32 ms, records the band
// levels and their change, and tells whether the frame is a tone: whether
// the two strongest peaks hold vadTonal of the power and there are fewer
// than vadMinPeaks peaks that matter. (A vowel whose first formant sits on
// two harmonics can concentrate its power as much as a two-frequency tone,
// but its other harmonics still show as peaks.)
func (v *VAD) spectrum() (tonal bool) {
	pow := &v.pow
	v.powerSpectrum(pow)
	var total float64
	for _, p := range pow[vadFirstBin:] {
		total += p
	}

	// Bands, in dB relative to a full-scale sine in the window.
	var bands [vadBands]float64
	top := math.Inf(-1)
	for b := range bands {
		var p float64
		lo := vadFirstBin + b*vadBandBins
		for i := lo; i < lo+vadBandBins; i++ {
			p += pow[i]
		}
		bands[b] = vadBandDB(p)
		top = max(top, bands[b])
	}
	for b := range bands {
		bands[b] = max(bands[b], top-vadBandRange, vadAbsFloor)
	}
	v.pushBands(&bands)

	// Two strongest peaks, ±2 bins each.
	if total <= 0 {
		return false
	}
	var share float64
	p1 := vadPeak(pow[:], -100, -100)
	for i := max(vadFirstBin, p1-2); i <= min(vadFFT/2, p1+2); i++ {
		share += pow[i]
	}
	p2 := vadPeak(pow[:], p1-2, p1+2)
	for i := max(vadFirstBin, p2-2); i <= min(vadFFT/2, p2+2); i++ {
		if i < p1-2 || i > p1+2 {
			share += pow[i]
		}
	}
	share /= total
	if share < vadTonal {
		return false
	}
	// Count the peaks that matter: local maxima within 30 dB of the
	// strongest and 6 dB over their band's noise floor.
	least := pow[p1] * 1e-3
	peaks := 0
	last := vadFirstBin + vadBands*vadBandBins - 1
	for i := vadFirstBin; i <= last; i++ {
		p := pow[i]
		if p < least || p <= pow[i-1] || p < pow[i+1] {
			continue
		}
		b := (i - vadFirstBin) / vadBandBins
		if vadBandDB(p*vadBandBins) < v.bandNoise[b].floor()+6 {
			continue
		}
		if peaks++; peaks >= vadMinPeaks {
			return false
		}
	}
	return true
}

// powerSpectrum sets pow[k] to |X[k]|² for the 256-point DFT X of the last
// 256 samples, Hann-windowed, for k = 0 .. 128. The real input is packed into
// a 128-point complex FFT (even samples real, odd imaginary), whose result is
// split into the spectra of the two halves and recombined: half the work of
// a 256-point complex FFT.
func (v *VAD) powerSpectrum(pow *[vadFFT/2 + 1]float64) {
	const m = vadFFT / 2
	t := v.tab
	re, im := &v.re, &v.im
	src := v.hist[vadHist-vadFFT:]
	for i := range m {
		r := t.rev[i]
		re[r] = src[2*i] * t.win[2*i]
		im[r] = src[2*i+1] * t.win[2*i+1]
	}
	for size := 2; size <= m; size <<= 1 {
		half, step := size/2, vadFFT/size // twiddles e^{-2πik/size} = table[k·256/size]
		for start := 0; start < m; start += size {
			for k := range half {
				c, s := t.cos[k*step], t.sin[k*step]
				a, b := start+k, start+k+half
				br := re[b]*c - im[b]*s
				bi := re[b]*s + im[b]*c
				re[b], im[b] = re[a]-br, im[a]-bi
				re[a], im[a] = re[a]+br, im[a]+bi
			}
		}
	}
	// Z[k] = E[k] + j·O[k], with E and O the DFTs of the even and odd
	// samples: E[k] = (Z[k] + Z*[m-k])/2, O[k] = (Z[k] - Z*[m-k])/2j, and
	// X[k] = E[k] + e^{-2πjk/256}·O[k].
	for k := 0; k <= m; k++ {
		a, b := k%m, (m-k)%m
		zr, zi := re[a], im[a]
		cr, ci := re[b], -im[b] // Z*[m-k]
		er, ei := (zr+cr)/2, (zi+ci)/2
		or, oi := (zi-ci)/2, -(zr-cr)/2
		c, s := 1.0, 0.0
		if k < m {
			c, s = t.cos[k], t.sin[k]
		} else {
			c = -1
		}
		xr := er + or*c - oi*s
		xi := ei + or*s + oi*c
		pow[k] = xr*xr + xi*xi
	}
}

// vadPeak returns the strongest bin from vadFirstBin on outside [skipLo, skipHi].
func vadPeak(p []float64, skipLo, skipHi int) int {
	best := vadFirstBin
	bestP := -1.0
	for i := vadFirstBin; i < len(p); i++ {
		if i >= skipLo && i <= skipHi {
			continue
		}
		if p[i] > bestP {
			best, bestP = i, p[i]
		}
	}
	return best
}

// vadBandDB converts a band's power in the 256-point Hann-windowed spectrum to
// dBFS: a full-scale sine in the band reads about 0.
func vadBandDB(p float64) float64 {
	// A sine of peak A gives |X|² ≈ (A·N/4)² at its bin, spread over the
	// Hann window's main lobe with a total of 1.5·(A·N/4)².
	const ref = 1.5 * (FullScale * vadFFT / 4) * (FullScale * vadFFT / 4)
	if p <= ref*1e-12 {
		return -120
	}
	return 10 * math.Log10(p/ref)
}

// silentBands records a frame too quiet to analyse: its bands are silence.
func (v *VAD) silentBands() {
	var bands [vadBands]float64
	for b := range bands {
		bands[b] = vadAbsFloor
	}
	v.pushBands(&bands)
}

// pushBands records a frame's band levels and their change from the frame
// before the last: the median, over the bands that stand out of their own
// noise floor, of the absolute change in dB, each level taken as at least a
// little above the band's floor so that the noise's own fluctuation does not
// count. With fewer than vadMinActive such bands, the change is nil: a sound
// that narrow is not speech.
func (v *VAD) pushBands(bands *[vadBands]float64) {
	var d [vadBands]float64
	n := 0
	for b := range bands {
		f := v.bandNoise[b].push(bands[b])
		now, then := bands[b], v.bands[1][b]
		if max(now, then) < f+vadActiveMargin {
			continue
		}
		now, then = max(now, f+vadClampMargin), max(then, f+vadClampMargin)
		d[n] = math.Abs(now - then)
		n++
	}
	flux := 0.0
	if n >= vadMinActive {
		flux = median(d[:n])
	}
	v.flux[v.fluxPos] = flux
	v.fluxPos = (v.fluxPos + 1) % vadFluxLen
	v.bands[1], v.bands[0] = v.bands[0], *bands
}

// medianFlux is the median change over the last vadFluxLen frames.
func (v *VAD) medianFlux() float64 {
	f := v.flux
	return median(f[:])
}

// median sorts x (a few values) in place and returns its median.
func median(x []float64) float64 {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}

// periodicity returns the largest normalised cross-correlation of the last
// 40 ms with itself delayed by 2.5 to 20 ms (pitch 400 to 50 Hz). The lag is
// searched at 2 kHz (sums of four samples: a low-pass that keeps the first
// harmonics, where voiced speech has most of its power), then the peak is
// measured at 8 kHz around it.
func (v *VAD) periodicity() float64 {
	const n = vadHist / 4
	var d [n]float64
	var cum [n + 1]float64 // cum[k]: energy of d[:k]
	for i := range d {
		h := v.hist[4*i : 4*i+4]
		d[i] = h[0] + h[1] + h[2] + h[3]
		cum[i+1] = cum[i] + d[i]*d[i]
	}
	bestLag, best := 0, 0.0
	for lag := vadMinLag; lag <= vadMaxLag; lag++ {
		xy := vadDot(d[lag:], d[:n-lag])
		den := (cum[n] - cum[lag]) * cum[n-lag]
		if xy <= 0 || den <= 0 {
			continue
		}
		if r := xy * xy / den; r > best {
			bestLag, best = lag, r
		}
	}
	if bestLag == 0 {
		return 0
	}
	// At 8 kHz: lags 4L-3 .. 4L+3.
	h := v.hist[:]
	var hcum [vadHist + 1]float64
	for i, x := range h {
		hcum[i+1] = hcum[i] + x*x
	}
	r := 0.0
	for lag := 4*bestLag - 3; lag <= 4*bestLag+3; lag++ {
		xy := vadDot(h[lag:], h[:vadHist-lag])
		den := (hcum[vadHist] - hcum[lag]) * hcum[vadHist-lag]
		if xy > 0 && den > 0 {
			r = max(r, xy/math.Sqrt(den))
		}
	}
	return r
}

// vadDot returns the inner product of x and y (len(x) == len(y)), with four
// accumulators so that the additions do not wait on one another.
func vadDot(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	for len(x) >= 4 && len(y) >= 4 {
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		x, y = x[4:], y[4:]
	}
	for i := range x {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// decide adds a frame's verdict and updates the speaking state.
func (v *VAD) decide(like bool) {
	v.recent <<= 1
	if like {
		v.recent |= 1
		v.quiet = 0
	} else {
		v.quiet++
	}
	win := uint32(1)<<(v.onsetFrames+vadOnsetSlack) - 1
	switch {
	case !v.speaking && bits.OnesCount32(v.recent&win) >= v.onsetFrames:
		v.speaking = true
	case v.speaking && v.quiet >= v.hangFrames:
		v.speaking = false
	}
}
