package media

import (
	"errors"
	"net"
	"net/netip"
)

// A datagramHandler consumes one datagram; b is only valid during the call.
type datagramHandler func(b []byte, from netip.AddrPort)

// A datagramReader delivers what arrives on a socket to a handler until the
// socket is closed, then calls done. It is the seam between sockets and sessions:
// today each socket has its own goroutine; a reader that drains many sockets with
// batched reads (golang.org/x/net/ipv4 PacketConn.ReadBatch, recvmmsg) can replace
// it without touching the session code, which only sees handler calls.
type datagramReader interface {
	start(conn *net.UDPConn, buf []byte, h datagramHandler, done func())
}

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
