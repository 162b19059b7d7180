package media

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

type header struct {
	pt     uint8
	marker bool
	seq    uint16
	ts     uint32
	ssrc   uint32
	size   int
}

func parse(t *testing.T, b []byte) header {
	t.Helper()
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		t.Fatalf("unmarshal sent packet: %v", err)
	}
	if p.Version != 2 {
		t.Fatalf("sent version %d", p.Version)
	}
	return header{p.PayloadType, p.Marker, p.SequenceNumber, p.Timestamp, p.SSRC, len(p.Payload)}
}

// sentPackets advances the fake clock n ticks and returns what the peer received.
func sentPackets(t *testing.T, h *harness, p *peer, n int) []header {
	t.Helper()
	var out []header
	for range n {
		h.advance(1, nil)
	}
	for _, b := range p.drain(50 * time.Millisecond) {
		out = append(out, parse(t, b))
	}
	return out
}

func TestPacingNTicksGiveNPacketsWithExactTimestamps(t *testing.T) {
	h := newHarness(t)
	s := h.session()
	p := newPeer(t)
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMA, Direction: SendRecv})

	const n = 200
	got := sentPackets(t, h, p, n)
	if len(got) != n {
		t.Fatalf("%d ticks sent %d packets, want %d", n, len(got), n)
	}
	for i, hd := range got {
		if hd.pt != PCMA.PayloadType || hd.size != FrameSamples || hd.ssrc != got[0].ssrc {
			t.Fatalf("packet %d: %+v", i, hd)
		}
		if hd.marker != (i == 0) {
			t.Fatalf("packet %d marker=%v; want the marker on the first packet only", i, hd.marker)
		}
		if i > 0 {
			if hd.seq != got[i-1].seq+1 {
				t.Fatalf("packet %d seq %d after %d", i, hd.seq, got[i-1].seq)
			}
			if hd.ts != got[i-1].ts+frameTS {
				t.Fatalf("packet %d timestamp %d after %d: want +160", i, hd.ts, got[i-1].ts)
			}
		}
	}
	if st := s.Stats(); st.PacketsSent != n || st.BytesSent != n*uint64(FrameSamples) {
		t.Fatalf("stats %+v, want %d packets of 160 bytes", st, n)
	}
}

func TestPacingIrregularTicksDoNotDrift(t *testing.T) {
	h := newHarness(t)
	s := h.session()
	p := newPeer(t)
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})

	// Advance in uneven steps totalling 3 s: exactly 150 frames are due.
	steps := []time.Duration{7, 33, 20, 1, 59, 19, 41, 20, 0, 60}
	var total time.Duration
	for total < 3*time.Second {
		for _, d := range steps {
			d *= time.Millisecond
			if total+d > 3*time.Second {
				d = 3*time.Second - total
			}
			total += d
			h.fake.Advance(d)
			want := uint64(total / FrameDuration)
			waitUntil(t, func() bool { return h.e.processed.Load() >= want }, "pacer")
		}
	}
	got := p.drain(50 * time.Millisecond)
	if len(got) != 150 {
		t.Fatalf("3 s of uneven ticks sent %d packets, want 150", len(got))
	}
	first, last := parse(t, got[0]), parse(t, got[len(got)-1])
	if d := last.ts - first.ts; d != 149*frameTS {
		t.Fatalf("timestamps span %d samples, want %d", d, 149*FrameSamples)
	}
}

func TestPacerCatchesUpThenSkipsAfterStall(t *testing.T) {
	h := newHarness(t)
	s := h.session()
	p := newPeer(t)
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	h.advance(1, nil)
	start := parse(t, p.collect(1)[0])

	// A 60 ms stall: the three due frames go out back to back.
	h.fake.Advance(3 * FrameDuration)
	waitUntil(t, func() bool { return h.e.processed.Load() >= 4 }, "pacer")
	burst := p.collect(3)
	for i, b := range burst {
		hd := parse(t, b)
		if want := start.ts + uint32(i+1)*frameTS; hd.ts != want || hd.marker {
			t.Fatalf("catch-up packet %d: ts %d marker %v, want ts %d without marker", i, hd.ts, hd.marker, want)
		}
	}

	// A 1 s stall: only the last maxCatchUp frames are sent; the timestamp still
	// tells the true time and the marker bit flags the gap.
	h.fake.Advance(time.Second)
	waitUntil(t, func() bool { return h.e.processed.Load() >= 54 }, "pacer")
	after := p.drain(50 * time.Millisecond)
	if len(after) != maxCatchUp {
		t.Fatalf("after a 1 s stall %d packets, want %d", len(after), maxCatchUp)
	}
	lastTS := parse(t, after[len(after)-1]).ts
	if want := start.ts + 53*frameTS; lastTS != want {
		t.Fatalf("last timestamp %d, want %d (53 frames after the first)", lastTS, want)
	}
	if !parse(t, after[0]).marker {
		t.Fatal("first packet after dropped ticks has no marker bit")
	}
	if h.e.skipped.Load() != 50-maxCatchUp {
		t.Fatalf("skipped %d ticks, want %d", h.e.skipped.Load(), 50-maxCatchUp)
	}
}

func TestRealClockPacing(t *testing.T) {
	h := newRealHarness(t)
	s := h.session()
	p := newPeer(t)
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	first := parse(t, p.collect(1)[0])
	start := time.Now()
	pk := p.collect(25)
	elapsed := time.Since(start)
	last := parse(t, pk[len(pk)-1])
	if last.ts-first.ts != 25*frameTS {
		t.Fatalf("timestamps advanced %d over 25 packets", last.ts-first.ts)
	}
	// 25 frames are 500 ms of audio; allow for a loaded machine.
	if elapsed < 400*time.Millisecond || elapsed > 900*time.Millisecond {
		t.Fatalf("25 packets took %v, want about 500 ms", elapsed)
	}
}
