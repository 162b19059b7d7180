package media

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"
)

// pacerReads reports whether the pacer reads the RTP sockets itself (Linux)
// rather than a goroutine per socket.
func pacerReads() bool { return runtime.GOOS == "linux" && runtime.GOARCH != "386" }

// Everything queued on a socket between two ticks that has waited a frame
// (a stall of the network or of the pacer) is handled in the next tick's
// receive phase, in one go up to recvBatch*maxRecvCalls datagrams (and the
// ring's rounds before, where the shard reads through an io_uring: a burst
// is not spread over later ticks, which would add delay); more than that
// waits for the following tick. (Datagrams younger than a frame may wait for
// the next tick when the ring reads: TestRingReadsFreshDatagramsOncePerTick.)
func TestTickReadsWhatIsQueued(t *testing.T) {
	if !pacerReads() {
		t.Skip("sockets are read by goroutines here")
	}
	for _, burst := range []int{1, recvBatch - 1, recvBatch, 3*recvBatch + 1, recvBatch*maxRecvCalls + 10} {
		h := newHarness(t)
		p := newPeer(t)
		s := h.session()
		s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
		for i := range burst {
			p.send(s.LocalAddr(), p.audio(i))
		}
		// Loopback delivers during sendto: everything is queued now, and
		// nothing is read before a tick. Real time passes, for the
		// kernel's arrival stamps: the burst has waited over a frame.
		age(FrameDuration + 5*time.Millisecond)
		if n := s.Stats().PacketsReceived; n != 0 {
			t.Fatalf("burst %d: %d packets handled before any tick", burst, n)
		}
		h.advance(1, nil)
		limit := recvBatch * maxRecvCalls
		if s.sh.Load().rx.batched() {
			limit += ringReadRounds
		}
		first := min(burst, limit)
		if n := s.Stats().PacketsReceived; n != uint64(first) {
			t.Fatalf("burst %d: first tick handled %d packets, want %d", burst, n, first)
		}
		h.advance(1, nil)
		if n := s.Stats().PacketsReceived; n != uint64(burst) {
			t.Fatalf("burst %d: second tick handled %d packets in all, want %d", burst, n, burst)
		}
	}
}

// RTP over IPv6: sessions bound to ::1 exchange audio, latch to each other's
// source address and port, and a v4 destination on a v6 engine is a send error,
// not a crash.
func TestIPv6Session(t *testing.T) {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	c.Close()
	h := newHarness(t, func(c *EngineConfig) { c.IP = netip.IPv6Loopback() })
	a, b := h.session(), h.session()
	if !a.LocalAddr().Addr().Is6() {
		t.Fatalf("LocalAddr %v, want ::1", a.LocalAddr())
	}
	connect(a, b, PCMA, 101)
	rec := &recorder{}
	b.SetSink(rec)
	done := playAsync(a, context.Background(), &toneSource{freq: 1000, amp: 6000, frames: 10})
	waitUntil(t, func() bool { a.playMu.Lock(); defer a.playMu.Unlock(); return a.play != nil }, "play to start")
	h.advance(20, delivered([2]*Session{a, b}, [2]*Session{b, a}))
	if err := <-done; err != nil {
		t.Fatalf("Play = %v", err)
	}
	if _, _, n := voicedFrames(rec.frames, 600); n != 10 {
		t.Fatalf("heard %d voiced frames over IPv6, want 10", n)
	}
	if got := b.RemoteAddr(); got != a.LocalAddr() {
		t.Fatalf("b latched to %v, want %v", got, a.LocalAddr())
	}
	st := a.Stats()
	if st.SendErrors != 0 || st.PacketsSent < 20 {
		t.Fatalf("a stats %+v", st)
	}
	if st := b.Stats(); st.PacketsLost != 0 || st.PacketsReceived < 20 {
		t.Fatalf("b stats %+v", st)
	}

	// A remote on IPv4 cannot be reached from a socket bound to ::1 (b
	// stops sending first, or a would latch back to it).
	b.SetRemote(Remote{Addr: a.LocalAddr(), Codec: PCMA, Direction: RecvOnly})
	h.advance(1, delivered([2]*Session{b, a}))
	a.SetRemote(Remote{Addr: netip.MustParseAddrPort("127.0.0.1:4000"), Codec: PCMU, Direction: SendRecv})
	before := a.Stats().SendErrors
	h.advance(2, nil)
	if n := a.Stats().SendErrors - before; n != 2 {
		t.Fatalf("%d send errors to an IPv4 remote from ::1, want 2", n)
	}
}

