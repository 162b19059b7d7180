package media

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// portAllocator hands out RTP/RTCP port pairs: an even RTP port p and p+1 for
// RTCP (RFC 3550 §11), both inside [min, max]. It walks the range round-robin
// from just after the last pair handed out, so a port freed by one call is not
// immediately reused by the next (stray packets of the old call would land in the
// new one), but is reused once the walk comes round again. Pairs that another
// process holds are skipped.
//
// Binding a pair and closing it again cost seven system calls (socket and
// bind twice, a setsockopt, close twice): at 2,000 calls/s, 4 % of the CPU,
// on the way to the call's answer. So the sockets of a session that ends are
// kept bound (keep), up to defaultKeepMax pairs, and handed to a new session once
// they have been idle keepQuarantine, emptied of what arrived meanwhile
// (rtpSocket.drain): the quarantine stands in for the walk's distance
// between two uses of a port. A kept pair is not walked to; when the walk
// finds no free pair, the oldest kept one is taken however recent. Kept
// pairs idle over keepMaxAge are closed at the next acquire or keep, and
// all of them by closeKept (Engine.Close).
type portAllocator struct {
	ip netip.Addr
	// bindRTP and bindRTCP bind a pair's sockets (listenRTP and
	// listenRTCP; tests replace them).
	bindRTP, bindRTCP func(ip netip.Addr, port int) (rtpSocket, error)
	now               func() time.Time
	keepMax           int // pairs kept at most (defaultKeepMax; tests lower it)

	// mu guards the fields below.
	mu     sync.Mutex
	min    int // first RTP port (even)
	n      int // number of pairs
	used   []bool
	next   int        // index of the pair to try first
	kept   []keptPair // bound and idle, oldest first, from keptAt
	keptAt int        // index in kept of the oldest
	closed bool       // closeKept was called: nothing more is kept
}

// A keptPair is a pair whose sockets stayed bound after its session ended.
type keptPair struct {
	idx       int
	rtp, rtcp rtpSocket
	since     time.Time
}

const (
	keepQuarantine = time.Second
	keepMaxAge     = 10 * time.Second
	defaultKeepMax = 2048 // pairs: 4,096 descriptors
)

func newPortAllocator(ip netip.Addr, lo, hi int, now func() time.Time) (*portAllocator, error) {
	if lo%2 != 0 {
		lo++
	}
	if lo < 2 || hi > 65535 || hi < lo+1 {
		return nil, fmt.Errorf("rtp port range %d-%d holds no even/odd pair: %w", lo, hi, ErrBadConfig)
	}
	n := (hi - lo + 1) / 2
	return &portAllocator{ip: ip, bindRTP: listenRTP, bindRTCP: listenRTCP, now: now, keepMax: defaultKeepMax, min: lo, n: n, used: make([]bool, n)}, nil
}

// acquire returns a pair's RTP port and both sockets: a kept pair out of
// quarantine, or else the next free pair of the walk, bound, or else the
// oldest kept pair. The allocator's lock is only held to pick and mark a
// pair, not while its sockets are bound or drained: those are system calls,
// and keep (which the pacer calls when a session times out) must not
// wait for them.
func (a *portAllocator) acquire() (port int, rtpSock, rtcpSock rtpSocket, err error) {
	if k, ok := a.takeKept(false); ok {
		return a.reuse(k)
	}
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
	if k, ok := a.takeKept(true); ok {
		return a.reuse(k)
	}
	return 0, rtpSocket{}, rtpSocket{}, ErrNoPorts
}

// reuse hands out a kept pair, emptied of the datagrams that arrived while
// it was kept.
func (a *portAllocator) reuse(k keptPair) (int, rtpSocket, rtpSocket, error) {
	k.rtp.drain()
	k.rtcp.drain()
	return a.min + 2*k.idx, k.rtp, k.rtcp, nil
}

// takeKept removes and returns the oldest kept pair if it has been kept
// keepQuarantine, or at all if anyAge is true, after closing those kept over
// keepMaxAge.
func (a *portAllocator) takeKept(anyAge bool) (keptPair, bool) {
	now := a.now()
	a.mu.Lock()
	stale := a.expireLocked(now)
	k, ok := keptPair{}, false
	if a.keptAt < len(a.kept) && (anyAge || now.Sub(a.kept[a.keptAt].since) >= keepQuarantine) {
		k, ok = a.kept[a.keptAt], true
		a.popLocked()
	}
	a.mu.Unlock()
	a.free(stale)
	return k, ok
}

// keep takes back the pair of RTP port p with its sockets, bound, from a
// session that ended (both sockets detached from it), or closes them and
// frees the pair when they cannot be kept: the allocator closed, keepMax
// pairs kept already, either socket closed.
func (a *portAllocator) keep(p int, rtpSock, rtcpSock rtpSocket) {
	now := a.now()
	k := keptPair{idx: (p - a.min) / 2, rtp: rtpSock, rtcp: rtcpSock, since: now}
	a.mu.Lock()
	stale := a.expireLocked(now)
	if !a.closed && rtpSock.open() && rtcpSock.open() && len(a.kept)-a.keptAt < a.keepMax {
		a.kept = append(a.kept, k)
	} else {
		stale = append(stale, k)
	}
	a.mu.Unlock()
	a.free(stale)
}

// expireLocked removes the pairs kept over keepMaxAge and returns them, for
// free after the lock is released.
func (a *portAllocator) expireLocked(now time.Time) (stale []keptPair) {
	for a.keptAt < len(a.kept) && now.Sub(a.kept[a.keptAt].since) >= keepMaxAge {
		stale = append(stale, a.kept[a.keptAt])
		a.popLocked()
	}
	return stale
}

// popLocked drops the oldest kept pair from the queue (its port stays
// marked used).
func (a *portAllocator) popLocked() {
	a.kept[a.keptAt] = keptPair{}
	a.keptAt++
	if a.keptAt == len(a.kept) {
		a.kept, a.keptAt = a.kept[:0], 0
	} else if a.keptAt >= 1024 && a.keptAt*2 >= len(a.kept) {
		n := copy(a.kept, a.kept[a.keptAt:])
		clear(a.kept[n:])
		a.kept, a.keptAt = a.kept[:n], 0
	}
}

// closeKept closes every kept pair, frees their ports, and keeps nothing
// from now on.
func (a *portAllocator) closeKept() {
	a.mu.Lock()
	a.closed = true
	all := append([]keptPair(nil), a.kept[a.keptAt:]...)
	a.kept, a.keptAt = nil, 0
	a.mu.Unlock()
	a.free(all)
}

// free closes the sockets of pairs taken out of the allocator (expired, not
// kept, or at closeKept), then marks their ports free: closed first, so that
// the walk never finds a free port still bound, as before the pairs were
// kept.
func (a *portAllocator) free(ks []keptPair) {
	if len(ks) == 0 {
		return
	}
	for i := range ks {
		ks[i].rtp.close()
		ks[i].rtcp.close()
	}
	a.mu.Lock()
	for _, k := range ks {
		if k.idx >= 0 && k.idx < a.n {
			a.used[k.idx] = false
		}
	}
	a.mu.Unlock()
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

// inUse returns how many pairs sessions hold (not those kept).
func (a *portAllocator) inUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, u := range a.used {
		if u {
			n++
		}
	}
	return n - (len(a.kept) - a.keptAt)
}

// keptPairs returns how many pairs are kept bound for reuse.
func (a *portAllocator) keptPairs() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.kept) - a.keptAt
}
