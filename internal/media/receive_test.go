package media

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

// codedFrame is a PCMU payload whose decoded samples identify frame id.
func codedFrame(id int) []byte { return bytes.Repeat([]byte{byte(0x80 + id%100)}, FrameSamples) }

// heardIDs maps the frames a sink got back to frame ids (-1 silence, -2 other).
func heardIDs(frames [][]int16) []int {
	ids := make([]int, len(frames))
	for i, f := range frames {
		ids[i] = -2
		if rms(f) == 0 {
			ids[i] = -1
			continue
		}
		for id := range 100 {
			v := g711.DecodeUlawSample(byte(0x80 + id))
			if slices.IndexFunc(f, func(x int16) bool { return x != v }) < 0 {
				ids[i] = id
				break
			}
		}
	}
	return ids
}

// voiced drops the silence of a list of heard ids.
func voiced(ids []int) []int {
	var out []int
	for _, id := range ids {
		if id != -1 {
			out = append(out, id)
		}
	}
	return out
}

func upTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// datagrams counts what a session did with the datagrams it got.
func datagrams(s *Session) uint64 {
	st := s.Stats()
	return st.PacketsReceived + st.PacketsIgnored + st.RTCPReceived + st.PacketsDuplicate
}

// rxHarness is a session with a sink, fed by a raw peer.
type rxHarness struct {
	*harness
	s    *Session
	rec  *recorder
	want uint64 // datagrams sent to s
}

func newRx(t *testing.T, remote netip.AddrPort, eventPT uint8) *rxHarness {
	h := newHarness(t)
	s := h.session()
	s.SetRemote(Remote{Addr: remote, Codec: PCMU, EventPT: eventPT, Direction: SendRecv})
	rec := &recorder{}
	s.SetSink(rec)
	return &rxHarness{harness: h, s: s, rec: rec}
}

// send delivers datagrams from p to the session and waits until it handled them.
func (r *rxHarness) send(p *peer, pkts ...[]byte) {
	r.t.Helper()
	for _, b := range pkts {
		p.send(r.s.LocalAddr(), b)
		r.want++
	}
	want := r.want
	waitUntil(r.t, func() bool { r.e.pollNow(); return datagrams(r.s) >= want }, "session to handle datagrams")
}

// tick advances one frame.
func (r *rxHarness) tick(n int) { r.advance(n, nil) }

// audio builds the next PCMU packet of p carrying frame id.
func (p *peer) audio(id int) []byte {
	b := rtpPacket(0, false, p.seq, p.ts, p.ssrc, codedFrame(id))
	p.seq++
	p.ts += frameTS
	return b
}

func TestReceiveInOrderReorderedDuplicatedLate(t *testing.T) {
	p := newPeer(t)
	r := newRx(t, p.addr(), 0)
	var pk [][]byte
	for i := range 40 {
		pk = append(pk, p.audio(i))
	}
	// 0-9 in order, 10-19 swapped in pairs, 20-29 each twice, 30 very late
	// (after 36), 31-39 in order.
	for i := range 10 {
		r.send(p, pk[i])
		r.tick(1)
	}
	for i := 10; i < 20; i += 2 {
		r.send(p, pk[i+1])
		r.tick(1)
		r.send(p, pk[i])
		r.tick(1)
	}
	for i := 20; i < 30; i++ {
		r.send(p, pk[i], pk[i])
		r.tick(1)
	}
	r.tick(1) // 30 is missing in its turn
	for i := 31; i < 40; i++ {
		r.send(p, pk[i])
		if i == 36 {
			r.send(p, pk[30]) // 120 ms after its time: too late for a 40 ms buffer? no: stretched
		}
		r.tick(1)
	}
	r.tick(5)
	got := voiced(heardIDs(r.rec.frames))
	st := r.s.Stats()
	if st.PacketsDuplicate != 10 {
		t.Errorf("duplicates = %d, want 10", st.PacketsDuplicate)
	}
	if st.PacketsLost != 0 {
		t.Errorf("lost = %d, want 0 (everything arrived)", st.PacketsLost)
	}
	if st.PacketsLate != 1 {
		t.Errorf("late = %d, want 1", st.PacketsLate)
	}
	want := append(upTo(30), 31, 32, 33, 34, 35, 36, 37, 38, 39)
	if !slices.Equal(got, want) {
		t.Fatalf("heard %v\nwant  %v", got, want)
	}
	// The one frame of silence is where 30 was.
	all := heardIDs(r.rec.frames)
	i := slices.Index(all, 29)
	if all[i+1] != -1 || all[i+2] != 31 {
		t.Fatalf("around the late frame heard %v", all[i:i+3])
	}
}

