package media

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// A datagramHandler consumes one datagram; b is only valid during the call.
type datagramHandler func(b []byte, from netip.AddrPort)

// A datagramAgeHandler consumes one datagram the pacer read, which arrived `age`
// before the tick's time (0 when unknown); b is only valid during the call.
type datagramAgeHandler func(b []byte, from netip.AddrPort, age time.Duration)

// Sockets are read in one of two ways. On Linux the pacer reads every RTP socket
// itself, once per tick, without blocking and several datagrams per system call
// (rtpSocket.poll, socket_linux.go): no goroutine, no wake-up per packet; it
// drains each RTCP socket the same way once a second (rtcpPollTicks). Elsewhere
// a goroutine per socket blocks in a read and hands each datagram over as it
// arrives (goroutineReader). Either way the session code only sees handler
// calls.

// recvBatch is how many datagrams one recvmmsg call can return. A leg receives one
// packet per tick, two or three after jitter; a burst longer than that takes
// several calls.
const recvBatch = 8

// maxRecvCalls bounds the recvmmsg calls per socket per tick, so that a flood on
// one socket cannot stall the pacer; what is left stays queued for the next tick
// (or is dropped by the kernel when the socket buffer fills).
const maxRecvCalls = 8

// goroutineReader reads each socket on its own goroutine.
type goroutineReader struct{}

// maxReadErrors consecutive read errors other than a closed socket stop a reader
// instead of spinning.
const maxReadErrors = 100

func (goroutineReader) start(conn *net.UDPConn, buf []byte, h datagramHandler, done func()) {
	go func() {
		defer done()
		readLoop(conn, buf, h)
	}()
}

func readLoop(conn *net.UDPConn, buf []byte, h datagramHandler) {
	errs := 0
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errs++; errs >= maxReadErrors {
				return
			}
			continue
		}
		errs = 0
		if from.Addr().Is4In6() {
			from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		}
		h(buf[:n], from)
	}
}
