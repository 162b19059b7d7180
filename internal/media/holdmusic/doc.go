// Package holdmusic is switchboard's built-in wait and hold music: what a
// conference plays to participants waiting for it to start (Twilio's default
// waitUrl plays classical recordings) and what a call on hold hears.
//
// The music is synthesised here from a score written for switchboard, with no
// third-party recording or sample, so it ships and is redistributed with
// switchboard under the same terms.
//
// New returns an endless media.Source that starts at the beginning of the
// piece; WriteWAV writes one loop as an 8 kHz 16-bit WAV file, for serving
// over HTTP (a <Play> URL, a conference waitUrl), which loops as seamlessly
// with <Play loop="0">.
//
// # The piece
//
// Sixteen bars at 96 beats a minute in D major, 40 s (Loop), on a slow
// I–vi–IV–V progression, one chord a bar (score.go). Four soft voices, each a
// pair of sine operators in 1:1 frequency modulation, which gives a sine with
// a little of its harmonics, brighter at the attack and mellowing as the
// modulation index decays, the timbre of an electric piano or a mallet
// instrument rather than a synthesiser's buzz:
//
//   - a pad of three-note chords, each note doubled 4 cents sharp for a slow
//     chorus, with a slow attack and a long release, so that chords change by
//     crossfade and the harmony never stops;
//   - a plucked bass, root and fifth in half notes;
//   - a quiet eighth-note arpeggio over the chord;
//   - a melody between 550 Hz and 1.2 kHz, legato, with a gentle vibrato
//     that fades in on longer notes;
//
// through a small Schroeder reverberator (four damped combs and two allpasses,
// as in Freeverb, scaled to 8 kHz) that decays in under a second.
//
// It is meant for the telephone: everything sits between 100 Hz and 3.4 kHz;
// the level is steady (within about 2 dB over any 2 s) and the harmony moves
// every 2.5 s, so that no frequency dominates for long and nothing sounds like
// a tone; its power is always spread over a chord, a bass and a melody, never
// concentrated in a pair of DTMF frequencies. The tests run loops through
// package dsp's DTMF detector, which finds no digit, and its voice activity
// detector, which finds no speech.
//
// # Level
//
// The RMS over the loop is Level, -20 dBFS, and no sample exceeds -6 dBFS
// (half of full scale): a comfortable level next to speech, with headroom for
// any gain a mixer applies.
//
// # Generation
//
// The loop is rendered once, the first time New or WriteWAV needs it (about
// 0.1 s of CPU time), into 320000 samples (640 KB) that every Source shares.
// Each note is added at its time modulo the loop, so the tails of the last
// bar's notes sound over the first bar, and the reverberator runs over two
// periods of the loop with the second kept, so that its state, too, carries
// over: the loop is one period of a periodic signal, and its last sample
// leads into its first as smoothly as any sample into the next. A Source is
// then a position in the loop: ReadFrame copies, allocates nothing, never
// fails and never ends.
package holdmusic