// The source address of what the pacer reads is the peer's, v4-mapped
// addresses unmapped.
func TestSourceAddressOfPolledPackets(t *testing.T) {
	h := newHarness(t)
	p := newPeer(t)
	s := h.session()
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	p.send(s.LocalAddr(), p.audio(1))
	h.advance(1, nil)
	if got := s.RemoteAddr(); got != p.addr() {
		t.Fatalf("latched to %v, want %v", got, p.addr())
	}
	// A packet from another port is ignored (latching), not misattributed.
	q := newPeer(t)
	q.send(s.LocalAddr(), q.audio(2))
	h.advance(1, nil)
	if st := s.Stats(); st.PacketsReceived != 1 || st.PacketsIgnored != 1 {
		t.Fatalf("stats %+v, want 1 received and 1 ignored", st)
	}
}

// The interarrival jitter (RFC 3550 A.8) is computed from when the kernel
// received each packet, not from when the pacer read it: packets sent at their
// real-time pace and read all at once show little jitter. (Read-time arrivals
// would make the same 12 packets look 20 ms apart in transit each: over 8 ms.)
func TestJitterFromKernelArrivalTimes(t *testing.T) {
	if !pacerReads() {
		t.Skip("sockets are read by goroutines here")
	}
	h := newHarness(t)
	p := newPeer(t)
	s := h.session()
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	waitForArrivalStamps(t)
	next := time.Now()
	for i := range 12 {
		time.Sleep(time.Until(next))
		p.send(s.LocalAddr(), p.audio(i))
		next = next.Add(FrameDuration)
	}
	waitUntil(t, func() bool { h.e.pollNow(); return s.Stats().PacketsReceived == 12 }, "packets")
	if j := s.Stats().Jitter; j > 4*time.Millisecond {
		t.Fatalf("jitter %v for packets sent at their pace, want < 4ms", j)
	}
}

// Reading a socket at the tick, with the packet's kernel timestamp, allocates
// nothing.
func TestPolledReceiveDoesNotAllocate(t *testing.T) {
	if !pacerReads() {
		t.Skip("sockets are read by goroutines here")
	}
	e := idleEngine(t, 1)
	p := newPeer(t)
	s, err := e.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, EventPT: 101, Direction: SendRecv})
	s.SetSink(SinkFunc(func([]int16) error { return nil }))
	pkts := make([][]byte, 201) // AllocsPerRun runs once more to warm up
	for i := range pkts {
		pkts[i] = p.audio(i)
	}
	k := uint64(0)
	e.rxNow, e.rxWall = e.clock.Now(), time.Now()
	if n := testing.AllocsPerRun(200, func() {
		p.send(s.LocalAddr(), pkts[k])
		k++
		s.receiveTick(k)
	}); n != 0 {
		t.Errorf("polled receive allocates %v times", n)
	}
	if st := s.Stats(); st.PacketsReceived < 200 {
		t.Fatalf("received %d packets, want every one sent", st.PacketsReceived)
	}
}

// A Source may close its own session from ReadFrame (the pacer holds the
// playback lock then): Close does not wait for that lock.
func TestSourceClosesItsSession(t *testing.T) {
	h := newHarness(t)
	p := newPeer(t)
	s := h.session()
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	n := 0
	play := playAsync(s, context.Background(), SourceFunc(func(f []int16) error {
		if n++; n == 3 {
			s.Close()
		}
		return nil
	}))
	waitUntil(t, func() bool { s.playMu.Lock(); defer s.playMu.Unlock(); return s.play != nil }, "play to start")
	h.advance(3, nil)
	waitUntil(t, func() bool { return ended(s) }, "session to end")
	if err := <-play; !errors.Is(err, ErrClosed) {
		t.Fatalf("Play = %v, want ErrClosed", err)
	}
	h.advance(2, nil) // the pacer goes on without the session
	if got := p.drain(50 * time.Millisecond); len(got) != 2 {
		t.Fatalf("peer got %d packets, want the 2 sent before the source closed the session", len(got))
	}
}

