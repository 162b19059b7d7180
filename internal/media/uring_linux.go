//go:build linux && !386

package media

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// A uring is a minimal io_uring(7) instance: a submission queue of fixed
// size, written and submitted by one goroutine at a time, and its completion
// queue, reaped by the same goroutine right after each submission. The pacer
// uses it to send a tick's RTP packets from many sockets with one system call
// (see sendBatch) where sendto(2) costs one per packet: on this kind of
// machine a system call's entry and exit alone cost about 1 µs (page-table
// isolation), a quarter of sending a packet on loopback.
//
// Only what that needs is here: no SQPOLL thread (a core spinning), no
// registered files or buffers, and operations that complete inline (the
// sockets are non-blocking and the sends carry MSG_DONTWAIT: a full socket
// buffer fails the send with EAGAIN at once, as sendto does, instead of
// arming a poll).
type uring struct {
	fd      int
	entries uint32

	sqRing, cqRing, sqeMem []byte

	sqHead, sqTail *uint32 // head: the kernel's; tail: ours
	sqMask         uint32
	sqArray        []uint32
	sqes           []uringSQE

	cqHead, cqTail *uint32 // head: ours; tail: the kernel's
	cqMask         uint32
	cqes           []uringCQE
}

// struct io_uring_sqe (64 bytes), with the fields a send uses.
type uringSQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	opFlags     uint32 // msg_flags for sends
	userData    uint64
	bufIndex    uint16
	personality uint16
	spliceFdIn  int32
	addr3       uint64
	_           uint64
}

// struct io_uring_cqe (16 bytes).
type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// struct io_uring_params with its two offset tables.
type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	cqOff struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
}

const (
	sysIOUringSetup = 425 // the same number on every architecture
	sysIOUringEnter = 426

	uringOffSQRing = 0
	uringOffCQRing = 0x8000000
	uringOffSQEs   = 0x10000000

	uringFeatSingleMmap = 1 << 0
	uringSetupSubmitAll = 1 << 7 // Linux 5.18: an error does not stop the rest
	uringEnterGetEvents = 1 << 0

	// maxEnterTries bounds the io_uring_enter calls of one submission: the
	// operations complete inline, so one call normally does it all.
	maxEnterTries = 100

	uringOpSendmsg = 9
	uringOpRecvmsg = 10
)

// Compile-time checks of the kernel's layouts.
var (
	_ [64 - unsafe.Sizeof(uringSQE{})]struct{}
	_ [unsafe.Sizeof(uringSQE{}) - 64]struct{}
	_ [16 - unsafe.Sizeof(uringCQE{})]struct{}
	_ [unsafe.Sizeof(uringCQE{}) - 16]struct{}
	_ [120 - unsafe.Sizeof(uringParams{})]struct{}
	_ [unsafe.Sizeof(uringParams{}) - 120]struct{}
)

// newURing sets up a ring of at least the given number of entries (a power
// of two). Where io_uring is missing or forbidden (kernels before 5.6,
// seccomp profiles, io_uring_disabled), or does not fail a read of an empty
// socket at once (uringNoWait), it returns an error and the caller falls
// back to one system call per packet.
func newURing(entries uint32) (*uring, error) {
	if err := uringNoWait(); err != nil {
		return nil, err
	}
	return setupURing(entries)
}

var errURingWaits = errors.New("io_uring arms a poll for a MSG_DONTWAIT read of an empty socket here instead of failing it with EAGAIN")

// uringNoWait checks, once per process, that this kernel's io_uring fails a
// MSG_DONTWAIT read of an empty socket with EAGAIN at once (as it has since
// Linux 5.11 or so). Where it arms a poll instead, a submission that waits for
// its completions would wait for the next packet: the pacer would hang.
var uringNoWait = sync.OnceValue(func() error {
	r, err := setupURing(2)
	if err != nil {
		return err
	}
	sock, err := listenRTP(netip.MustParseAddr("127.0.0.1"), 0)
	if err != nil {
		r.close()
		return fmt.Errorf("io_uring probe: %w", err)
	}
	var buf [16]byte
	iov := syscall.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	hdr := syscall.Msghdr{Iov: &iov, Iovlen: 1}
	defer func() {
		r.close() // cancels a read left pending, before its buffers go
		sock.close()
		runtime.KeepAlive(&hdr)
	}()
	sqe := r.sqe(0)
	sqe.opcode = uringOpRecvmsg
	sqe.fd = int32(sock.fd)
	sqe.addr = uint64(uintptr(unsafe.Pointer(&hdr)))
	sqe.opFlags = syscall.MSG_DONTWAIT
	atomic.StoreUint32(r.sqTail, *r.sqTail+1)
	if _, _, errno := syscall.Syscall6(sysIOUringEnter, uintptr(r.fd), 1, 0, 0, 0, 0); errno != 0 {
		return os.NewSyscallError("io_uring_enter", errno)
	}
	res := int32(1)
	r.reap(func(_ uint64, v int32) { res = v })
	if res != -int32(syscall.EAGAIN) {
		return errURingWaits
	}
	return nil
})

