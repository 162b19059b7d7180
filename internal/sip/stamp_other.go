//go:build !linux

package sip

// enableStamps does nothing: receive timestamps are read on Linux only, and
// elsewhere the listener's queue is not judged.
func enableStamps(uintptr) {}

// rxTime is 0: no receive time.
func rxTime([]byte) int64 { return 0 }
