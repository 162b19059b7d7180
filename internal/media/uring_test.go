//go:build linux && !386

package media

import (
	"errors"
	"syscall"
	"testing"
	"time"
)

// ringBatch returns shard 0's send batch of a new engine with one shard on a
// fake clock, and a session of it sending to a peer; it skips the test
// where io_uring is not available.
func ringBatch(t *testing.T) (*sendBatch, *Session, *peer) {
	t.Helper()
	h := newHarness(t, func(c *EngineConfig) { c.Shards = 1 })
	tx := h.e.shards[0].tx
	if !tx.batched() {
		if _, err := newURing(8); err != nil {
			t.Skipf("no io_uring here: %v", err)
		}
		t.Fatal("the engine does not batch its sends, though io_uring works")
	}
	s := h.session()
	p := newPeer(t)
	t.Cleanup(func() { p.conn.Close() })
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	return tx, s, p
}

func queueOne(t *testing.T, tx *sendBatch, s *Session, p *peer, b byte) {
	t.Helper()
	s.sockMu.Lock()
	err := tx.queue(s, []byte{0x80, 0, 0, b, 0, 0, 0, 0, 0, 0, 0, 1, b}, p.addr())
	s.sockMu.Unlock()
	if err != nil {
		t.Fatalf("queue: %v", err)
	}
}

func fdOpen(fd int) bool {
	_, err := getFD(fd)
	return !errors.Is(err, syscall.EBADF)
}

