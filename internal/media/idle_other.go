//go:build !linux || 386

package media

// Outside Linux sockets are read by goroutines (socket_other.go): nothing is
// parked. A nil *idleWatch parks nothing.
type idleWatch struct{}

func newIdleWatch() *idleWatch { return nil }

func (w *idleWatch) park(*Session) bool    { return false }
func (w *idleWatch) ready()                {}
func (w *idleWatch) isReady(*Session) bool { return false }
func (w *idleWatch) close()                {}
func (w *idleWatch) forget(*rtpSocket)     {}
