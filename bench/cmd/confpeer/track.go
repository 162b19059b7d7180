package main

import "math"

const (
	// minShift is the least change of a listener's delay behind the talker
	// counted as audio dropped or inserted: 5 ms, well above the detector's
	// error (±8 samples).
	minShift = 40
	// trackSpan is how far from where the next talker frame should start
	// the detector looks for it (9 ms): a neighbouring frame then fills at
	// most 45 % of the window, under the threshold (60 %).
	trackSpan = 72
	// lostAfter: this many misses in a row and the talker's frames are
	// looked for anywhere again (the delay changed).
	lostAfter = 2
)

// A tracker follows the talker's frames through what one listener receives.
// Positions are in samples of switchboard's timeline for the listener's leg
// (its RTP timestamps, from the first packet). The delay D of a talker frame
// is where it starts less 160 times its number: while nothing is lost or
// added, D stays put. When switchboard's jitter buffer drops some of the
// talker's audio (a delay cut), D falls by that much; when it stretches
// playout (silence played while a late packet is waited for), D grows.
type tracker struct {
	have   bool
	tn     int64 // the talker frame last found, numbered from the first found
	start  int64 // where it starts
	idx    int   // its tone index
	base   int64 // D the shifts are measured from
	misses int64 // frames not found in a row where they should have been
}

// outcome is what one step found.
type outcome struct {
	analysed bool // a verdict: the talker's tone was looked for where it should be
	found    bool // ... and found
	a        analysis
	frames   int64 // talker frames advanced through
	lost     int64 // talker frames whose place held no tone (replaced by silence)
	dropped  int64 // samples of the talker's audio cut (D fell)
	inserted int64 // samples of silence or repeat inserted (D grew)
}

// reset forgets the talker's position (the listener's timeline jumped).
func (t *tracker) reset() { *t = tracker{} }

// step looks at prev then cur, the two frames received last, prev starting
// at p0 of the timeline; thr is the least amplitude of a found tone.
func (t *tracker) step(d *detector, prev, cur *[frameSamples]float64, p0 int64, thr float64) outcome {
	if !t.have {
		a := d.scan(prev, cur)
		if a.amp < thr {
			return outcome{a: a}
		}
		*t = tracker{have: true, start: p0 + int64(a.off), idx: a.idx}
		t.base = t.start
		return outcome{analysed: true, found: true, a: a}
	}
	want := t.start + frameSamples*(t.misses+1) // where the next frame should start
	var a analysis
	if t.misses >= lostAfter {
		a = d.scan(prev, cur)
	} else {
		a = d.scanRange(prev, cur, int(want-p0-trackSpan), int(want-p0+trackSpan))
	}
	if a.amp < thr {
		t.misses++
		return outcome{analysed: true, a: a}
	}
	o := outcome{analysed: true, found: true, a: a}
	start := p0 + int64(a.off)
	// Which talker frame: the one with this index nearest to where the
	// samples say it should be.
	e := float64(start-t.start) / frameSamples
	k0 := int64((a.idx - t.idx + nTones) % nTones)
	kk := k0 + nTones*int64(math.Round((e-float64(k0))/nTones))
	if kk < 1 {
		kk = 1 // never backwards; D shows what happened
	}
	t.tn += kk
	t.start, t.idx = start, a.idx
	o.frames = kk
	lost := t.misses
	if shift := start - frameSamples*t.tn - t.base; shift <= -minShift || shift >= minShift {
		t.base += shift
		if shift < 0 {
			o.dropped = -shift
		} else {
			o.inserted = shift
			// The misses while the silence was played were the stretch,
			// not lost audio.
			lost = max(lost-int64(math.Round(float64(shift)/frameSamples)), 0)
		}
	}
	o.lost = lost
	t.misses = 0
	return o
}