// setupURing is newURing without the check.
func setupURing(entries uint32) (*uring, error) {
	var p uringParams
	p.flags = uringSetupSubmitAll
	fd, _, errno := syscall.Syscall(sysIOUringSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno == syscall.EINVAL { // before 5.18
		p = uringParams{}
		fd, _, errno = syscall.Syscall(sysIOUringSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	}
	if errno != 0 {
		return nil, os.NewSyscallError("io_uring_setup", errno)
	}
	r := &uring{fd: int(fd), entries: p.sqEntries}
	syscall.CloseOnExec(r.fd)
	if err := r.mmap(&p); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *uring) mmap(p *uringParams) error {
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	if p.features&uringFeatSingleMmap != 0 {
		sqSize = max(sqSize, cqSize)
	}
	var err error
	mmap := func(off int64, size int) ([]byte, error) {
		b, err := syscall.Mmap(r.fd, off, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
		if err != nil {
			return nil, fmt.Errorf("mmap io_uring: %w", err)
		}
		return b, nil
	}
	if r.sqRing, err = mmap(uringOffSQRing, sqSize); err != nil {
		return err
	}
	r.cqRing = r.sqRing
	if p.features&uringFeatSingleMmap == 0 {
		if r.cqRing, err = mmap(uringOffCQRing, cqSize); err != nil {
			return err
		}
	}
	if r.sqeMem, err = mmap(uringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(uringSQE{}))); err != nil {
		return err
	}
	u32 := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sqHead, r.sqTail = u32(r.sqRing, p.sqOff.head), u32(r.sqRing, p.sqOff.tail)
	r.sqMask = *u32(r.sqRing, p.sqOff.ringMask)
	r.sqArray = unsafe.Slice(u32(r.sqRing, p.sqOff.array), p.sqEntries)
	for i := range r.sqArray {
		r.sqArray[i] = uint32(i) // the entries are submitted in ring order
	}
	r.sqes = unsafe.Slice((*uringSQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.cqHead, r.cqTail = u32(r.cqRing, p.cqOff.head), u32(r.cqRing, p.cqOff.tail)
	r.cqMask = *u32(r.cqRing, p.cqOff.ringMask)
	r.cqes = unsafe.Slice((*uringCQE)(unsafe.Pointer(&r.cqRing[p.cqOff.cqes])), p.cqEntries)
	return nil
}

func (r *uring) close() {
	if r.sqeMem != nil {
		syscall.Munmap(r.sqeMem)
	}
	if r.cqRing != nil && &r.cqRing[0] != &r.sqRing[0] {
		syscall.Munmap(r.cqRing)
	}
	if r.sqRing != nil {
		syscall.Munmap(r.sqRing)
	}
	syscall.Close(r.fd)
	r.sqRing, r.cqRing, r.sqeMem = nil, nil, nil
}

// sqe returns submission entry i of the next submission (i < entries),
// cleared.
func (r *uring) sqe(i uint32) *uringSQE {
	tail := *r.sqTail + i
	sqe := &r.sqes[tail&r.sqMask]
	*sqe = uringSQE{}
	return sqe
}

// submit submits the n entries filled through sqe and waits for their
// completions, handing each to done with its user data and result (a
// negative errno on failure). It returns an error only if the ring itself
// failed; the entries it did not submit are then not handed to done, and
// their number is returned.
func (r *uring) submit(n uint32, done func(userData uint64, res int32)) (unsubmitted uint32, err error) {
	atomic.StoreUint32(r.sqTail, *r.sqTail+n)
	left := n // completions still due
	for tries := 1; left > 0; tries++ {
		pending := atomic.LoadUint32(r.sqTail) - atomic.LoadUint32(r.sqHead)
		_, _, errno := syscall.Syscall6(sysIOUringEnter, uintptr(r.fd), uintptr(pending), uintptr(left), uringEnterGetEvents, 0, 0)
		left -= r.reap(done)
		switch errno {
		case 0, syscall.EINTR, syscall.EAGAIN, syscall.EBUSY:
			if tries < maxEnterTries {
				continue // interrupted, or short of resources for a moment
			}
		}
		if errno == 0 {
			errno = syscall.EBUSY // completions that never came
		}
		// The ring is unusable: take back what the kernel did not consume.
		pending = atomic.LoadUint32(r.sqTail) - atomic.LoadUint32(r.sqHead)
		atomic.StoreUint32(r.sqTail, atomic.LoadUint32(r.sqHead))
		return pending, os.NewSyscallError("io_uring_enter", errno)
	}
	return 0, nil
}

// reap hands every completion queued to done and returns how many there
// were.
func (r *uring) reap(done func(userData uint64, res int32)) uint32 {
	head := *r.cqHead
	tail := atomic.LoadUint32(r.cqTail)
	for h := head; h != tail; h++ {
		c := &r.cqes[h&r.cqMask]
		done(c.userData, c.res)
	}
	atomic.StoreUint32(r.cqHead, tail)
	return tail - head
}
