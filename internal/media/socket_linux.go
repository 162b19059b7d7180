//go:build linux && !386

package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// On Linux an RTP socket is a plain non-blocking file descriptor that the Go
// runtime's network poller never sees: nobody waits on it. The pacer reads it once
// per tick with recvmmsg(2) and MSG_DONTWAIT, several datagrams per system call,
// and sends with sendto(2). Compared with a goroutine blocked in a read per
// socket, this saves per packet a wake-up of the poller (epoll), a goroutine
// switch and a second read that finds the socket empty, and it adds no delay:
// received audio is only played out at ticks anyway, and the read happens in the
// tick's receive phase just before the playout.

// rtpSocket is a session's RTP socket. It is a value inside the Session, next to
// the rest of what the pacer touches every tick; the Session's locks keep the
// descriptor from being closed while it is used (see Session.sock).
type rtpSocket struct {
	fd int // -1 once closed
	v6 bool

	// Sends and reads queued in a shard's sendBatch or readBatch and not
	// yet done, and the descriptor whose closing waits for them (lateClose).
	queued    int32
	lateClose bool
	lateFD    int

	// The destination of the last send as a raw socket address, rebuilt
	// only when it changes.
	saLen uint32
	dst   netip.AddrPort
	sa    syscall.RawSockaddrInet6 // or RawSockaddrInet4 in its first bytes
}

// closedSocket is a socket that reads nothing and cannot send.
func closedSocket() rtpSocket { return rtpSocket{fd: -1} }

// listenRTP binds a non-blocking UDP socket to ip:port, with kernel receive
// timestamps. A port that another socket holds gives an error wrapping
// syscall.EADDRINUSE.
func listenRTP(ip netip.Addr, port int) (rtpSocket, error) { return bindUDP(ip, port, true) }

// listenRTCP binds the RTCP socket of a pair, which the pacer drains now and
// then (Session.receiveTick): RTCP is only counted, so it needs no timestamps.
func listenRTCP(ip netip.Addr, port int) (rtpSocket, error) { return bindUDP(ip, port, false) }

func bindUDP(ip netip.Addr, port int, stamps bool) (rtpSocket, error) {
	v6 := ip.Is6() && !ip.Is4In6()
	family := syscall.AF_INET
	if v6 {
		family = syscall.AF_INET6
	}
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return rtpSocket{}, os.NewSyscallError("socket", err)
	}
	var sa syscall.Sockaddr
	if v6 {
		// As net.ListenUDP("udp6") does: IPv6 only.
		if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1); err != nil {
			syscall.Close(fd)
			return rtpSocket{}, os.NewSyscallError("setsockopt", err)
		}
		sa = &syscall.SockaddrInet6{Port: port, Addr: ip.As16()}
	} else {
		sa = &syscall.SockaddrInet4{Port: port, Addr: ip.Unmap().As4()}
	}
	// Kernel receive timestamps: a datagram is read at the next tick, but
	// its arrival time (for the RFC 3550 interarrival jitter) is when the
	// kernel received it.
	if stamps {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1); err != nil {
			syscall.Close(fd)
			return rtpSocket{}, os.NewSyscallError("setsockopt", err)
		}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return rtpSocket{}, os.NewSyscallError("bind", err)
	}
	return rtpSocket{fd: fd, v6: v6}, nil
}

// close closes the socket; later sends fail and polls read nothing.
func (u *rtpSocket) close() error {
	if u.fd < 0 {
		return nil
	}
	if u.queued > 0 {
		// A batch still refers to the descriptor: it closes it once done
		// (see released).
		u.lateFD, u.lateClose = u.fd, true
		u.fd = -1
		return nil
	}
	err := syscall.Close(u.fd)
	u.fd = -1
	if err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// detach takes the descriptor out of u, bound, for the port allocator to
// keep (portAllocator.keep), and leaves u closed. While a batch still refers
// to it, it is closed as close does instead, and the socket returned is
// closed.
func (u *rtpSocket) detach() rtpSocket {
	if u.fd < 0 || u.queued > 0 {
		u.close()
		return closedSocket()
	}
	d := rtpSocket{fd: u.fd, v6: u.v6}
	u.fd = -1
	return d
}

// open reports whether the socket has a descriptor.
func (u *rtpSocket) open() bool { return u.fd >= 0 }

// maxDrain bounds the datagrams drain discards: a socket buffer's worth.
const maxDrain = 4096

// drain discards the datagrams queued on a kept socket before a new
// session takes it: what reached the port between two calls belongs to
// neither. Each is read into one byte and truncated (MSG_TRUNC).
func (u *rtpSocket) drain() {
	var b [1]byte
	for range maxDrain {
		_, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(u.fd),
			uintptr(unsafe.Pointer(&b[0])), 1, syscall.MSG_DONTWAIT|syscall.MSG_TRUNC, 0, 0)
		if errno != 0 {
			return
		}
	}
}

