// Package dsp is switchboard's signal processing on 16-bit linear PCM: sample
// rate conversion, tone and DTMF generation, Goertzel tone power, in-band DTMF
// detection and signal level.
//
// The Resampler converts a stream from any common rate (8, 11.025, 16, 22.05,
// 24, 32, 44.1 or 48 kHz, or any other rate from 1 to 384 kHz) to any other, in
// practice to switchboard's 8 kHz. It is a polyphase windowed-sinc filter
// (Kaiser window, about 70 dB of stop-band attenuation) whose pass band ends at
// 85 % of the lower Nyquist frequency (3.4 kHz for 8 kHz output, the telephone
// band) and whose stop band starts at that Nyquist frequency, so nothing above
// 4 kHz folds back into the call. It is streaming: Process takes input in pieces
// of any size, and output sample n always corresponds to input time
// n·inRate/outRate, with no delay added; Flush ends the stream. Filter tables are
// computed once per rate pair and shared.
//
// Generator produces tones, silence and DTMF digit sequences as a media.Source
// (it has the ReadFrame method; this package does not import package media so
// that media can use it). Levels are in dBFS with the AES17 convention: a sine
// whose peak reaches full scale is 0 dBFS, and Level measures RMS on the same
// scale, so a tone generated at -10 dBFS measures -10 dBFS.
//
// Goertzel measures the power of one frequency in a block of samples.
// DTMFDetector finds DTMF digits in 8 kHz audio in the manner of ITU-T Q.23/Q.24:
// Goertzel filters on the eight DTMF frequencies over 12.75 ms windows that
// overlap by half, and a digit is recognised only when one low-group and one
// high-group tone stand clear of the others in their group, reach a minimum
// level, are within the twist limits (low group up to 8 dB louder, high group up
// to 4 dB louder), carry most of the window's energy, and persist for about
// 32 ms (tones of 40 ms are accepted, bursts of 20 ms rejected). A digit ends
// after about 25 ms without it, so a 40 ms pause separates repeated digits while
// a drop-out of 10 ms does not. It is meant for in-band DTMF, where a caller's
// phone did not send RFC 4733 events.
package dsp
