//go:build linux && !386

package media

import (
	"net/netip"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// waitForArrivalStamps waits until the kernel timestamps datagrams when they
// arrive. It turns that on lazily (in a work item) once a socket asks for
// SO_TIMESTAMPNS while none had: a datagram that arrives before then is
// stamped when it is read, which looks like a transit 20 ms longer for every
// frame it waited. Call it once the sockets under test are open.
func waitForArrivalStamps(t *testing.T) {
	t.Helper()
	sock, err := listenRTP(loopback, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.close()
	var sa syscall.RawSockaddrInet4
	n := uint32(unsafe.Sizeof(sa))
	if _, _, errno := syscall.RawSyscall(syscall.SYS_GETSOCKNAME, uintptr(sock.fd), uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatal(errno)
	}
	to := netip.AddrPortFrom(loopback, uint16(sa.Port>>8|sa.Port<<8))
	p := newPeer(t)
	defer p.conn.Close()
	rb := newRecvBuffers()
	waitUntil(t, func() bool {
		p.send(to, []byte{0x80, 0, 0, 1})
		sent := time.Now() // loopback delivers during sendto: it has arrived
		stamped := false
		sock.poll(rb, sent, func(_ []byte, _ netip.AddrPort, age time.Duration) { stamped = age > 0 })
		return stamped
	}, "the kernel to timestamp arrivals")
}