// released is called when a send or read queued in a batch (sendBatch,
// readBatch) is done, with the same lock held as close.
func (u *rtpSocket) released() {
	u.queued--
	if u.queued == 0 && u.lateClose {
		syscall.Close(u.lateFD)
		u.lateClose = false
	}
}

// errUnreachable reports a destination of the wrong address family.
var errUnreachable = errors.New("destination address family differs from the socket's")

// sendTo sends one datagram without blocking (a full socket buffer drops it:
// late audio is useless).
func (u *rtpSocket) sendTo(b []byte, to netip.AddrPort) error {
	if len(b) == 0 {
		return nil
	}
	if u.fd < 0 {
		return ErrClosed
	}
	if to != u.dst || u.saLen == 0 {
		if !u.setDst(to) {
			return fmt.Errorf("send to %v: %w", to, errUnreachable)
		}
	}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(u.fd),
		uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0,
		uintptr(unsafe.Pointer(&u.sa)), uintptr(u.saLen))
	if errno != 0 {
		return errno
	}
	return nil
}

// setDst converts to into the socket address sendto takes.
func (u *rtpSocket) setDst(to netip.AddrPort) bool {
	u.dst, u.saLen = to, 0
	a := to.Addr()
	port := to.Port()
	if u.v6 {
		sa := &u.sa
		*sa = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: a.As16()}
		if a.Is6() {
			sa.Scope_id = zoneIndex(a)
		}
		putPort(&sa.Port, port)
		u.saLen = syscall.SizeofSockaddrInet6
		return true
	}
	if !a.Is4() && !a.Is4In6() {
		return false
	}
	sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&u.sa))
	*sa = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: a.Unmap().As4()}
	putPort(&sa.Port, port)
	u.saLen = syscall.SizeofSockaddrInet4
	return true
}

// zoneIndex is the scope of a link-local IPv6 address ("fe80::1%eth0").
func zoneIndex(a netip.Addr) uint32 {
	if a.Zone() == "" {
		return 0
	}
	ifi, err := net.InterfaceByName(a.Zone())
	if err != nil {
		return 0
	}
	return uint32(ifi.Index)
}

// putPort stores a port in network byte order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

// mmsghdr is struct mmsghdr of recvmmsg(2).
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
}

// controlSize holds the SCM_TIMESTAMPNS control message of one datagram.
const controlSize = 64

// recvBuffers are the pacer's buffers for recvmmsg: one set per engine, reused for
// every socket (only the pacer reads sockets).
type recvBuffers struct {
	hdrs  [recvBatch]mmsghdr
	iovs  [recvBatch]syscall.Iovec
	names [recvBatch]syscall.RawSockaddrInet6
	ctls  [recvBatch][controlSize]byte
	bufs  [recvBatch][maxDatagram]byte
}

func newRecvBuffers() *recvBuffers {
	rb := &recvBuffers{}
	for i := range rb.hdrs {
		rb.iovs[i].Base = &rb.bufs[i][0]
		rb.iovs[i].SetLen(maxDatagram)
		h := &rb.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&rb.names[i]))
		h.Iov = &rb.iovs[i]
		h.Iovlen = 1
		h.Control = &rb.ctls[i][0]
	}
	return rb
}

