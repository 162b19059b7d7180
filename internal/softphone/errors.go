package softphone

import "errors"

// ErrUsage marks errors in the command line of `switchboard call` (exit code 2).
var ErrUsage = errors.New("usage")
