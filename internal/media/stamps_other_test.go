//go:build !linux || 386

package media

import "testing"

// waitForArrivalStamps: sockets are read by goroutines here, as datagrams
// arrive.
func waitForArrivalStamps(*testing.T) {}
