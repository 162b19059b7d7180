// Package audiofile turns audio files into media.Source streams of 8 kHz mono
// frames, for <Play> and for anything else that plays a file into a call.
//
// Decode looks at the first bytes of its input to find the format, whatever
// the Content-Type says: RIFF/WAVE (see package wav: PCM, float, μ-law, A-law,
// any rate and channel count), MP3 (an ID3v2 tag or an MPEG audio layer III
// frame header; decoded by github.com/hajimehoshi/go-mp3, which gives 16-bit
// stereo at the file's rate), Sun/NeXT .au (the ".snd" header, which is what
// audio/basic properly means) and AIFF/AIFF-C (Twilio plays audio/aiff and
// audio/x-aifc). Headerless audio is recognised only from its Content-Type:
// audio/basic, audio/ulaw, audio/x-mulaw and audio/PCMU as raw 8 kHz μ-law,
// audio/x-alaw and audio/PCMA as raw A-law, audio/L16 (RFC 2586/3551: 16-bit
// big-endian, with rate and channels parameters) as raw linear PCM. Everything
// is mixed down to mono and resampled to 8 kHz by package dsp.
//
// Anything else (an HTML error page, JSON, an Ogg or FLAC file) is refused with
// an error wrapping ErrUnsupported, which <Play> reports as Twilio's error
// 13420 ("Play: Invalid Content-Type"); a file of a known format that cannot be
// decoded wraps ErrMalformed. The decoders never panic on bad input: a panic in
// the third-party MP3 decoder is turned into ErrMalformed.
//
// Loop plays a source several times, as <Play loop="n"> does (loop="0" plays
// MaxLoop times, as Twilio does).
package audiofile
