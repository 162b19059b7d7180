package media

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// loopSource plays a precomputed second of 1 kHz tone forever, without
// allocating.
type loopSource struct {
	pcm []int16
	pos int
}

// loopTone is one period-aligned 20 ms of 1 kHz tone (20 periods), shared by
// every loopSource as a looped WAV's samples would be.
var loopTone = func() []int16 {
	pcm := make([]int16, FrameSamples)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/SampleRate))
	}
	return pcm
}()

func newLoopSource() *loopSource { return &loopSource{pcm: loopTone} }

func (l *loopSource) ReadFrame(f []int16) error {
	for n := 0; n < len(f); {
		c := copy(f[n:], l.pcm[l.pos:])
		n += c
		if l.pos += c; l.pos == len(l.pcm) {
			l.pos = 0
		}
	}
	return nil
}

// idleEngine is an engine whose pacer never ticks (its fake clock is never
// advanced), so that a benchmark can drive sessions itself.
func idleEngine(tb testing.TB, pairs int) *Engine { return idleShardedEngine(tb, pairs, 0) }

// idleShardedEngine is idleEngine with that many shards (0: GOMAXPROCS).
func idleShardedEngine(tb testing.TB, pairs, shards int) *Engine {
	tb.Helper()
	lo := 20000 + 2*int(time.Now().UnixNano()%7000)
	e, err := NewEngine(EngineConfig{IP: loopback, PortMin: lo, PortMax: lo + 4*pairs + 200, Clock: clock.NewFake(time.Unix(0, 0)), InactivityTimeout: -1, Shards: shards})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

func sendingSession(tb testing.TB, e *Engine, to netip.AddrPort) *Session {
	tb.Helper()
	s, err := e.NewSession()
	if err != nil {
		tb.Fatal(err)
	}
	s.SetRemote(Remote{Addr: to, Codec: PCMU, EventPT: 101, Direction: SendRecv})
	s.play = &playback{src: newLoopSource(), done: make(chan struct{})}
	s.SetSink(SinkFunc(func([]int16) error { return nil }))
	return s
}

// BenchmarkSessionTick is the pacer's work for one session in one tick: playout
// of a frame to a sink, a frame from a source, G.711 encoding, the RTP header and
// the sendto system call.
func BenchmarkSessionTick(b *testing.B) {
	e := idleEngine(b, 1)
	p := newPeer(&testing.T{})
	defer p.conn.Close()
	s := sendingSession(b, e, p.addr())
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.receiveTick(uint64(i) + 1)
		s.sendTick()
	}
}

// packetStream returns a function giving the next of a stream of PCMU packets,
// rewriting one buffer in place.
func packetStream() func() []byte {
	buf := rtpPacket(0, false, 0, 0, 0x1234, codedFrame(7))
	var seq uint16
	var ts uint32
	return func() []byte {
		binary.BigEndian.PutUint16(buf[2:], seq)
		binary.BigEndian.PutUint32(buf[4:], ts)
		seq++
		ts += frameTS
		return buf
	}
}

// BenchmarkReceivePath is the work for one received packet: validation, RTP
// parsing, symmetric-RTP and SSRC checks, sequence statistics, G.711 decoding,
// the jitter buffer, and the playout of one frame.
func BenchmarkReceivePath(b *testing.B) {
	s := socketlessSession()
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	s.SetRemote(Remote{Addr: from, Codec: PCMU, EventPT: 101, Direction: SendRecv})
	next := packetStream()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.handleRTP(next(), from)
		s.receiveTick(uint64(i) + 1)
	}
}

func BenchmarkJitterBuffer(b *testing.B) {
	var jb JitterBuffer
	frame := make([]int16, FrameSamples)
	out := make([]int16, FrameSamples)
	b.ReportAllocs()
	for i := range b.N {
		jb.Push(uint32(i)*frameTS, frame, false)
		jb.Pop(out)
	}
}

// pairedEngine is an idle engine with n sessions that send each other a tone
// in pairs.
func pairedEngine(tb testing.TB, n int) (*Engine, []*Session) { return pairedShardedEngine(tb, n, 0) }

// pairedShardedEngine is pairedEngine with that many shards (0: GOMAXPROCS):
// the two sessions of a pair are on different shards.
func pairedShardedEngine(tb testing.TB, n, shards int) (*Engine, []*Session) {
	tb.Helper()
	e := idleShardedEngine(tb, n/2, shards)
	var ss []*Session
	for range n {
		s, err := e.NewSession()
		if err != nil {
			tb.Fatal(err)
		}
		ss = append(ss, s)
	}
	for i := 0; i < n; i += 2 {
		for _, pair := range [][2]*Session{{ss[i], ss[i+1]}, {ss[i+1], ss[i]}} {
			pair[0].SetRemote(Remote{Addr: pair[1].LocalAddr(), Codec: PCMU, Direction: SendRecv})
			pair[0].play = &playback{src: newLoopSource(), done: make(chan struct{})}
		}
	}
	return e, ss
}