func getFD(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// A session closed while a packet of it waits in the shard's batch keeps
// its descriptor until the batch is sent: the packet still leaves from its
// socket, and then the descriptor is closed (not reused under the kernel's
// feet by whatever file is opened next).
func TestCloseWhileQueued(t *testing.T) {
	tx, s, p := ringBatch(t)
	fd := s.sock.fd
	queueOne(t, tx, s, p, 7)
	s.Close()
	if !fdOpen(fd) {
		t.Fatal("the descriptor was closed while a packet of it was queued")
	}
	tx.flush()
	got, from, ok := p.recv(5 * time.Second)
	if !ok || got[len(got)-1] != 7 {
		t.Fatalf("queued packet of the closed session: got %v, %v", got, ok)
	}
	if from.Port() != s.LocalAddr().Port() {
		t.Fatalf("packet from port %d, want the session's %d", from.Port(), s.LocalAddr().Port())
	}
	if fdOpen(fd) {
		t.Fatal("the descriptor is still open after the batch was sent")
	}
	if n := s.Stats().SendErrors; n != 0 {
		t.Fatalf("%d send errors", n)
	}
}

// If the ring fails, what is queued is sent one packet at a time, the
// failure is reported, and later packets go out at once.
func TestFailedRingFallsBack(t *testing.T) {
	tx, s, p := ringBatch(t)
	var reported []error
	tx.log = func(err error) { reported = append(reported, err) }
	ringFD := tx.ring.fd
	tx.ring.fd = -1 // io_uring_enter fails with EBADF
	t.Cleanup(func() { syscall.Close(ringFD) })
	queueOne(t, tx, s, p, 1)
	queueOne(t, tx, s, p, 2)
	tx.flush()
	if tx.batched() || len(reported) != 1 || !errors.Is(reported[0], syscall.EBADF) {
		t.Fatalf("after the ring failed: batched %v, reported %v", tx.batched(), reported)
	}
	queueOne(t, tx, s, p, 3) // sent at once
	for want := byte(1); want <= 3; want++ {
		got, _, ok := p.recv(5 * time.Second)
		if !ok || got[len(got)-1] != want {
			t.Fatalf("packet %d: got %v, %v", want, got, ok)
		}
	}
	if s.sock.queued != 0 {
		t.Fatalf("%d packets still counted as queued", s.sock.queued)
	}
}

// A shard with more sessions than a batch holds submits two batches in a
// tick, to send and to read, and every packet arrives.
func TestBatchesOfAFullShard(t *testing.T) {
	const n = sendBatchSize + 10
	e, ss := pairedShardedEngine(t, n, 1)
	if !e.shards[0].tx.batched() || !e.shards[0].rx.batched() {
		t.Skip("no io_uring here")
	}
	e.service(1) // every session sends one packet
	e.service(2) // and reads its peer's
	for i, s := range ss {
		st := s.Stats()
		if st.PacketsSent != 2 || st.SendErrors != 0 || st.PacketsReceived < 1 {
			t.Fatalf("session %d of %d: sent %d (errors %d), received %d", i, n, st.PacketsSent, st.SendErrors, st.PacketsReceived)
		}
	}
}

// With NoIOUring, or where io_uring is missing, each packet is sent and each
// socket read with its own system call.
func TestNoIOUring(t *testing.T) {
	h := newHarness(t, func(c *EngineConfig) { c.NoIOUring = true })
	for _, sh := range h.e.shards {
		if sh.tx.batched() || sh.rx.batched() {
			t.Fatal("the engine batches its I/O though told not to")
		}
	}
	a, b := h.session(), h.session()
	connect(a, b, PCMU, 0)
	h.advance(3, delivered([2]*Session{a, b}, [2]*Session{b, a}))
}

// This kernel's io_uring fails a MSG_DONTWAIT read of an empty socket at
// once: the probe that guards the pacer against waiting for a packet passes
// (where io_uring is missing altogether, the engine falls back, and so does
// this test).
func TestURingDoesNotWait(t *testing.T) {
	r, err := setupURing(2)
	if err != nil {
		t.Skipf("no io_uring here: %v", err)
	}
	r.close()
	if err := uringNoWait(); err != nil {
		t.Fatalf("probe: %v", err)
	}
}

// Sessions closed by another goroutine while the pacer sends and reads
// through the rings: every descriptor is closed in the end (none leaked
// by a close deferred to a batch, none closed twice), and the sessions
// left keep exchanging audio.
func TestCloseDuringBatchedTicks(t *testing.T) {
	before := openFiles()
	if before < 0 {
		t.Skip("no /proc/self/fd")
	}
	const n = 200
	e, ss := pairedShardedEngine(t, n, 1)
	if !e.shards[0].tx.batched() {
		t.Skip("no io_uring here")
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for i := 0; i < n/2; i++ {
			ss[i].Close()
		}
	}()
	k := uint64(0)
	for done := false; !done; {
		select {
		case <-closed:
			done = true
		default:
		}
		k++
		e.service(k)
	}
	e.service(k + 1)
	e.service(k + 2)
	for _, s := range ss[n/2:] {
		if st := s.Stats(); st.PacketsReceived == 0 || st.SendErrors != 0 {
			t.Fatalf("a live session after %d ticks: received %d, send errors %d", k+2, st.PacketsReceived, st.SendErrors)
		}
	}
	for _, s := range ss[:n/2] {
		if s.sock.lateClose || s.sock.queued != 0 {
			t.Fatalf("a closed session's socket: queued %d, close pending %v", s.sock.queued, s.sock.lateClose)
		}
	}
	e.Close()
	if after := openFiles(); after != before {
		t.Fatalf("%d descriptors open after Engine.Close, %d before", after, before)
	}
}

// What the ring reads carries the kernel's arrival time, as what recvmmsg
// reads does: packets sent at their real-time pace and read three at a
// time, in the ring's three rounds, show little interarrival jitter
// (read-time arrivals would put 20 and 40 ms of transit between the three of
// each read: over 8 ms of jitter). Each read comes 10 ms after the third
// packet, so that the second has waited a frame and the ring asks for the
// third in the same tick (caughtUp): the harness runs the ticks of a read
// at once on its fake clock, and a packet left for the second of them would
// get an arrival time a frame late, which the engine's real clock, ticking
// at its pace, would not give it.
func TestRingReadsKernelArrivalTimes(t *testing.T) {
	h, p, s := ringSession(t)
	next := time.Now()
	for i := range 12 {
		time.Sleep(time.Until(next))
		p.send(s.LocalAddr(), p.audio(i))
		next = next.Add(FrameDuration)
		if i%3 == 2 {
			age(10 * time.Millisecond)
			h.advance(3, nil) // the first of them reads the three
		}
	}
	if st := s.Stats(); st.PacketsReceived != 12 || s.RemoteAddr() != p.addr() {
		t.Fatalf("received %d from %v, want 12 from %v", st.PacketsReceived, s.RemoteAddr(), p.addr())
	}
	if j := s.Stats().Jitter; j > 4*time.Millisecond {
		t.Fatalf("jitter %v for packets sent at their pace, want < 4ms", j)
	}
}

// A session whose jitter buffer holds its target is asked for one datagram
// a tick while what it reads arrived within the last frame: a burst of fresh
// datagrams waits for the next tick (by then a frame old, and read at once);
// with the buffer short of its target (the start of a stream, a burst after
// a network stall) a tick reads everything queued.
func TestRingReadsFreshDatagramsOncePerTick(t *testing.T) {
	h, p, s := ringSession(t)
	received := func() uint64 { return s.Stats().PacketsReceived }
	burst := func(n int) {
		for i := range n {
			p.send(s.LocalAddr(), p.audio(i))
		}
	}

	// 120 ms of audio that waited over a frame: read in one tick.
	burst(6)
	age(FrameDuration + 5*time.Millisecond)
	h.advance(1, nil)
	if n := received(); n != 6 {
		t.Fatalf("a burst that waited a frame: %d read in its tick, want 6", n)
	}
	// The buffer now holds 100 ms, over its 40 ms target: of three fresh
	// datagrams the tick reads one, the next tick the other two. (If this
	// machine stalled for a frame before the tick, they were no longer
	// fresh: try again.)
	for try := 1; ; try++ {
		before := received()
		sent := time.Now()
		burst(3)
		h.advance(1, nil)
		fresh := time.Since(sent) < FrameDuration
		if n := received() - before; fresh && n != 1 {
			t.Fatalf("three fresh datagrams, buffer full: %d read in their tick, want 1", n)
		}
		age(FrameDuration + 5*time.Millisecond)
		h.advance(1, nil)
		if n := received() - before; n != 3 {
			t.Fatalf("three datagrams: %d read by the next tick, want 3", n)
		}
		if fresh {
			break
		}
		if try == 5 {
			t.Skip("five stalls of a frame in a row: cannot send a fresh datagram here")
		}
	}
	// Playout runs on through a network stall, the buffer empties: a fresh
	// burst is read in one tick.
	h.advance(20, nil)
	if s.jb.holdsTarget() {
		t.Fatalf("buffer holds %v after the stall, want less than its target", s.Stats().PlayoutDelay)
	}
	burst(3)
	h.advance(1, nil)
	before := received()
	burst(3)
	h.advance(1, nil)
	if n := received() - before; n != 3 {
		t.Fatalf("a fresh burst, buffer empty: %d read in its tick, want 3", n)
	}
}

func TestCaughtUp(t *testing.T) {
	for _, c := range []struct {
		age           time.Duration
		stamped, full bool
		want          bool
	}{
		{age: 5 * time.Millisecond, stamped: true, full: true, want: true},
		{age: -time.Millisecond, stamped: true, full: true, want: true}, // arrived after the tick began
		{age: FrameDuration - time.Nanosecond, stamped: true, full: true, want: true},
		{age: FrameDuration, stamped: true, full: true}, // waited a frame: maybe more behind it
		{age: 300 * time.Millisecond, stamped: true, full: true},
		{age: 5 * time.Millisecond, stamped: true}, // the buffer short of its target
		{age: 0, full: true}, // no arrival time
	} {
		if got := caughtUp(c.age, c.stamped, c.full); got != c.want {
			t.Errorf("caughtUp(%v, stamped %v, full %v) = %v, want %v", c.age, c.stamped, c.full, got, c.want)
		}
	}
}

// ringSession is a session of a one-shard harness that reads through the
// ring, talking with p, once the kernel stamps arrivals (or it skips).
func ringSession(t *testing.T) (*harness, *peer, *Session) {
	t.Helper()
	h := newHarness(t, func(c *EngineConfig) { c.Shards = 1 })
	if !h.e.shards[0].rx.batched() {
		t.Skip("no io_uring here")
	}
	p := newPeer(t)
	s := h.session()
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	waitForArrivalStamps(t)
	return h, p, s
}