// openFiles counts the process's open descriptors (-1 where /proc is missing).
func openFiles() int {
	des, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(des)
}

// The RTP sockets are raw descriptors on Linux: closing sessions, and the
// engine, closes every one of them and frees the ports.
func TestSocketsAreClosed(t *testing.T) {
	before := openFiles()
	if before < 0 {
		t.Skip("no /proc/self/fd")
	}
	lo, hi := testPortRange(32)
	e, err := NewEngine(EngineConfig{IP: loopback, PortMin: lo, PortMax: hi})
	if err != nil {
		t.Fatal(err)
	}
	var ss []*Session
	for range 10 {
		s, err := e.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
	}
	if n := openFiles() - before; n < 20 {
		t.Fatalf("%d descriptors for 10 sessions, want at least 20", n)
	}
	for _, s := range ss[:5] {
		s.Close()
	}
	if n := e.ports.inUse(); n != 5 {
		t.Fatalf("%d port pairs in use after closing 5 of 10 sessions", n)
	}
	e.Close()
	if n := e.ports.inUse(); n != 0 {
		t.Fatalf("%d port pairs in use after Engine.Close", n)
	}
	if after := openFiles(); after != before {
		t.Fatalf("%d descriptors open after Engine.Close, %d before", after, before)
	}
	// The ports can be bound again.
	c, err := listenRTP(loopback, int(ss[0].LocalAddr().Port()))
	if err != nil {
		t.Fatalf("rebinding a closed session's port: %v", err)
	}
	c.close()
}

// readTick returns the next tick after `after` at which a session on port
// reads its socket when it reads every other tick.
func readTick(port int, after uint64) uint64 {
	k := after + 1
	for (k+uint64(port>>1))%2 != 0 {
		k++
	}
	return k
}

// parked reports whether s's socket is parked.
func parked(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parked
}

// A socket on which nothing arrived for half a second is parked: not read
// until data arrives, which is then read in the next tick, as on an active
// socket, whichever tick that is; once packets come, it is read every tick
// again. A closed parked socket leaves nothing behind: the next session,
// which gets the same socket once the allocator has kept it a while
// (ports.go), parks and wakes as well.
func TestIdleSocketIsParked(t *testing.T) {
	if !pacerReads() {
		t.Skip("sockets are read by goroutines here")
	}
	h := newHarness(t, func(c *EngineConfig) { c.Shards = 1 }) // the same idleWatch in both rounds
	p := newPeer(t)
	var fd0 int
	for round := range 2 {
		s := h.session()
		if round == 0 {
			fd0 = s.sock.fd
		} else if s.sock.fd != fd0 {
			t.Fatalf("round 1 on descriptor %d, want round 0's kept socket %d", s.sock.fd, fd0)
		}
		s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
		h.advance(idleReadTicks-1, nil)
		if parked(s) {
			t.Fatalf("round %d: parked before %d idle ticks", round, idleReadTicks)
		}
		h.advance(2, nil)
		if !parked(s) {
			t.Fatalf("round %d: not parked after %d idle ticks", round, idleReadTicks+1)
		}
		h.advance(7, nil)
		for i := range 3 {
			p.send(s.LocalAddr(), p.audio(i))
			h.advance(1, nil)
			if n := s.Stats().PacketsReceived; n != uint64(i+1) {
				t.Fatalf("round %d: %d packets read in the tick after packet %d", round, n, i)
			}
			if parked(s) {
				t.Fatalf("round %d: still parked after a packet", round)
			}
		}
		h.advance(idleReadTicks+1, nil)
		if !parked(s) {
			t.Fatalf("round %d: not parked again", round)
		}
		p.send(s.LocalAddr(), p.audio(3))
		h.advance(1, nil)
		if n := s.Stats().PacketsReceived; n != 4 {
			t.Fatalf("round %d: parked again, %d packets read, want 4", round, n)
		}
		s.Close()
		h.advance(int(keepQuarantine/FrameDuration), nil)
	}
}