// BenchmarkEngineTick1000 is one pacer tick over 1,000 sessions that send to
// each other in pairs: on Linux the tick also reads what each received.
func BenchmarkEngineTick1000(b *testing.B) {
	const n = 1000
	e, _ := pairedEngine(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		e.service(uint64(i) + 1)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/session")
}

// energyTap is a Tap that does a little work with what it gets, as a level
// meter would.
type energyTap struct{ in, out uint64 }

func (t *energyTap) TapIn(f []int16)  { t.in += energy(f) }
func (t *energyTap) TapOut(f []int16) { t.out += energy(f) }

func energy(f []int16) uint64 {
	var e uint64
	for _, v := range f {
		e += uint64(int64(v) * int64(v))
	}
	return e
}

// tappedEngine is pairedEngine with a tap on every session and a tick hook.
func tappedEngine(tb testing.TB, n int) *Engine {
	e, ss := pairedEngine(tb, n)
	for _, s := range ss {
		s.AddTap(&energyTap{})
	}
	var ticks uint64
	e.AddTickHook(func(uint64) { ticks++ })
	return e
}

// BenchmarkEngineTickTaps is BenchmarkEngineTick1000 and smaller ticks with
// a Tap on every session and one tick hook.
func BenchmarkEngineTickTaps(b *testing.B) {
	for _, n := range []int{2, 100, 1000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			e := tappedEngine(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				e.service(uint64(i) + 1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/session")
		})
	}
}

// nopTap does nothing (not zero-sized: each one has its own address, so that
// AddTap does not take two for the same).
type nopTap struct{ _ byte }

func (*nopTap) TapIn([]int16)  {}
func (*nopTap) TapOut([]int16) {}

// BenchmarkTapOverhead is what taps add to a tick of a session without
// sockets (no system calls): with none, an atomic load.
func BenchmarkTapOverhead(b *testing.B) {
	for _, n := range []int{0, 1, 4} {
		b.Run(fmt.Sprintf("taps=%d", n), func(b *testing.B) {
			s := socketlessSession()
			for range n {
				s.AddTap(&nopTap{})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				s.receiveTick(uint64(i) + 1)
				s.sendTick()
			}
		})
	}
}

func TestTapsAndHooksDoNotAllocate(t *testing.T) {
	e := tappedEngine(t, 4)
	k := uint64(0)
	if n := testing.AllocsPerRun(200, func() {
		k++
		e.service(k)
	}); n != 0 {
		t.Errorf("a tick with taps and a hook allocates %v times", n)
	}
}

func TestHotPathsDoNotAllocate(t *testing.T) {
	e := idleEngine(t, 1)
	p := newPeer(t)
	s := sendingSession(t, e, p.addr())
	k := uint64(0)
	if n := testing.AllocsPerRun(200, func() {
		k++
		s.receiveTick(k)
		s.sendTick()
	}); n != 0 {
		t.Errorf("send tick allocates %v times", n)
	}

	r := socketlessSession()
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	r.SetRemote(Remote{Addr: from, Codec: PCMA, EventPT: 101, Direction: SendRecv})
	next := packetStream()
	k = 0
	if n := testing.AllocsPerRun(200, func() {
		k++
		r.handleRTP(next(), from)
		r.receiveTick(k)
	}); n != 0 {
		t.Errorf("receive path allocates %v times", n)
	}
	ev := rtpPacket(101, false, 1, 1, 1, []byte{1, 0x0a, 0, 160})
	if n := testing.AllocsPerRun(200, func() { r.handleRTP(ev, from) }); n != 0 {
		t.Errorf("event receive path allocates %v times", n)
	}
}

// BenchmarkSessionChurn is a call's media session from NewSession to Close,
// 2,000 of them a second by the allocator's clock: with the sockets of ended
// sessions kept for reuse (ports.go), and with none kept (every session binds
// and closes its pair).
func BenchmarkSessionChurn(b *testing.B) {
	for _, keep := range []bool{true, false} {
		b.Run(fmt.Sprintf("keep=%v", keep), func(b *testing.B) {
			e := idleEngine(b, 1200) // 2,500 pairs: a second of sessions kept, and more
			now := time.Unix(0, 0)
			e.ports.now = func() time.Time { return now } // only this goroutine acquires and keeps
			if !keep {
				e.ports.keepMax = 0
			}
			remote := netip.AddrPortFrom(loopback, 9)
			b.ReportAllocs()
			for b.Loop() {
				s, err := e.NewSession()
				if err != nil {
					b.Fatal(err)
				}
				s.SetRemote(Remote{Addr: remote, Codec: PCMU, Direction: SendRecv})
				s.Close()
				now = now.Add(time.Second / 2000)
			}
		})
	}
}
