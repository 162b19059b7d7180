package dsp

import (
	"math"
	"time"
)

// Detector timing, in half-windows of dtmfHop samples (6.375 ms at 8 kHz).
const (
	dtmfHop     = 51          // samples per half-window
	dtmfWindow  = 2 * dtmfHop // 102 samples, 12.75 ms: bins narrower than the 73 Hz row spacing
	dtmfOnHits  = 4           // consecutive windows with the digit before it is accepted (≈32 ms of tone)
	dtmfOffMiss = 4           // consecutive windows without it before it ends (≈25 ms of pause)
)

// DTMFConfig tunes a DTMFDetector. Zero fields take the defaults shown.
type DTMFConfig struct {
	// MinLevel is the lowest level, in dBFS, at which each of the two tones is
	// accepted. Default -36.
	MinLevel float64
	// NormalTwist is how much louder, in dB, the low-group tone may be than the
	// high-group tone. Default 8.
	NormalTwist float64
	// ReverseTwist is how much louder, in dB, the high-group tone may be than
	// the low-group tone. Default 4.
	ReverseTwist float64
	// RelativePeak is by how much, in dB, each tone must exceed the other tones
	// of its group. Default 6.
	RelativePeak float64
	// MinEnergyRatio is the least share of a window's energy the two tones
	// must carry together (speech and noise spread theirs). Default 0.7.
	MinEnergyRatio float64
}

func (c DTMFConfig) withDefaults() DTMFConfig {
	if c.MinLevel == 0 {
		c.MinLevel = -36
	}
	if c.NormalTwist == 0 {
		c.NormalTwist = 8
	}
	if c.ReverseTwist == 0 {
		c.ReverseTwist = 4
	}
	if c.RelativePeak == 0 {
		c.RelativePeak = 6
	}
	if c.MinEnergyRatio == 0 {
		c.MinEnergyRatio = 0.7
	}
	return c
}

// A DTMFEvent reports a digit starting (End false) or ending (End true).
type DTMFEvent struct {
	Digit byte
	// Start is when the digit's tones began, measured from the first sample
	// the detector saw (to within a few milliseconds).
	Start time.Duration
	// Duration is how long the digit sounded; set on the End event only.
	Duration time.Duration
	End      bool
}

// A DTMFDetector finds DTMF digits in 8 kHz audio. Feed it with Process; it is
// not safe for concurrent use.
type DTMFDetector struct {
	cos, sin, c [8]float64 // per frequency: cos ω, sin ω, 2cos ω
	rotC, rotS  [8]float64 // e^{-jωH}: moves a half-window's DFT term by H samples
	minPower    float64
	normalTwist float64
	revTwist    float64
	relPeak     float64
	ratio       float64

	// Goertzel state of the half-window being filled.
	s1, s2 [8]float64
	energy float64
	fill   int
	// Previous half-window's DFT terms (up to a common phase) and energy.
	prevRe, prevIm [8]float64
	prevEnergy     float64
	havePrev       bool

	halves   int64 // half-windows completed
	run      byte  // digit seen in the latest consecutive windows, 0 for none
	runHits  int
	runStart int64 // half-window index at which the run's first window began
	active   byte  // digit currently reported as down, 0 for none
	actStart int64
	lastHit  int64 // half-window index at which the last window with active ended
	misses   int
}

// NewDTMFDetector returns a detector tuned by cfg (a zero DTMFConfig gives the
// defaults).
func NewDTMFDetector(cfg DTMFConfig) *DTMFDetector {
	cfg = cfg.withDefaults()
	d := &DTMFDetector{
		minPower:    math.Pow(Amplitude(cfg.MinLevel), 2) / 2,
		normalTwist: math.Pow(10, cfg.NormalTwist/10),
		revTwist:    math.Pow(10, cfg.ReverseTwist/10),
		relPeak:     math.Pow(10, cfg.RelativePeak/10),
		ratio:       cfg.MinEnergyRatio,
	}
	for k := range 8 {
		f := DTMFLow[k%4]
		if k >= 4 {
			f = DTMFHigh[k-4]
		}
		w := 2 * math.Pi * f / SampleRate
		d.cos[k], d.sin[k], d.c[k] = math.Cos(w), math.Sin(w), 2*math.Cos(w)
		d.rotC[k], d.rotS[k] = math.Cos(w*dtmfHop), -math.Sin(w*dtmfHop)
	}
	return d
}

// Reset forgets all audio seen, as for a new stream.
func (d *DTMFDetector) Reset() {
	*d = DTMFDetector{
		cos: d.cos, sin: d.sin, c: d.c, rotC: d.rotC, rotS: d.rotS,
		minPower: d.minPower, normalTwist: d.normalTwist, revTwist: d.revTwist,
		relPeak: d.relPeak, ratio: d.ratio,
	}
}

// Process analyses samples (8 kHz, any count) and appends to events the digits
// that start or end in them, returning the extended slice.
func (d *DTMFDetector) Process(samples []int16, events []DTMFEvent) []DTMFEvent {
	for len(samples) > 0 {
		n := min(dtmfHop-d.fill, len(samples))
		d.feed(samples[:n])
		samples = samples[n:]
		d.fill += n
		if d.fill == dtmfHop {
			events = d.halfDone(events)
		}
	}
	return events
}

