//go:build linux && !386

package media

import (
	"syscall"
	"time"
	"unsafe"
)

// ringReadRounds is how many datagrams a batch reads from one socket in a
// tick through the ring: each round reads one from every socket that gave
// one in the round before and may have more (caughtUp). A socket that still
// has more after them (a burst after a stall, a flood) is drained with
// rtpSocket.poll, several datagrams per recvmmsg(2). Three rounds cover a
// leg read every other tick (two datagrams, then EAGAIN).
const ringReadRounds = 3

// caughtUp reports whether a socket need not be asked for another datagram
// in this tick, after the one just read: it arrived less than a frame ago
// (stamped: its arrival time is known) and the session's jitter buffer holds
// at least its target of audio (full). A peer sends a frame's datagram each
// frame, so the socket is most likely empty (asking would cost a read that
// answers EAGAIN: a steady leg's third operation on its socket a tick,
// after its send and its read), and
// whatever it still holds plays after the buffered target: the next tick
// reads it in time. A datagram that waited a frame or more (the network or
// the pacer stalled, the peer sent a burst or sends faster), one without an
// arrival time, or a buffer short of its target (the start of a stream, a
// burst after a network stall whose first datagrams are late) asks again.
func caughtUp(age time.Duration, stamped, full bool) bool {
	return stamped && age < FrameDuration && full
}

// A readBatch reads the RTP sockets of a shard's sessions whose read is due
// in a tick through an io_uring, one io_uring_enter(2) per sendBatchSize
// sockets, where rtpSocket.poll costs one recvmmsg(2) each. It runs before
// the sessions' receive phases (receiveTick), which then play out what it
// read. Each round asks every socket for one datagram; a socket that had one
// is asked again in the next round, until it answers EAGAIN or is caught up
// (caughtUp). Only the shard's goroutine uses it.
//
// As with sendBatch, a read in flight holds its socket's descriptor: a
// session closed meanwhile leaves the closing to the batch.
type readBatch struct {
	ring      *uring
	ents      *[sendBatchSize]readEntry
	cur, next []*Session // this round's sockets, and the next round's
	wall      int64      // the tick's wall clock, for the kernel timestamps
	done      func(userData uint64, res int32)
	log       func(err error)
}

type readEntry struct {
	s    *Session
	hdr  syscall.Msghdr
	iov  syscall.Iovec
	name syscall.RawSockaddrInet6
	ctl  [controlSize]byte
	buf  [maxDatagram]byte
}

// newReadBatch returns a batch on a new ring, or one that reads nothing
// (batched false: the sessions poll their sockets) if useRing is false or
// io_uring is not available.
func newReadBatch(useRing bool, log func(error)) (*readBatch, error) {
	b := &readBatch{log: log}
	if !useRing {
		return b, nil
	}
	r, err := newURing(sendBatchSize)
	if err != nil {
		return b, err
	}
	b.ring = r
	b.ents = new([sendBatchSize]readEntry)
	for i := range b.ents {
		e := &b.ents[i]
		e.hdr.Name = (*byte)(unsafe.Pointer(&e.name))
		e.hdr.Iov = &e.iov
		e.hdr.Iovlen = 1
		e.hdr.Control = &e.ctl[0]
		e.iov.Base = &e.buf[0]
		e.iov.SetLen(maxDatagram)
	}
	b.done = b.complete
	return b, nil
}

func (b *readBatch) batched() bool { return b.ring != nil }

// read reads, for tick k, the sockets of the sessions in list whose read is
// due (Session.preRead), handing each datagram to its session; rb is the
// shard's buffers for the sockets that have more than the ring's rounds.
func (b *readBatch) read(list []*Session, k uint64, wall time.Time, rb *recvBuffers) {
	b.wall = wall.UnixNano()
	b.next = b.next[:0]
	for _, s := range list {
		if s.preRead(k) {
			b.next = append(b.next, s)
		}
	}
	for round := 0; round < ringReadRounds && len(b.next) > 0 && b.ring != nil; round++ {
		b.cur, b.next = b.next, b.cur[:0]
		for i := 0; i < len(b.cur) && b.ring != nil; i += sendBatchSize {
			b.submit(b.cur[i:min(i+sendBatchSize, len(b.cur))])
		}
	}
	for _, s := range b.next { // more queued than the rounds read
		s.mu.Lock()
		if s.err == nil {
			s.rxPreGot += s.sock.poll(rb, wall, s.polled)
		}
		s.mu.Unlock()
	}
	clear(b.cur)
	clear(b.next)
	b.next = b.next[:0]
}

// submit reads one datagram from each session's socket.
func (b *readBatch) submit(ss []*Session) {
	n := uint32(0)
	for _, s := range ss {
		s.sockMu.Lock()
		u := &s.sock
		if u.fd >= 0 {
			e := &b.ents[n]
			e.s = s
			e.hdr.Namelen = syscall.SizeofSockaddrInet6
			e.hdr.SetControllen(controlSize)
			e.hdr.Flags = 0
			sqe := b.ring.sqe(n)
			sqe.opcode = uringOpRecvmsg
			sqe.fd = int32(u.fd)
			sqe.addr = uint64(uintptr(unsafe.Pointer(&e.hdr)))
			sqe.opFlags = syscall.MSG_DONTWAIT
			sqe.userData = uint64(n)
			u.queued++
			n++
		}
		s.sockMu.Unlock()
	}
	if n == 0 {
		return
	}
	if _, err := b.ring.submit(n, b.done); err != nil {
		// The ring failed: what it did not read stays queued on the
		// sockets, for the sessions' own polls from now on.
		for i := range n {
			if b.ents[i].s != nil {
				b.release(&b.ents[i])
			}
		}
		b.ring.close()
		b.ring = nil
		if b.log != nil {
			b.log(err)
		}
	}
}

// complete is the kernel's answer to the read of entry i: a datagram for its
// session, which is then asked for another in the next round, or EAGAIN.
func (b *readBatch) complete(i uint64, res int32) {
	if i >= uint64(len(b.ents)) {
		return
	}
	e := &b.ents[i]
	s := e.s
	if s == nil {
		return
	}
	b.release(e)
	if res < 0 {
		return // EAGAIN: nothing (more) queued; or the socket failed
	}
	size := min(int(res), maxDatagram)
	age, stamped := stampAge(&e.hdr, &e.ctl, b.wall)
	s.mu.Lock()
	done := false
	if s.err == nil {
		s.rxPreGot++
		s.handlePolled(e.buf[:size], sockaddrToAddrPort(&e.name), age)
		done = caughtUp(age, stamped, s.jb.holdsTarget())
	}
	s.mu.Unlock()
	if !done {
		b.next = append(b.next, s)
	}
}

// release ends entry e's hold on its socket's descriptor.
func (b *readBatch) release(e *readEntry) {
	s := e.s
	e.s = nil
	s.sockMu.Lock()
	s.sock.released()
	s.sockMu.Unlock()
}

func (b *readBatch) close() {
	if b.ring != nil {
		b.ring.close()
		b.ring = nil
	}
}
