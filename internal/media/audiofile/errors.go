package audiofile

import "errors"

// Sentinel errors; returned errors wrap one of them (test with errors.Is).
var (
	// ErrUnsupported means the input is not audio in a format this package
	// decodes (or is empty).
	ErrUnsupported = errors.New("unsupported audio format")
	// ErrMalformed means the input is in a known format but cannot be decoded.
	ErrMalformed = errors.New("malformed audio file")
)
