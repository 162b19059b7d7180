package media

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
)

// portAllocator hands out RTP/RTCP port pairs: an even RTP port p and p+1 for
// RTCP (RFC 3550 §11), both inside [min, max]. It walks the range round-robin
// from just after the last pair handed out, so a port freed by one call is not
// immediately reused by the next (stray packets of the old call would land in the
// new one), but is reused once the walk comes round again. Pairs that another
// process holds are skipped.
type portAllocator struct {
	ip netip.Addr
	// bindRTP and bindRTCP bind a pair's sockets (listenRTP and
	// listenRTCP; tests replace them).
	bindRTP, bindRTCP func(ip netip.Addr, port int) (rtpSocket, error)

	// mu guards the fields below.
	mu   sync.Mutex
	min  int // first RTP port (even)
	n    int // number of pairs
	used []bool
	next int // index of the pair to try first
}

func newPortAllocator(ip netip.Addr, lo, hi int) (*portAllocator, error) {
	if lo%2 != 0 {
		lo++
	}
	if lo < 2 || hi > 65535 || hi < lo+1 {
		return nil, fmt.Errorf("rtp port range %d-%d holds no even/odd pair: %w", lo, hi, ErrBadConfig)
	}
	n := (hi - lo + 1) / 2
	return &portAllocator{ip: ip, bindRTP: listenRTP, bindRTCP: listenRTCP, min: lo, n: n, used: make([]bool, n)}, nil
}

// acquire binds the next free pair and returns its RTP port and both sockets.
// The allocator's lock is only held to pick and mark a pair, not while its
// sockets are bound: binding is a few system calls, and release (which the
// pacer calls when a session times out) must not wait for them.
func (a *portAllocator) acquire() (port int, rtpSock, rtcpSock rtpSocket, err error) {
	for tried := 0; tried < a.n; {
		idx, ok := a.reserve()
		if !ok {
			break
		}
		tried++
		p := a.min + 2*idx
		rtpSock, err = a.bindRTP(a.ip, p)
		if err != nil {
			a.unreserve(idx)
			if errors.Is(err, syscall.EADDRINUSE) {
				continue
			}
			return 0, rtpSocket{}, rtpSocket{}, fmt.Errorf("bind rtp port %d: %w", p, err)
		}
		rtcpSock, err = a.bindRTCP(a.ip, p+1)
		if err != nil {
			rtpSock.close()
			a.unreserve(idx)
			if errors.Is(err, syscall.EADDRINUSE) {
				continue
			}
			return 0, rtpSocket{}, rtpSocket{}, fmt.Errorf("bind rtcp port %d: %w", p+1, err)
		}
		return p, rtpSock, rtcpSock, nil
	}
	return 0, rtpSocket{}, rtpSocket{}, ErrNoPorts
}

// reserve marks the next free pair in the round-robin walk as used and
// returns its index; ok is false when every pair is used.
func (a *portAllocator) reserve() (idx int, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := 0; i < a.n; i++ {
		idx := (a.next + i) % a.n
		if !a.used[idx] {
			a.used[idx] = true
			a.next = (idx + 1) % a.n
			return idx, true
		}
	}
	return 0, false
}

// unreserve frees a pair reserve returned whose sockets could not be bound.
func (a *portAllocator) unreserve(idx int) {
	a.mu.Lock()
	a.used[idx] = false
	a.mu.Unlock()
}

// release returns the pair of RTP port p to the pool (after its sockets closed).
func (a *portAllocator) release(p int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if idx := (p - a.min) / 2; idx >= 0 && idx < a.n {
		a.used[idx] = false
	}
}

// inUse returns how many pairs are allocated.
func (a *portAllocator) inUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, u := range a.used {
		if u {
			n++
		}
	}
	return n
}
