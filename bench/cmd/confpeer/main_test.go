package main

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/conference"
	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

// A voice: a few harmonics under 1,800 Hz with a slowly moving pitch,
// continuous across frames, at about level (of full scale).
type voice struct {
	phase [6]float64
	f0    float64
	level float64
	rng   *rand.Rand
}

func (v *voice) frame(out []int16) {
	for i := range out {
		v.f0 += (v.rng.Float64() - 0.5) * 0.05
		v.f0 = min(max(v.f0, 90), 250)
		s := 0.0
		for h := range v.phase {
			f := v.f0 * float64(h+1)
			if f > 1700 {
				break
			}
			v.phase[h] += 2 * math.Pi * f / 8000
			s += math.Sin(v.phase[h]) / float64(h+1)
		}
		out[i] = int16(v.level * 0.6 * s * math.MaxInt16)
	}
}

// thr is the detection threshold confpeer uses for -amp 0.1.
const thr = 0.06

// Through the real mixer, with 249 others talking: a listener finds each of
// the talker's frames in turn, where it should be, and the talker never hears
// its own tone.
func TestToneThroughMixer(t *testing.T) {
	const n = 250
	m := conference.NewMixer(conference.MixerConfig{})
	eps := make([]*conference.Endpoint, n)
	voices := make([]*voice, n)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range eps {
		eps[i] = m.Add(string(rune('A' + i)))
		eps[i].Set(conference.Flags{Talks: true, Hears: true})
		voices[i] = &voice{f0: 100 + 100*rng.Float64(), level: 0.01, rng: rng} // -40 dBFS
	}
	d := newDetector()
	in := make([]int16, frameSamples)
	out := make([]int16, frameSamples)
	enc := make([]byte, frameSamples)
	var talker, listener stream
	var heard float64
	var spanned int64
	const ticks = 300
	for k := range ticks {
		g711.DecodeUlaw(in, talkerFrame(k%ringFrames, 0.1))
		if err := eps[0].WriteFrame(in); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < n; i++ {
			voices[i].frame(in)
			g711.EncodeUlaw(enc, in)
			g711.DecodeUlaw(in, enc)
			if err := eps[i].WriteFrame(in); err != nil {
				t.Fatal(err)
			}
		}
		m.Mix()
		for i, e := range eps {
			if err := e.ReadFrame(out); err != nil {
				t.Fatal(err)
			}
			if i != 0 && i != 7 {
				continue
			}
			s := &listener
			if i == 0 {
				s = &talker
			}
			g711.EncodeUlaw(enc, out)
			power := decode(&s.cur, enc)
			first := !s.havePrev
			prev := s.prev
			s.prev, s.havePrev = s.cur, true
			if first {
				continue
			}
			if i == 0 {
				heard += power
				if a := d.scan(&prev, &s.cur); a.amp >= thr {
					t.Fatalf("tick %d: the talker hears its own tone (%.4f at index %d)", k, a.amp, a.idx)
				}
				continue
			}
			// prev holds frame k-1 at offset 0, cur frame k.
			o := s.tr.step(d, &prev, &s.cur, int64(k-1)*frameSamples, thr)
			a := o.a
			if want, ok := aligned(a, k-1); !o.found || !ok {
				t.Fatalf("tick %d: found index %d at %d (amplitude %.4f), want %d at 0 or the next at 160", k, a.idx, a.off, a.amp, want)
			}
			if marker := a.marker >= thr; marker != ((k-1+a.off/80)%markerEvery == 0) {
				t.Fatalf("tick %d: marker %.4f", k, a.marker)
			}
			if o.lost != 0 || o.dropped != 0 || o.inserted != 0 {
				t.Fatalf("tick %d: %+v", k, o)
			}
			spanned += o.frames
		}
	}
	if spanned != ticks-2 {
		t.Errorf("advanced through %d talker frames, want %d", spanned, ticks-2)
	}
	if db := dBFS(heard / (ticks - 1)); db < -30 || db > -5 {
		t.Errorf("the talker hears the others at %.1f dBFS; want -30..-5", db)
	}
}

// The talker's audio as switchboard's jitter buffer may deliver it: 37
// samples late to begin with, 160 samples cut at frame 100 (the delay cut),
// 280 samples of silence inserted at frame 200 (the delay grown), frame 250
// replaced by silence (its packet came too late). The tracker finds each
// frame wherever it starts and tells these apart, within the detector's
// error (a few samples).
func TestTrackerShifts(t *testing.T) {
	const frames = 300
	var talk []float64
	for n := range frames {
		var f [frameSamples]float64
		if n != 250 {
			decode(&f, talkerFrame(n%ringFrames, 0.1))
		}
		talk = append(talk, f[:]...)
	}
	rx := make([]float64, 37)
	rx = append(rx, talk[:100*frameSamples+53]...)
	rx = append(rx, talk[101*frameSamples+53:200*frameSamples]...)
	rx = append(rx, make([]float64, 280)...)
	rx = append(rx, talk[200*frameSamples:]...)

	d := newDetector()
	var tr tracker
	var sum outcome
	for k := 1; (k+1)*frameSamples <= len(rx); k++ {
		var prev, cur [frameSamples]float64
		copy(prev[:], rx[(k-1)*frameSamples:])
		copy(cur[:], rx[k*frameSamples:])
		o := tr.step(d, &prev, &cur, int64(k-1)*frameSamples, thr)
		sum.frames += o.frames
		sum.lost += o.lost
		sum.dropped += o.dropped
		sum.inserted += o.inserted
	}
	// Each position is found to a stride or two: a shift to about three.
	if sum.dropped < 160-3*scanStep || sum.dropped > 160+3*scanStep {
		t.Errorf("dropped %d samples, want 160", sum.dropped)
	}
	if sum.inserted < 280-3*scanStep || sum.inserted > 280+3*scanStep {
		t.Errorf("inserted %d samples, want 280", sum.inserted)
	}
	if sum.lost != 1 {
		t.Errorf("lost %d frames, want 1", sum.lost)
	}
	// The first frame found is not counted, nor the last (no frame after it).
	if sum.frames < frames-3 || sum.frames > frames-1 {
		t.Errorf("advanced through %d talker frames, want %d", sum.frames, frames-2)
	}
}

// aligned says whether a found frame n (at offset 0) or frame n+1 (at 160),
// within two strides of the detector.
func aligned(a analysis, n int) (int, bool) {
	if a.off <= 2*scanStep {
		return n % nTones, a.idx == n%nTones
	}
	return (n + 1) % nTones, a.off >= frameSamples-2*scanStep && a.idx == (n+1)%nTones
}

// The coded tone on its own: every index and the marker come back, aligned.
func TestScanTalkerFrames(t *testing.T) {
	d := newDetector()
	var prev, cur [frameSamples]float64
	for n := range ringFrames {
		decode(&cur, talkerFrame(n, 0.1))
		if n > 0 {
			a := d.scan(&prev, &cur)
			if _, ok := aligned(a, n-1); !ok || math.Abs(a.amp-0.1) > 0.01 {
				t.Fatalf("frame %d: index %d at %d amplitude %.4f", n-1, a.idx, a.off, a.amp)
			}
			if (a.marker > 0.05) != ((n-1+a.off/80)%markerEvery == 0) {
				t.Fatalf("frame %d: marker %.4f", n-1, a.marker)
			}
		}
		prev = cur
	}
	var silence [frameSamples]float64
	if a := d.scan(&silence, &silence); a.amp > 0.001 {
		t.Errorf("silence: %+v", a)
	}
}
