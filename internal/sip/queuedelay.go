package sip

import (
	"net"
	"sync/atomic"
	"time"
)

// Overload shows as queues. Config.Admit judges those inside the process
// (switchboard's server: the calls in setup, the CPU); the listener watches
// the one in front of it: when the reader cannot keep up, datagrams wait in
// the SIP socket's receive buffer, and every call set up after them waits as
// long. So it measures how long each datagram waited between its arrival
// (the kernel's receive timestamp) and its read, and refuses new INVITEs
// while that wait stays above a target, the way CoDel (RFC 8289) decides to
// drop: a burst that drains within an interval costs nothing; a standing
// queue is shed with 503s, which cost no more than the request (shed.go),
// until it is gone. Calls in progress are never refused: their requests and
// responses are served as before, and only sooner.

const (
	// DefaultQueueTarget is the wait a datagram may have had before it is
	// read, for Config.QueueTarget.
	DefaultQueueTarget = 5 * time.Millisecond
	// DefaultQueueInterval is how long waits over the target must last
	// before new INVITEs are refused, for Config.QueueInterval.
	DefaultQueueInterval = 100 * time.Millisecond
)

// queueDelay is the CoDel-style judge of the listener's queue: observe is
// called with every datagram's wait as it is read, by the one goroutine that
// reads the socket; standing may be read from any goroutine.
type queueDelay struct {
	target, interval time.Duration

	// Only the reading goroutine uses above.
	above time.Time // when the waits went over the target; zero while under it

	standing atomic.Bool // waits over the target for at least interval
}

// observe takes the wait of a datagram read at now and reports whether the
// queue is standing, and whether that changed with this datagram.
func (q *queueDelay) observe(now time.Time, wait time.Duration) (standing, changed bool) {
	switch {
	case wait < q.target:
		q.above = time.Time{}
	case q.above.IsZero():
		q.above = now
	}
	standing = !q.above.IsZero() && now.Sub(q.above) >= q.interval
	if q.standing.Load() == standing {
		return standing, false
	}
	q.standing.Store(standing)
	return standing, true
}

// stampedConn is the UDP listener as sipgo reads it, with the kernel's
// receive time of each datagram (SO_TIMESTAMPNS). sipgo reads it from one
// goroutine, and calls the transport's read filter for each datagram right
// after reading it, on that goroutine: arrived is the time of the datagram
// being filtered.
type stampedConn struct {
	*net.UDPConn
	oob     [64]byte
	arrived atomic.Int64 // UnixNano; 0 when the kernel gave no time
	// What shed keeps, on the reader. passed holds the Call-IDs of the new
	// INVITEs handed to sipgo: a retransmission belongs to the transaction
	// the first one started, which answers it, even while new calls are
	// refused.
	headers []sipHeader
	invite  rawInvite
	passed  recentSet
}

// stampConn turns on receive timestamps on c. Where the kernel gives none,
// the waits read 0 and the queue never stands.
func stampConn(c *net.UDPConn) *stampedConn {
	if raw, err := c.SyscallConn(); err == nil {
		_ = raw.Control(enableStamps)
	}
	return &stampedConn{UDPConn: c}
}

// ReadFrom reads a datagram and notes when it arrived.
func (c *stampedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, oobn, _, addr, err := c.UDPConn.ReadMsgUDP(b, c.oob[:])
	if err != nil {
		return n, nil, err
	}
	c.arrived.Store(rxTime(c.oob[:oobn]))
	return n, addr, nil
}

// wait is how long the datagram read last waited before now; 0 if unknown.
func (c *stampedConn) wait(now time.Time) time.Duration {
	a := c.arrived.Load()
	if a == 0 {
		return 0
	}
	return max(0, time.Duration(now.UnixNano()-a))
}
