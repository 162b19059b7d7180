package wav

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these (test with
// errors.Is) and add the detail.
var (
	// ErrNotWAVE means the input does not start with a RIFF/WAVE header.
	ErrNotWAVE = errors.New("not a RIFF/WAVE file")
	// ErrMalformed means the file is a WAVE file but its chunks contradict each
	// other or are cut short.
	ErrMalformed = errors.New("malformed WAVE file")
	// ErrUnsupported means a well-formed WAVE file in an encoding this package
	// does not decode (ADPCM, GSM, MP3 in WAVE, big-endian RIFX, ...).
	ErrUnsupported = errors.New("unsupported WAVE encoding")
	// ErrNoData means the file ends before its data chunk.
	ErrNoData = errors.New("WAVE file has no data chunk")
	// ErrClosed is returned by a Writer used after Close.
	ErrClosed = errors.New("wav writer closed")
	// ErrTooLarge is returned when a recording would outgrow the 4 GiB RIFF limit.
	ErrTooLarge = errors.New("WAVE file would exceed 4 GiB")
	// ErrFormat is returned by NewWriter for a format it cannot write.
	ErrFormat = errors.New("unsupported WAVE output format")
)
