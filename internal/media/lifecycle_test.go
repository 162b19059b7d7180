package media

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// advanceTo moves the fake clock to `at` after the engine start, in one step, and
// waits for the pacer to catch up.
func (h *harness) advanceTo(at time.Duration) {
	h.t.Helper()
	now := h.fake.Now().Sub(h.e.start)
	h.fake.Advance(at - now)
	want := uint64(at / FrameDuration)
	waitUntil(h.t, func() bool { return h.e.processed.Load() >= want }, "pacer to catch up")
	h.tick = want
}

func ended(s *Session) bool {
	select {
	case <-s.Done():
		return true
	default:
		return false
	}
}

func TestInactivityTimeout(t *testing.T) {
	h := newHarness(t)
	p := newPeer(t)
	s := h.session()
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	play := playAsync(s, context.Background(), &toneSource{frames: 1 << 20})

	h.advanceTo(DefaultInactivityTimeout - 2*FrameDuration)
	if ended(s) {
		t.Fatalf("ended before the timeout: %v", s.Err())
	}
	h.advanceTo(DefaultInactivityTimeout + 2*FrameDuration)
	waitUntil(t, func() bool { return ended(s) }, "session to end")
	if !errors.Is(s.Err(), ErrInactive) {
		t.Fatalf("Err = %v, want ErrInactive", s.Err())
	}
	if err := <-play; !errors.Is(err, ErrClosed) || !errors.Is(err, ErrInactive) {
		t.Fatalf("Play = %v, want ErrClosed and ErrInactive", err)
	}
	if _, ok := <-s.DTMF(); ok {
		t.Fatal("DTMF channel still open")
	}
	if n := h.e.ActiveSessions(); n != 0 {
		t.Fatalf("%d sessions still registered", n)
	}
	if n := h.e.ports.inUse(); n != 0 {
		t.Fatalf("%d port pairs still in use", n)
	}
}

func TestInactivityTimerRestartsWithRTPAndRemote(t *testing.T) {
	h := newHarness(t, func(c *EngineConfig) { c.InactivityTimeout = 10 * time.Second })
	p := newPeer(t)
	s := h.session()
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})

	// RTP every 8 s keeps it alive for 40 s.
	for at := 8 * time.Second; at <= 40*time.Second; at += 8 * time.Second {
		h.advanceTo(at)
		before := s.Stats().PacketsReceived
		p.send(s.LocalAddr(), p.audio(1))
		waitUntil(t, func() bool { h.e.pollNow(); return s.Stats().PacketsReceived > before }, "packet")
	}
	h.advanceTo(49 * time.Second)
	if ended(s) {
		t.Fatalf("ended %v", s.Err())
	}
	// A re-INVITE restarts the timer too.
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	h.advanceTo(58 * time.Second)
	if ended(s) {
		t.Fatalf("ended %v", s.Err())
	}
	h.advanceTo(60 * time.Second)
	waitUntil(t, func() bool { return ended(s) }, "session to end")
}

func TestNoInactivityTimeoutOnHoldOrWhenDisabled(t *testing.T) {
	for _, d := range []Direction{SendOnly, RecvOnly, Inactive} {
		t.Run(d.String(), func(t *testing.T) {
			h := newHarness(t)
			p := newPeer(t)
			s := h.session()
			s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: d})
			h.advanceTo(5 * time.Minute)
			if ended(s) {
				t.Fatalf("ended on hold: %v", s.Err())
			}
			// Off hold, the timer starts from the re-INVITE.
			s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
			h.advanceTo(5*time.Minute + 59*time.Second)
			if ended(s) {
				t.Fatalf("ended %v after unhold", s.Err())
			}
			h.advanceTo(6*time.Minute + time.Second)
			waitUntil(t, func() bool { return ended(s) }, "session to end after unhold")
		})
	}
	t.Run("disabled", func(t *testing.T) {
		h := newHarness(t, func(c *EngineConfig) { c.InactivityTimeout = -1 })
		s := h.session()
		s.SetRemote(Remote{Addr: newPeer(t).addr(), Codec: PCMU, Direction: SendRecv})
		h.advanceTo(10 * time.Minute)
		if ended(s) {
			t.Fatalf("ended with the timeout disabled: %v", s.Err())
		}
	})
}

func TestHoldStopsAndResumesSending(t *testing.T) {
	h := newHarness(t)
	p := newPeer(t)
	s := h.session()
	count := func(n int) []header {
		t.Helper()
		h.advance(n, nil)
		var out []header
		for _, b := range p.drain(30 * time.Millisecond) {
			out = append(out, parse(t, b))
		}
		return out
	}
	if got := count(3); len(got) != 0 {
		t.Fatalf("%d packets sent before SetRemote", len(got))
	}
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	before := count(5)
	if len(before) != 5 {
		t.Fatalf("%d packets in 5 ticks", len(before))
	}
	for _, d := range []Direction{RecvOnly, Inactive} {
		s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: d})
		if got := count(10); len(got) != 0 {
			t.Fatalf("%v: %d packets sent", d, len(got))
		}
	}
	// RFC 2543 hold: c=0.0.0.0.
	s.SetRemote(Remote{Addr: netip.MustParseAddrPort("0.0.0.0:4000"), Codec: PCMU, Direction: SendRecv})
	if got := count(5); len(got) != 0 {
		t.Fatalf("c=0.0.0.0: %d packets sent", len(got))
	}
	// Switchboard holds the remote and plays it music: SendOnly sends.
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendOnly})
	after := count(5)
	if len(after) != 5 {
		t.Fatalf("sendonly: %d packets in 5 ticks", len(after))
	}
	if !after[0].marker {
		t.Fatal("no marker bit when sending resumed")
	}
	last := before[len(before)-1]
	if after[0].seq != last.seq+1 {
		t.Fatalf("sequence %d after %d: want no gap (RFC 3550 counts sent packets)", after[0].seq, last.seq)
	}
	if gap := after[0].ts - last.ts; gap != 26*frameTS {
		t.Fatalf("timestamp advanced %d over the hold, want %d (the time that passed)", gap, 26*frameTS)
	}
}

