package dsp

import "errors"

// Sentinel errors, wrapped with detail by the functions that return them.
var (
	// ErrRate means a sampling rate is out of range (MinRate .. MaxRate).
	ErrRate = errors.New("unsupported sample rate")
	// ErrDigit means a character is not a DTMF digit (0-9, *, #, A-D) nor a
	// pause (w, W).
	ErrDigit = errors.New("not a DTMF digit")
)
