package store

import "errors"

// Sentinel errors. Methods wrap them (test with errors.Is), often together
// with the driver's own error.
var (
	// ErrNotFound: no row with that SID (in that account).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness rule would be broken (a phone number that
	// another number already has, a SID that exists).
	ErrConflict = errors.New("store: conflict")
	// ErrClosed: the account is closed and its status cannot change again.
	ErrClosed = errors.New("store: account closed")
	// ErrInvalid: the call itself is malformed (a Page without a size, a
	// filter without its required field, an unknown DSN scheme).
	ErrInvalid = errors.New("store: invalid argument")
)