// Without an idleWatch, a socket on which nothing arrived for half a second is
// read every other tick: a packet waits at most one tick more; once packets
// come, it is read every tick again.
func TestIdleSocketIsReadEveryOtherTick(t *testing.T) {
	if !pacerReads() {
		t.Skip("sockets are read by goroutines here")
	}
	h := newHarness(t)
	for _, sh := range h.e.shards {
		sh.idle.close()
		sh.idle = nil // before the first tick
	}
	p := newPeer(t)
	s := h.session()
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	h.advance(idleReadTicks+1, nil)
	port := int(s.LocalAddr().Port())
	// Advance to just before a tick that reads, send, and step over the
	// tick that does not read.
	skipTick := readTick(port, h.tick) + 1 // does not read
	for h.tick+1 < skipTick {
		h.advance(1, nil)
	}
	p.send(s.LocalAddr(), p.audio(0))
	h.advance(1, nil)
	if n := s.Stats().PacketsReceived; n != 0 {
		t.Fatalf("an idle socket was read at tick %d (port %d): %d packets", h.tick, port, n)
	}
	h.advance(1, nil)
	if n := s.Stats().PacketsReceived; n != 1 {
		t.Fatalf("the packet was not read the tick after: %d packets", n)
	}
	// Active again: read every tick.
	for i := range 4 {
		p.send(s.LocalAddr(), p.audio(i+1))
		h.advance(1, nil)
		if n := s.Stats().PacketsReceived; n != uint64(i+2) {
			t.Fatalf("tick %d after the socket woke up: %d packets, want %d", i+1, n, i+2)
		}
	}
}

// With ReadEvery 2 a stream arriving every 20 ms is read in pairs and played
// out without a gap or a late packet; a session whose jitter buffer is too
// small for that is read every tick.
func TestReadEveryOtherTick(t *testing.T) {
	if !pacerReads() {
		t.Skip("sockets are read by goroutines here")
	}
	h := newHarness(t, func(c *EngineConfig) { c.ReadEvery = 2 })
	p := newPeer(t)
	s := h.session()
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	small := h.session()
	small.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	small.SetJitterBuffer(10*time.Millisecond, 20*time.Millisecond)
	rec := &recorder{}
	s.SetSink(rec)
	const n = 100
	var readAt []uint64
	for i := range n {
		before := s.Stats().PacketsReceived
		pk := p.audio(i)
		p.send(s.LocalAddr(), pk)
		p.send(small.LocalAddr(), pk)
		h.advance(1, nil)
		if s.Stats().PacketsReceived > before {
			readAt = append(readAt, h.tick)
		}
		if got := small.Stats().PacketsReceived; got != uint64(i+1) {
			t.Fatalf("tick %d: the session with a 10 ms jitter buffer read %d packets, want %d", h.tick, got, i+1)
		}
	}
	h.advance(5, nil)
	if len(readAt) < n/2-1 || len(readAt) > n/2+1 {
		t.Fatalf("socket read in %d of %d ticks, want every other one", len(readAt), n)
	}
	st := s.Stats()
	if st.PacketsReceived != n || st.PacketsLate != 0 || st.PacketsLost != 0 {
		t.Fatalf("stats %+v, want %d received, none late or lost", st, n)
	}
	_, _, voiced := voicedFrames(rec.samplesByFrame(), 100)
	if voiced != n {
		t.Fatalf("%d frames of audio played out, want %d", voiced, n)
	}
}

