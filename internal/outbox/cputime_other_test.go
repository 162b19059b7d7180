//go:build !unix

package outbox

import "time"

// cpuTime is not measured here.
func cpuTime() time.Duration { return 0 }
