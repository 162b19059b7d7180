// Package recording writes what a call leg hears or says to disk as it
// happens, so that no recording is ever lost.
//
// A Recorder is a media.Sink: frames arrive on the media pacer and are handed,
// without blocking, to a writer goroutine that appends them to an 8 kHz 16-bit
// mono WAV file and rewrites the header's sizes every second (a process that
// dies mid-call leaves a playable file; Repair fixes the last second at the
// next start). While writing, a small energy detector with an adaptive noise
// floor tracks where speech starts and ends, which serves <Record>'s silence
// timeout and its trim-silence option.
package recording