// Bounds of a plausible age of a datagram at the time its socket is read: a
// little negative (it arrived after the tick started, while other sockets were
// read) up to a long stall of the pacer. Outside them the wall clock was stepped,
// and the datagram counts as arriving when it is read.
const (
	minAge = -100 * time.Millisecond
	maxAge = 10 * time.Second
)

// age returns how long before `now` (the wall clock) datagram i of the last
// recvmmsg arrived, from its SCM_TIMESTAMPNS control message; 0 without one.
func (rb *recvBuffers) age(i int, now int64) time.Duration {
	return cmsgAge(&rb.hdrs[i].hdr, &rb.ctls[i], now)
}

// cmsgAge returns how long before `now` the datagram received with header h
// and control buffer ctl arrived, from its SCM_TIMESTAMPNS; 0 without one.
func cmsgAge(h *syscall.Msghdr, ctl *[controlSize]byte, now int64) time.Duration {
	age, _ := stampAge(h, ctl, now)
	return age
}

// stampAge is cmsgAge that also says whether the datagram had a plausible
// arrival time (ok false: age is 0).
func stampAge(h *syscall.Msghdr, ctl *[controlSize]byte, now int64) (age time.Duration, ok bool) {
	if uint64(h.Controllen) < uint64(syscall.CmsgLen(0)) || h.Flags&syscall.MSG_CTRUNC != 0 {
		return 0, false
	}
	c := (*syscall.Cmsghdr)(unsafe.Pointer(&ctl[0]))
	if c.Level != syscall.SOL_SOCKET || c.Type != syscall.SCM_TIMESTAMPNS ||
		uint64(c.Len) < uint64(syscall.CmsgLen(int(unsafe.Sizeof(syscall.Timespec{})))) {
		return 0, false
	}
	ts := (*syscall.Timespec)(unsafe.Pointer(&ctl[syscall.CmsgLen(0)]))
	age = time.Duration(now - ts.Nano())
	if age < minAge || age > maxAge {
		return 0, false
	}
	return age, true
}

// poll hands every datagram queued on the socket now to h, without blocking,
// and returns how many there were. It runs on the pacer with the session's mu
// held and the session live, which is what keeps the descriptor open
// meanwhile: Session.end marks the session ended under mu before it closes
// the socket.
func (u *rtpSocket) poll(rb *recvBuffers, now time.Time, h datagramAgeHandler) (got int) {
	fd := u.fd
	if fd < 0 {
		return 0
	}
	wall := now.UnixNano()
	for range maxRecvCalls {
		for i := range rb.hdrs {
			m := &rb.hdrs[i].hdr
			m.Namelen = syscall.SizeofSockaddrInet6
			m.SetControllen(controlSize)
			m.Flags = 0
		}
		r, _, errno := syscall.RawSyscall6(syscall.SYS_RECVMMSG, uintptr(fd),
			uintptr(unsafe.Pointer(&rb.hdrs[0])), recvBatch, syscall.MSG_DONTWAIT, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return got // EAGAIN: nothing (more) queued
		}
		n := int(r)
		got += n
		for i := range n {
			m := &rb.hdrs[i]
			size := int(min(m.n, maxDatagram))
			h(rb.bufs[i][:size], sockaddrToAddrPort(&rb.names[i]), rb.age(i, wall))
		}
		if n < recvBatch {
			return got
		}
	}
	return got
}

// sockaddrToAddrPort converts what recvmmsg stored as the source address; v4-mapped
// IPv6 addresses are unmapped.
func sockaddrToAddrPort(sa *syscall.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case syscall.AF_INET:
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), uint16(p[0])<<8|uint16(p[1]))
	case syscall.AF_INET6:
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		a := netip.AddrFrom16(sa.Addr).Unmap()
		if sa.Scope_id != 0 && a.Is6() {
			// A link-local source: its zone is the interface (rare; this
			// allocates).
			if ifi, err := net.InterfaceByIndex(int(sa.Scope_id)); err == nil {
				a = a.WithZone(ifi.Name)
			}
		}
		return netip.AddrPortFrom(a, uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// start and startRTCP do nothing: the pacer polls the sockets (see poll).
func (u *rtpSocket) start(*Session)     {}
func (u *rtpSocket) startRTCP(*Session) {}