// A parked socket whose session moves to another shard (a bridge, a
// conference: Group.Adopt) is read there, and parks in that shard's
// idleWatch; moved back, it parks in the first one's again.
func TestParkedSocketMovesShards(t *testing.T) {
	if !pacerReads() {
		t.Skip("sockets are read by goroutines here")
	}
	h := newHarness(t, func(c *EngineConfig) { c.Shards = 2 })
	groups := []*Group{{e: h.e, sh: h.e.shards[0]}, {e: h.e, sh: h.e.shards[1]}}
	p := newPeer(t)
	s := h.session()
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	want := uint64(0)
	for i, g := range []*Group{groups[0], groups[1], groups[0]} {
		if err := g.Adopt(s); err != nil {
			t.Fatal(err)
		}
		h.advance(idleReadTicks+1, nil)
		if !parked(s) {
			t.Fatalf("move %d: not parked on shard %d", i, g.sh.id)
		}
		if err := groups[(i+1)%2].Adopt(s); err != nil { // and on, parked
			t.Fatal(err)
		}
		p.send(s.LocalAddr(), p.audio(i))
		want++
		h.advance(1, nil)
		if n := s.Stats().PacketsReceived; n != want {
			t.Fatalf("move %d: %d packets read on the shard it moved to, want %d", i, n, want)
		}
	}
}

// A session's sockets outlive it, bound, for a later session (ports.go):
// within the quarantine a new session gets another pair; after it, the kept
// pair on the same descriptors, emptied of what reached it in between. A
// pair kept over keepMaxAge is closed, its port free to bind; beyond
// keepMax, an ended session's sockets are closed at once.
func TestEndedSessionsSocketsAreKept(t *testing.T) {
	if !pacerReads() {
		t.Skip("sockets are read by goroutines here")
	}
	h := newHarness(t)
	p := newPeer(t)
	a := h.session()
	port, fd := a.LocalAddr(), a.sock.fd
	a.Close()
	if k, n := h.e.ports.keptPairs(), h.e.ports.inUse(); k != 1 || n != 0 {
		t.Fatalf("after a session ended: %d pairs kept, %d in use; want 1 and 0", k, n)
	}
	if !portBound(port) {
		t.Fatal("the kept pair's port is not bound")
	}
	p.send(port, p.audio(0)) // for the call that ended

	b := h.session()
	if b.LocalAddr() == port {
		t.Fatalf("a session within the quarantine got the kept port %v", port)
	}
	h.advance(int(keepQuarantine/FrameDuration), nil)
	c := h.session()
	if c.LocalAddr() != port || c.sock.fd != fd {
		t.Fatalf("after the quarantine: %v on descriptor %d, want the kept %v on %d", c.LocalAddr(), c.sock.fd, port, fd)
	}
	c.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	h.advance(2, nil)
	if n := c.Stats().PacketsReceived; n != 0 {
		t.Fatalf("the new session read %d packets sent to the ended one", n)
	}
	p.send(port, p.audio(1))
	h.advance(1, nil)
	if n := c.Stats().PacketsReceived; n != 1 {
		t.Fatalf("the new session read %d of its own packets, want 1", n)
	}

	c.Close()
	b.Close()
	h.advance(int(keepMaxAge/FrameDuration), nil)
	h.session() // acquiring closes the pairs kept too long
	if k := h.e.ports.keptPairs(); k != 0 {
		t.Fatalf("%d pairs kept after %v", k, keepMaxAge)
	}
	if portBound(port) {
		t.Fatalf("port %v still bound after %v kept", port, keepMaxAge)
	}

	h.e.ports.mu.Lock()
	h.e.ports.keepMax = 1
	h.e.ports.mu.Unlock()
	d, e := h.session(), h.session()
	d.Close()
	e.Close()
	if k := h.e.ports.keptPairs(); k != 1 || portBound(e.LocalAddr()) {
		t.Fatalf("keepMax 1: %d pairs kept, the second ended session's port bound %v", k, portBound(e.LocalAddr()))
	}
}

// portBound reports whether a UDP port of the loopback is taken.
func portBound(ap netip.AddrPort) bool {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return true
	}
	c.Close()
	return false
}
