// Package recording writes what a call leg hears or says to disk as it
// happens, so that no recording is ever lost.
//
// A Recorder is a media.Sink: frames arrive on the media pacer and are handed,
// without blocking or allocating, to a writer goroutine that appends them to an
// 8 kHz 16-bit WAV file and rewrites the header's sizes every second (a process
// that dies mid-call leaves a playable file; Repair fixes the last second at
// the next start). Start records mono; StartStereo records two channels, as
// Twilio's dual-channel recordings do: WriteStereo puts the parent call's side
// on channel 1 (left) and the other side on channel 2 (right). While writing, a
// small energy detector with an adaptive noise floor (one per channel) tracks
// where speech starts and ends, which serves <Record>'s silence timeout and its
// trim-silence option; in stereo a frame counts as speech when either side
// speaks.
package recording