func TestReceiveSequenceAndTimestampWrap(t *testing.T) {
	p := newPeer(t)
	p.seq, p.ts = 65530, 1<<32-3*160
	r := newRx(t, p.addr(), 0)
	for i := range 20 {
		r.send(p, p.audio(i))
		r.tick(1)
	}
	r.tick(3)
	if got := voiced(heardIDs(r.rec.frames)); !slices.Equal(got, upTo(20)) {
		t.Fatalf("heard %v, want 0..19", got)
	}
	if _, _, n := voicedFrames(r.rec.frames, 1); n != 20 {
		t.Fatalf("%d voiced frames, want 20", n)
	}
	if st := r.s.Stats(); st.PacketsLost != 0 || st.PacketsLate != 0 || st.PacketsReceived != 20 {
		t.Fatalf("stats %+v", st)
	}
}

func TestReceiveSSRCChange(t *testing.T) {
	p := newPeer(t)
	r := newRx(t, p.addr(), 0)
	var oldStream [][]byte
	for i := range 20 {
		b := p.audio(i)
		oldStream = append(oldStream, b)
		r.send(p, b)
		r.tick(1)
	}
	// Another SSRC with unrelated sequence numbers and timestamps takes over
	// (a transfer behind an SBC); a straggler of the old stream follows.
	p.ssrc, p.seq, p.ts = p.ssrc+12345, p.seq+30000, p.ts+0x40000000
	for i := 20; i < 40; i++ {
		r.send(p, p.audio(i))
		if i == 21 {
			r.send(p, oldStream[19])
		}
		r.tick(1)
	}
	r.tick(3)
	all := heardIDs(r.rec.frames)
	first := slices.Index(all, 0)
	if got := all[first : first+40]; !slices.Equal(got, upTo(40)) {
		t.Fatalf("heard %v, want 0..39 without a gap", got)
	}
	st := r.s.Stats()
	if st.SSRCChanges != 1 || st.PacketsLost != 0 {
		t.Fatalf("stats %+v: want one SSRC change and nothing lost", st)
	}
}

func TestSymmetricRTPLatching(t *testing.T) {
	signalled, natted, intruder := newPeer(t), newPeer(t), newPeer(t)
	r := newRx(t, signalled.addr(), 0)
	sendsTo := func(want *peer) {
		t.Helper()
		r.tick(1)
		for _, q := range []*peer{signalled, natted, intruder} {
			_, _, ok := q.recv(20 * time.Millisecond)
			if ok != (q == want) {
				t.Fatalf("packet received by %v: %v; want only %v", q.addr(), ok, want.addr())
			}
		}
	}
	// Before any RTP arrives: the signalled address.
	sendsTo(signalled)
	if got := r.s.RemoteAddr(); got != signalled.addr() {
		t.Fatalf("RemoteAddr = %v, want %v", got, signalled.addr())
	}

	// The phone is behind a NAT: its RTP comes from elsewhere. Latch on it.
	r.send(natted, natted.audio(1))
	sendsTo(natted)

	// Someone else sprays RTP at the port: ignored, not heard.
	ignored := r.s.Stats().PacketsIgnored
	for range 3 {
		r.send(intruder, intruder.audio(66))
	}
	sendsTo(natted)
	if got := r.s.Stats().PacketsIgnored - ignored; got != 3 {
		t.Fatalf("%d intruder packets ignored, want 3", got)
	}

	// The remote comes back on its signalled address with a new SSRC: latch
	// there again; the old source is now ignored.
	r.send(signalled, signalled.audio(2))
	sendsTo(signalled)
	ignored = r.s.Stats().PacketsIgnored
	r.send(natted, natted.audio(3))
	sendsTo(signalled)
	if r.s.Stats().PacketsIgnored != ignored+1 {
		t.Fatal("packet from the old source after re-latching was not ignored")
	}
	r.tick(3)
	for _, id := range heardIDs(r.rec.frames) {
		if id == 66 || id == 3 {
			t.Fatalf("heard frame %d from an ignored source", id)
		}
	}

	// A re-INVITE with a new address drops the latch.
	moved := newPeer(t)
	r.s.SetRemote(Remote{Addr: moved.addr(), Codec: PCMU, Direction: SendRecv})
	r.tick(1)
	if _, _, ok := moved.recv(time.Second); !ok {
		t.Fatal("nothing sent to the new signalled address")
	}
}

