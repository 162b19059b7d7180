// Package wav reads and writes RIFF/WAVE audio files.
//
// The Reader accepts what telephony applications meet in practice: linear PCM
// (8-bit unsigned, 16-, 24- and 32-bit signed), IEEE float (32- and 64-bit),
// G.711 A-law (format tag 6) and μ-law (format tag 7), each either with its plain
// format tag or inside WAVE_FORMAT_EXTENSIBLE, at any sampling rate, with any
// number of channels, which it mixes down to mono 16-bit samples (ReadInterleaved
// and ReadAllInterleaved keep the channels apart instead). It skips chunks
// it does not need (LIST, fact, cue, ...), honours the pad byte after odd-sized
// chunks, and reads a data chunk whose size is a placeholder (espeak-ng writes
// 0x7ffffff0 when it writes to a pipe, a crashed writer leaves 0) until the end
// of the input. A data chunk that is shorter than its header claims ends at the
// end of the input without an error. Input that is not a WAVE file, or that
// contradicts itself, is refused with an error wrapping one of the sentinel
// errors in errors.go.
//
// The Writer streams samples to disk as a recording is made: it writes a
// complete header before the first sample, appends samples through a buffer,
// and on Flush writes the buffer out and patches the RIFF and data sizes, so a
// file flushed periodically is playable up to its last flush even if the process
// dies. Close flushes a last time. The default format is the one switchboard
// records in, 8 kHz 16-bit mono PCM; μ-law and A-law (with the fact chunk the
// specification asks of non-PCM formats) and two channels are also available.
// Repair fixes a file left behind with stale sizes by a crash: it makes the data
// chunk run to the end of the file (cut to whole sample frames) and rewrites the
// sizes.
//
// References: Microsoft's "Multimedia Programming Interface and Data
// Specifications 1.0" (RIFF, WAVE, fmt, fact, data), the WAVE_FORMAT_EXTENSIBLE
// definition in mmreg.h/ksmedia.h, and ITU-T G.711 for the companded formats.
package wav