func TestPortAllocation(t *testing.T) {
	lo, _ := testPortRange(1)
	h := newHarness(t, func(c *EngineConfig) { c.PortMin, c.PortMax = lo-1, lo+3 }) // odd start rounds up
	a, b := h.session(), h.session()
	if a.LocalAddr().Port() != uint16(lo) || b.LocalAddr().Port() != uint16(lo+2) {
		t.Fatalf("ports %v %v, want %d and %d", a.LocalAddr(), b.LocalAddr(), lo, lo+2)
	}
	// RTCP ports are held too.
	if c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: lo + 1}); err == nil {
		c.Close()
		t.Fatal("rtcp port is not bound")
	}
	if _, err := h.e.NewSession(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("third session: %v, want ErrNoPorts", err)
	}
	a.Close()
	c, err := h.e.NewSession()
	if err != nil {
		t.Fatalf("after a close: %v", err)
	}
	defer c.Close()
	if c.LocalAddr().Port() != uint16(lo) {
		t.Fatalf("reused port %v, want %d", c.LocalAddr(), lo)
	}
}

func TestPortAllocationSkipsPortsInUse(t *testing.T) {
	lo, _ := testPortRange(1)
	squatter, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: lo + 1})
	if err != nil {
		t.Skipf("cannot bind %d: %v", lo+1, err)
	}
	defer squatter.Close()
	h := newHarness(t, func(c *EngineConfig) { c.PortMin, c.PortMax = lo, lo+3 })
	s := h.session()
	if s.LocalAddr().Port() != uint16(lo+2) {
		t.Fatalf("port %v, want %d (the pair below has its RTCP port taken)", s.LocalAddr(), lo+2)
	}
	if _, err := h.e.NewSession(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("got %v, want ErrNoPorts", err)
	}
}

func TestNewEngineConfig(t *testing.T) {
	for _, cfg := range []EngineConfig{
		{},
		{IP: netip.IPv4Unspecified()},
		{IP: loopback, PortMin: 5000, PortMax: 5000},
		{IP: loopback, PortMin: 6000, PortMax: 5000},
		{IP: loopback, PortMin: 60000, PortMax: 70000},
	} {
		if e, err := NewEngine(cfg); !errors.Is(err, ErrBadConfig) {
			if e != nil {
				e.Close()
			}
			t.Errorf("NewEngine(%+v) = %v, want ErrBadConfig", cfg, err)
		}
	}
	e, err := NewEngine(EngineConfig{IP: loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.cfg.PortMin != DefaultPortMin || e.cfg.PortMax != DefaultPortMax || e.cfg.InactivityTimeout != DefaultInactivityTimeout {
		t.Fatalf("defaults not applied: %+v", e.cfg)
	}
}

func TestEngineCloseEndsSessions(t *testing.T) {
	h := newHarness(t)
	a, b := h.session(), h.session()
	if err := h.e.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Session{a, b} {
		if !ended(s) || !errors.Is(s.Err(), ErrClosed) {
			t.Fatalf("session not closed: %v", s.Err())
		}
	}
	if _, err := h.e.NewSession(); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewSession after Close = %v", err)
	}
	if err := h.e.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestSinkAttachDetachAndError(t *testing.T) {
	h := newHarness(t)
	s := h.session()
	var calls atomic.Int64
	s.SetSink(SinkFunc(func([]int16) error { calls.Add(1); return nil }))
	h.advance(4, nil)
	if calls.Load() != 4 {
		t.Fatalf("sink called %d times in 4 ticks", calls.Load())
	}
	s.SetSink(nil)
	h.advance(4, nil)
	if calls.Load() != 4 {
		t.Fatal("detached sink still called")
	}
	var failing atomic.Int64
	s.SetSink(SinkFunc(func([]int16) error { failing.Add(1); return errors.New("disk full") }))
	h.advance(4, nil)
	if failing.Load() != 1 {
		t.Fatalf("failing sink called %d times, want once", failing.Load())
	}
}

func TestPlaySourceError(t *testing.T) {
	h := newHarness(t)
	s := h.session()
	boom := errors.New("decoder broke")
	n := 0
	src := SourceFunc(func(f []int16) error {
		if n++; n > 3 {
			return boom
		}
		return nil
	})
	done := playAsync(s, context.Background(), src)
	waitUntil(t, func() bool { s.playMu.Lock(); defer s.playMu.Unlock(); return s.play != nil }, "play")
	h.advance(5, nil)
	if err := <-done; !errors.Is(err, boom) {
		t.Fatalf("Play = %v, want the source's error", err)
	}
	if err := s.Play(context.Background(), nil); err != nil {
		t.Fatalf("Play(nil) = %v", err)
	}
}

func TestDirectionString(t *testing.T) {
	for d, want := range map[Direction]string{SendRecv: "sendrecv", SendOnly: "sendonly", RecvOnly: "recvonly", Inactive: "inactive", 9: "direction(9)"} {
		if got := d.String(); got != want {
			t.Errorf("%d: %q, want %q", int(d), got, want)
		}
	}
}
