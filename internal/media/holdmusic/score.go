package holdmusic

// The piece: sixteen bars of 4/4 at 96 beats a minute in D major, 40 s, an
// original composition written for switchboard (no third-party material).
//
// The harmony is the familiar I–vi–IV–V family, one chord a bar:
//
//	bars  1– 8: D   Bm  G   A   | D   Bm  Em  A
//	bars  9–16: G   A   F#m Bm  | G   A   D   A
//
// The last bar's dominant leads back into the first bar's tonic, so the loop
// closes harmonically as well as in the waveform.

// Tempo and form.
const (
	beatsPerBar = 4
	bars        = 16
	// beatSamples is one beat at 96 beats a minute: 0.625 s.
	beatSamples = 5000
	// loopSamples is the whole piece: 320000 samples, 40 s, 2000 frames.
	loopSamples = bars * beatsPerBar * beatSamples
)

// MIDI note numbers used by the score (A4 = 69 = 440 Hz).
const (
	nE2  = 40
	nFs2 = 42
	nG2  = 43
	nA2  = 45
	nB2  = 47
	nD3  = 50
	nE3  = 52
	nFs3 = 54
	nG3  = 55
	nA3  = 57
	nB3  = 59
	nCs4 = 61
	nD4  = 62
	nE4  = 64
	nFs4 = 66
	nG4  = 67
	nA4  = 69
	nB4  = 71
	nCs5 = 73
	nD5  = 74
	nE5  = 76
	nFs5 = 78
	nG5  = 79
	nA5  = 81
	nB5  = 83
	nCs6 = 85
	nD6  = 86
)

// chord is one bar's harmony: a bass note and a three-note voicing for the
// pad, voice-led so that neighbouring chords share notes or move by step.
type chord struct {
	bass  int
	voice [3]int
}

var (
	chD   = chord{nD3, [3]int{nA3, nD4, nFs4}}
	chBm  = chord{nB2, [3]int{nB3, nD4, nFs4}}
	chG   = chord{nG2, [3]int{nB3, nD4, nG4}}
	chA   = chord{nA2, [3]int{nA3, nCs4, nE4}}
	chEm  = chord{nE3, [3]int{nB3, nE4, nG4}}
	chFsm = chord{nFs2, [3]int{nA3, nCs4, nFs4}}
)

// progression is the harmony, bar by bar.
var progression = [bars]chord{
	chD, chBm, chG, chA, chD, chBm, chEm, chA,
	chG, chA, chFsm, chBm, chG, chA, chD, chA,
}

// tone is a note of the melody: pitch (0 for a rest) and length in beats.
type tone struct {
	pitch int
	beats float64
}

// melody is the tune, bar by bar; every bar adds up to four beats.
var melody = [bars][]tone{
	{{nFs5, 2}, {nG5, 1}, {nA5, 1}},
	{{nB5, 3}, {nA5, 1}},
	{{nG5, 2}, {nFs5, 1}, {nE5, 1}},
	{{nE5, 3}, {nCs5, 1}},
	{{nD5, 2}, {nFs5, 1}, {nA5, 1}},
	{{nD6, 2}, {nB5, 1}, {nA5, 1}},
	{{nG5, 2}, {nFs5, 1}, {nE5, 1}},
	{{nE5, 2}, {nCs5, 1}, {nE5, 1}},
	{{nD5, 1}, {nG5, 1}, {nB5, 2}},
	{{nCs6, 2}, {nA5, 1}, {nE5, 1}},
	{{nFs5, 2}, {nE5, 1}, {nCs5, 1}},
	{{nD5, 2}, {nFs5, 1}, {nB5, 1}},
	{{nB5, 2}, {nA5, 1}, {nG5, 1}},
	{{nA5, 2}, {nG5, 1}, {nE5, 1}},
	{{nFs5, 2}, {nE5, 1}, {nD5, 1}},
	{{nE5, 2}, {0, 1}, {nCs5, 1}},
}

// arpeggio is the order in which the soft eighth-note figure walks the pad's
// voicing (0-2) and its top note an octave up (3), two eighths a beat.
var arpeggio = [2 * beatsPerBar]int{0, 1, 2, 3, 2, 1, 2, 1}
