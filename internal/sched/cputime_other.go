//go:build !unix

package sched

import "time"

// processCPU is not available here: the busy share is the runtime's estimate.
func processCPU() (time.Duration, bool) { return 0, false }