func TestGarbageIsIgnoredAndHarmless(t *testing.T) {
	p := newPeer(t)
	r := newRx(t, p.addr(), 101)
	other := r.session()
	otherRec := &recorder{}
	other.SetSink(otherRec)
	other.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})

	valid := rtpPacket(0, false, 1, 1, 1, codedFrame(1))
	mut := func(f func(b []byte) []byte) []byte { return f(slices.Clone(valid)) }
	garbage := [][]byte{
		{},
		{0x80},
		valid[:11],
		mut(func(b []byte) []byte { b[0] = 0x00; return b }),                                    // version 0
		mut(func(b []byte) []byte { b[0] = 0x40; return b }),                                    // version 1
		mut(func(b []byte) []byte { b[0] = 0xc0; return b }),                                    // version 3
		mut(func(b []byte) []byte { b[0] = 0x8f; return b[:20] }),                               // 15 CSRCs, short
		mut(func(b []byte) []byte { b[0] = 0x90; b[14], b[15] = 0xff, 0xff; return b }),         // extension past the end
		mut(func(b []byte) []byte { b[0] = 0xa0; b[len(b)-1] = 0; return b }),                   // padding of 0
		mut(func(b []byte) []byte { b[0] = 0xa0; b[len(b)-1] = 255; return b }),                 // padding past the start
		mut(func(b []byte) []byte { b[1] = 99; return b }),                                      // unknown payload type
		mut(func(b []byte) []byte { b[1] = 101; return b[:14] }),                                // event too short
		{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, // STUN
	}
	rng := newRand(42)
	for range 200 {
		b := make([]byte, rng.IntN(200))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		garbage = append(garbage, b)
	}
	// RTCP multiplexed on the RTP port (RFC 5761): a receiver report.
	rr := []byte{0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	garbage = append(garbage, rr)
	r.send(p, garbage...)
	// And RTCP on the RTCP port.
	rtcpAddr := netip.AddrPortFrom(r.s.LocalAddr().Addr(), r.s.LocalAddr().Port()+1)
	p.send(rtcpAddr, rr)
	r.want++
	waitUntil(t, func() bool { return r.s.Stats().RTCPReceived >= 2 }, "rtcp to be counted")

	if r.s.Err() != nil {
		t.Fatalf("session ended: %v", r.s.Err())
	}
	// Audio still flows on the session that got the garbage.
	for i := range 10 {
		r.send(p, p.audio(i))
		r.tick(1)
	}
	// Random bytes that happen to be valid RTP from the remote's address are
	// audio (noise): allow for their playout before the frames sent after.
	r.tick(20)
	var got []int
	for _, id := range heardIDs(r.rec.frames) {
		if id >= 0 {
			got = append(got, id)
		}
	}
	if !slices.Equal(got, upTo(10)) {
		t.Fatalf("after garbage heard %v, want 0..9", got)
	}
	// The other session was not disturbed: it played silence on every tick.
	if n := otherRec.count(); n != len(r.rec.frames) {
		t.Fatalf("other session got %d frames, want %d", n, len(r.rec.frames))
	}
	if st := other.Stats(); st.PacketsReceived != 0 || st.PacketsIgnored != 0 {
		t.Fatalf("other session stats %+v", st)
	}
}