// feed runs the eight Goertzel recurrences over block.
func (d *DTMFDetector) feed(block []int16) {
	s1, s2 := d.s1, d.s2
	c := d.c
	e := d.energy
	for _, x := range block {
		v := float64(x)
		e += v * v
		for k := range 8 {
			s1[k], s2[k] = v+c[k]*s1[k]-s2[k], s1[k]
		}
	}
	d.s1, d.s2, d.energy = s1, s2, e
}

// halfDone closes a half-window: it combines it with the previous one into a
// full window, classifies the window and updates the digit state.
func (d *DTMFDetector) halfDone(events []DTMFEvent) []DTMFEvent {
	// The half-window's DFT term, up to the phase factor e^{-jω(H-1)} common to
	// both halves: y = s1 - e^{-jω} s2.
	var re, im, power [8]float64
	for k := range 8 {
		re[k] = d.s1[k] - d.cos[k]*d.s2[k]
		im[k] = d.sin[k] * d.s2[k]
	}
	energy := d.energy
	digit := byte(0)
	if d.havePrev {
		// X = X_prev + e^{-jωH} X_cur over the window [prev | cur].
		const norm = 2.0 / (dtmfWindow * dtmfWindow)
		for k := range 8 {
			xr := d.prevRe[k] + d.rotC[k]*re[k] - d.rotS[k]*im[k]
			xi := d.prevIm[k] + d.rotC[k]*im[k] + d.rotS[k]*re[k]
			power[k] = (xr*xr + xi*xi) * norm
		}
		digit = d.classify(&power, (d.prevEnergy+energy)/dtmfWindow)
	}
	d.prevRe, d.prevIm, d.prevEnergy, d.havePrev = re, im, energy, true
	d.s1, d.s2, d.energy, d.fill = [8]float64{}, [8]float64{}, 0, 0
	d.halves++
	if !d.havePrevWindow() {
		return events
	}
	return d.update(digit, events)
}

func (d *DTMFDetector) havePrevWindow() bool { return d.halves >= 2 }

// classify returns the digit a window holds, or 0. power holds the mean-square
// amplitude at each DTMF frequency (rows then columns); meanSq is the window's.
func (d *DTMFDetector) classify(power *[8]float64, meanSq float64) byte {
	row, col := 0, 4
	for k := 1; k < 4; k++ {
		if power[k] > power[row] {
			row = k
		}
		if power[4+k] > power[col] {
			col = 4 + k
		}
	}
	pr, pc := power[row], power[col]
	if pr < d.minPower || pc < d.minPower {
		return 0
	}
	if pr > pc*d.normalTwist || pc > pr*d.revTwist {
		return 0
	}
	for k := range 4 {
		if k != row && power[k]*d.relPeak > pr {
			return 0
		}
		if 4+k != col && power[4+k]*d.relPeak > pc {
			return 0
		}
	}
	if pr+pc < d.ratio*meanSq {
		return 0
	}
	return dtmfKeys[row*4+col-4]
}

// update advances the digit state machine by one window holding digit (0: none).
func (d *DTMFDetector) update(digit byte, events []DTMFEvent) []DTMFEvent {
	windowStart := d.halves - 2 // in half-windows
	if digit != 0 && digit == d.run {
		d.runHits++
	} else {
		d.run, d.runHits, d.runStart = digit, 0, windowStart
		if digit != 0 {
			d.runHits = 1
		}
	}
	if d.active != 0 {
		if digit == d.active {
			d.misses = 0
			d.lastHit = d.halves
		} else if d.misses++; d.misses >= dtmfOffMiss {
			events = append(events, DTMFEvent{
				Digit:    d.active,
				Start:    halvesToDuration(d.actStart),
				Duration: halvesToDuration(d.lastHit - d.actStart),
				End:      true,
			})
			d.active = 0
		}
	}
	if d.active == 0 && d.run != 0 && d.runHits >= dtmfOnHits {
		d.active, d.actStart, d.lastHit, d.misses = d.run, d.runStart, d.halves, 0
		d.runHits = math.MinInt32 / 2 // the run is spent: it must break before it counts again
		events = append(events, DTMFEvent{Digit: d.active, Start: halvesToDuration(d.actStart)})
	}
	return events
}

func halvesToDuration(h int64) time.Duration {
	return time.Duration(h*dtmfHop) * time.Second / SampleRate
}

// Active returns the digit currently sounding (reported by a start event and
// not yet ended), or 0.
func (d *DTMFDetector) Active() byte { return d.active }

// DetectDTMF returns the digits found in samples (8 kHz) by a detector with the
// default configuration, in order.
func DetectDTMF(samples []int16) string {
	d := NewDTMFDetector(DTMFConfig{})
	events := d.Process(samples, nil)
	events = d.Process(make([]int16, dtmfHop*(dtmfOffMiss+2)), events) // let a last digit end
	var out []byte
	for _, e := range events {
		if !e.End {
			out = append(out, e.Digit)
		}
	}
	return string(out)
}
