//go:build linux && !386

package media

import (
	"net/netip"
	"syscall"
	"unsafe"
)

// sendBatchSize is how many packets a shard queues before it submits them;
// a shard with more sessions submits several times a tick.
const sendBatchSize = 256

// A sendBatch is a pacer shard's RTP packets of one tick, queued by the
// sessions' send phases (queue) and sent with one io_uring submission per
// sendBatchSize packets (flush) instead of one sendto(2) each. Without
// io_uring (ring nil) queue sends at once. Only the shard's goroutine uses
// it.
//
// A queued packet holds its socket's descriptor until the flush: a session
// closed meanwhile leaves the closing of its descriptor to the flush (see
// rtpSocket.close), so that the descriptor cannot be reused by another file
// before the kernel has used it.
type sendBatch struct {
	ring *uring
	n    int
	ents *[sendBatchSize]sendEntry
	done func(userData uint64, res int32) // b.complete, bound once
	log  func(err error)                  // reports a ring that failed (once)
}

type sendEntry struct {
	s   *Session
	fd  int
	hdr syscall.Msghdr
	iov syscall.Iovec
	sa  syscall.RawSockaddrInet6
	buf [headerSize + FrameSamples]byte
}

// newSendBatch returns a batch on a new ring, or one that sends at once if
// useRing is false or io_uring is not available (err says why). log is told
// if the ring fails later.
func newSendBatch(useRing bool, log func(error)) (*sendBatch, error) {
	b := &sendBatch{log: log}
	if !useRing {
		return b, nil
	}
	r, err := newURing(sendBatchSize)
	if err != nil {
		return b, err
	}
	b.ring = r
	b.ents = new([sendBatchSize]sendEntry)
	for i := range b.ents {
		e := &b.ents[i]
		e.hdr.Name = (*byte)(unsafe.Pointer(&e.sa))
		e.hdr.Iov = &e.iov
		e.hdr.Iovlen = 1
		e.iov.Base = &e.buf[0]
	}
	b.done = b.complete
	return b, nil
}

// batched reports whether packets are queued (io_uring) or sent at once.
func (b *sendBatch) batched() bool { return b.ring != nil }

// queue sends pkt from s's socket to `to`, now or at the next flush (at
// once if the batch is full). It runs on the shard's goroutine with s.sockMu
// held.
func (b *sendBatch) queue(s *Session, pkt []byte, to netip.AddrPort) error {
	u := &s.sock
	if b.ring == nil || b.n == sendBatchSize || len(pkt) > len(b.ents[0].buf) || len(pkt) == 0 || u.fd < 0 {
		return u.sendTo(pkt, to)
	}
	if to != u.dst || u.saLen == 0 {
		if !u.setDst(to) {
			return u.sendTo(pkt, to) // the same error
		}
	}
	e := &b.ents[b.n]
	e.s, e.fd = s, u.fd
	copy(e.buf[:], pkt)
	e.iov.SetLen(len(pkt))
	e.sa = u.sa
	e.hdr.Namelen = u.saLen
	sqe := b.ring.sqe(uint32(b.n))
	sqe.opcode = uringOpSendmsg
	sqe.fd = int32(u.fd)
	sqe.addr = uint64(uintptr(unsafe.Pointer(&e.hdr)))
	sqe.opFlags = syscall.MSG_DONTWAIT
	sqe.userData = uint64(b.n)
	u.queued++
	b.n++
	return nil
}

// full reports whether the batch should be flushed before more is queued.
func (b *sendBatch) full() bool { return b.n == sendBatchSize }

// flush sends what is queued and waits for the kernel's answers. It locks
// the sockMu of every session with a packet queued: it must not be called
// with one held.
func (b *sendBatch) flush() {
	if b.n == 0 {
		return
	}
	n := uint32(b.n)
	left, err := b.ring.submit(n, b.done)
	if err != nil {
		// The ring failed: what the kernel did not take is sent one by one
		// (and, from now on, everything); what it took but did not answer
		// counts as sent.
		for i := range n {
			e := &b.ents[i]
			if e.s == nil {
				continue
			}
			var res int32
			if i >= n-left {
				_, _, errno := syscall.RawSyscall6(syscall.SYS_SENDMSG, uintptr(e.fd),
					uintptr(unsafe.Pointer(&e.hdr)), syscall.MSG_DONTWAIT, 0, 0, 0)
				res = -int32(errno)
			}
			b.complete(uint64(i), res)
		}
		b.ring.close()
		b.ring = nil
		if b.log != nil {
			b.log(err)
		}
	}
	b.n = 0
}

// complete is the kernel's answer to the send of entry i.
func (b *sendBatch) complete(i uint64, res int32) {
	if i >= uint64(len(b.ents)) {
		return
	}
	e := &b.ents[i]
	s := e.s
	e.s = nil
	if s == nil {
		return
	}
	s.sockMu.Lock()
	s.sock.released()
	s.sockMu.Unlock()
	if res < 0 {
		s.sendErrors.Add(1)
	}
}

// close releases the ring; what is queued is sent first.
func (b *sendBatch) close() {
	if b.ring != nil {
		b.flush()
		if b.ring != nil {
			b.ring.close()
			b.ring = nil
		}
	}
}
