// Package media is switchboard's media engine: RTP sessions carrying G.711 audio,
// RFC 4733 telephone-events, pacing on a monotonic clock, and the small Source and
// Sink interfaces through which everything else (speech, file playback, recording,
// bridges, the conference mixer, media streams) produces and consumes audio.
//
// All audio inside switchboard is 8 kHz, 16-bit signed linear PCM, mono, handled in
// frames of 20 ms (160 samples). Codecs (package g711), file formats (package wav,
// package audiofile) and signal processing (package dsp) live in subpackages; this
// package moves frames between them and the network.
//
// A leg's Session keeps its RTP socket for the whole call while the consumer of its
// audio changes (the interpreter's playback, a bridge, a mixer): sources and sinks
// are attached and detached, the socket is not torn down.
package media
