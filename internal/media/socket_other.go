//go:build !linux || 386

package media

import (
	"net"
	"net/netip"
	"time"
)

// Outside Linux an RTP socket is a net.UDPConn read by its own goroutine (see
// goroutineReader), which hands each datagram to Session.handleRTP as it
// arrives; poll has nothing to do. Switchboard is deployed on Linux, where the
// pacer reads the sockets itself (socket_linux.go); this keeps the package
// building and working elsewhere.

// rtpSocket is a session's RTP socket.
type rtpSocket struct {
	conn *net.UDPConn // nil: closed
	buf  *[maxDatagram]byte
}

// closedSocket is a socket that reads nothing and cannot send.
func closedSocket() rtpSocket { return rtpSocket{} }

// listenRTCP binds an RTCP socket, read like an RTP socket (startRTCP).
func listenRTCP(ip netip.Addr, port int) (rtpSocket, error) { return listenRTP(ip, port) }

func listenRTP(ip netip.Addr, port int) (rtpSocket, error) {
	network := "udp4"
	if ip.Is6() && !ip.Is4In6() {
		network = "udp6"
	}
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
	if err != nil {
		return rtpSocket{}, err
	}
	return rtpSocket{conn: c, buf: new([maxDatagram]byte)}, nil
}

func (u *rtpSocket) close() error {
	if u.conn == nil {
		return nil
	}
	return u.conn.Close()
}

// detach closes the socket: here its reader goroutine ends only with it, so
// a socket is never kept for another session (portAllocator.keep).
func (u *rtpSocket) detach() rtpSocket {
	u.close()
	return closedSocket()
}

func (u *rtpSocket) open() bool { return u.conn != nil }

func (u *rtpSocket) drain() {}

func (u *rtpSocket) sendTo(b []byte, to netip.AddrPort) error {
	if u.conn == nil {
		return ErrClosed
	}
	_, err := u.conn.WriteToUDPAddrPort(b, to)
	return err
}

// start reads the socket on its own goroutine until it is closed.
func (u *rtpSocket) start(s *Session) {
	if u.conn == nil {
		return
	}
	s.readers.Add(1)
	goroutineReader{}.start(u.conn, u.buf[:], s.handleRTP, s.readers.Done)
}

// startRTCP reads the RTCP socket on its own goroutine until it is closed.
func (u *rtpSocket) startRTCP(s *Session) {
	if u.conn == nil {
		return
	}
	s.readers.Add(1)
	goroutineReader{}.start(u.conn, u.buf[:], s.handleRTCP, s.readers.Done)
}

type recvBuffers struct{}

func newRecvBuffers() *recvBuffers { return &recvBuffers{} }

func (u *rtpSocket) poll(*recvBuffers, time.Time, datagramAgeHandler) int { return 0 }
