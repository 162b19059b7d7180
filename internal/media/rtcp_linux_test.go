//go:build linux && !386

package media

import (
	"net/netip"
	"runtime"
	"testing"
)

// On Linux the pacer drains a session's RTCP socket in one tick of every
// rtcpPollTicks, its own, and no goroutine waits on it.
func TestRTCPPolledInTheSessionsTick(t *testing.T) {
	h := newHarness(t)
	before := runtime.NumGoroutine()
	sessions := make([]*Session, 8)
	for i := range sessions {
		sessions[i] = h.session()
	}
	if n := runtime.NumGoroutine(); n != before {
		t.Fatalf("%d goroutines with 8 sessions, %d before: a session should start none", n, before)
	}

	s := sessions[3]
	p := newPeer(t)
	rr := []byte{0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	rtcpAddr := netip.AddrPortFrom(s.LocalAddr().Addr(), s.LocalAddr().Port()+1)
	p.send(rtcpAddr, rr)
	p.send(rtcpAddr, []byte("not rtcp"))

	// Loopback delivers a datagram within the send; allow one more round
	// should it not have.
	for range 2 * rtcpPollTicks {
		h.advance(1, nil)
		k := h.e.processed.Load()
		st := s.Stats()
		if st.RTCPReceived == 0 && st.PacketsIgnored == 0 {
			continue
		}
		if k%rtcpPollTicks != s.rtcpTick {
			t.Fatalf("RTCP read in tick %d; the session's ticks are %d mod %d", k, s.rtcpTick, rtcpPollTicks)
		}
		if st.RTCPReceived != 1 || st.PacketsIgnored != 1 {
			t.Fatalf("RTCP received %d, ignored %d; want 1 and 1", st.RTCPReceived, st.PacketsIgnored)
		}
		return
	}
	t.Fatalf("RTCP not read in %d ticks", 2*rtcpPollTicks)
}

// Sessions on neighbouring ports have their RTCP read in different ticks.
func TestRTCPTicksSpread(t *testing.T) {
	h := newHarness(t)
	seen := map[uint64]bool{}
	for range 10 {
		seen[h.session().rtcpTick] = true
	}
	if len(seen) != 10 {
		t.Fatalf("10 sessions share %d RTCP ticks", len(seen))
	}
}
