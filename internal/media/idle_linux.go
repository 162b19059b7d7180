//go:build linux && !386

package media

import (
	"syscall"
	"unsafe"
)

// An idleWatch is a shard's epoll(7) instance of its parked sockets: RTP
// sockets on which nothing arrived for idleReadTicks in a row (a caller that
// sends no audio, a leg on hold, silence suppression). A parked socket is not
// read at all until data arrives on it; each tick begins with one
// epoll_wait(2), without waiting, that reports which parked sockets have
// data, and those are read in the same tick, as an active socket would be.
// A tick thus reads only the sockets that have something, where reading the
// idle ones every other tick cost a system call each (or a ring entry).
//
// Registrations are one-shot (EPOLLONESHOT): a socket reported is unparked
// and not reported again until it parks again (EPOLL_CTL_MOD). A closed
// socket leaves the epoll set by itself, so an fd reported always belongs to
// a live session's socket. Level-triggered: a socket that got data just
// before it parked is reported at once.
//
// Only the shard's goroutine uses it (park from the receive phase with the
// session's mu held, ready at the start of a tick).
type idleWatch struct {
	epfd   int
	events [idleEvents]syscall.EpollEvent
	fds    []int32  // reported this tick
	bits   []uint64 // the same, as a set by fd
}

// idleEvents is how many reports one epoll_wait takes; more are taken by
// further calls, up to idleWaits.
const (
	idleEvents = 128
	idleWaits  = 32
)

// newIdleWatch returns a new watch, or nil (sockets are then read every other
// tick while idle) when epoll cannot be had.
func newIdleWatch() *idleWatch {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	return &idleWatch{epfd: fd}
}

// park registers s's RTP socket (s.mu held, s live) and reports whether it
// did: s is then not read until ready reports it. A socket registered with
// another shard's watch (its session moved, Group.Adopt) leaves that one.
func (w *idleWatch) park(s *Session) bool {
	if w == nil || s.sock.fd < 0 {
		return false
	}
	fd := s.sock.fd
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLONESHOT, Fd: int32(fd)}
	var err error
	if s.idleIn == w {
		err = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_MOD, fd, &ev)
	} else {
		if s.idleIn != nil {
			syscall.EpollCtl(s.idleIn.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
		}
		err = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, fd, &ev)
	}
	if err != nil {
		s.idleIn = nil
		return false
	}
	s.idleIn = w
	return true
}

// ready collects the parked sockets that have data, for isReady during this
// tick.
func (w *idleWatch) ready() {
	if w == nil {
		return
	}
	for _, fd := range w.fds {
		w.bits[fd>>6] &^= 1 << (fd & 63)
	}
	w.fds = w.fds[:0]
	for range idleWaits {
		r, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(w.epfd),
			uintptr(unsafe.Pointer(&w.events[0])), idleEvents, 0, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 || r == 0 {
			return
		}
		for i := range int(r) {
			fd := w.events[i].Fd
			if fd < 0 {
				continue
			}
			for int(fd>>6) >= len(w.bits) {
				w.bits = append(w.bits, 0)
			}
			w.bits[fd>>6] |= 1 << (fd & 63)
			w.fds = append(w.fds, fd)
		}
		if r < idleEvents {
			return
		}
	}
}

// isReady reports whether ready found data on s's socket (s.mu held).
func (w *idleWatch) isReady(s *Session) bool {
	fd := s.sock.fd
	if w == nil || fd < 0 || fd>>6 >= len(w.bits) {
		return false
	}
	return w.bits[fd>>6]&(1<<(fd&63)) != 0
}

// forget removes the socket of a session that ended from the watch it was
// registered with (Session.idleIn), before the port allocator keeps it
// bound: an fd the watch reports then still belongs to a live session. Any
// goroutine may call it; epoll_ctl(2) is safe beside epoll_wait.
func (w *idleWatch) forget(u *rtpSocket) {
	if u.fd >= 0 {
		syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, u.fd, nil)
	}
}

func (w *idleWatch) close() {
	if w != nil {
		syscall.Close(w.epfd)
	}
}
