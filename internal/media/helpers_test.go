package media

import (
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var loopback = netip.MustParseAddr("127.0.0.1")

// testPortRange returns a private port range for one engine. Tests of other
// packages may run at the same time; the allocator skips ports in use anyway.
func testPortRange(pairs int) (int, int) {
	lo := 20000 + 2*rand.IntN(15000)
	return lo, lo + 2*pairs - 1
}

type harness struct {
	t    *testing.T
	e    *Engine
	fake *clock.Fake // nil with the real clock
	mu   sync.Mutex
	tick uint64
}

type harnessOpt func(*EngineConfig)

// newHarness starts an engine on a fake clock.
func newHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	h := &harness{t: t, fake: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	lo, hi := testPortRange(64)
	cfg := EngineConfig{IP: loopback, PortMin: lo, PortMax: hi, Clock: h.fake}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := newEngine(cfg, nil)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	h.e = e
	t.Cleanup(func() { e.Close() })
	return h
}

// newRealHarness starts an engine on the real clock.
func newRealHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	lo, hi := testPortRange(64)
	cfg := EngineConfig{IP: loopback, PortMin: lo, PortMax: hi}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return &harness{t: t, e: e}
}

func (h *harness) session() *Session {
	h.t.Helper()
	s, err := h.e.NewSession()
	if err != nil {
		h.t.Fatalf("NewSession: %v", err)
	}
	h.t.Cleanup(func() { s.Close() })
	return s
}

// advance moves the fake clock by n ticks, one at a time, waiting after each
// until the pacer has serviced it and until `settle` holds (packets in flight
// have arrived).
func (h *harness) advance(n int, settle func() bool) {
	h.t.Helper()
	for range n {
		h.fake.Advance(FrameDuration)
		h.tick++
		want := h.tick
		waitUntil(h.t, func() bool { return h.e.processed.Load() >= want }, "pacer to service tick")
		if settle != nil {
			waitUntil(h.t, settle, "packets to arrive")
		}
	}
}

// waitUntil polls cond for up to 5 s.
func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// delivered reports whether every packet each sender sent has been received or
// ignored by its peer.
// The pacer reads the sockets at ticks: it is asked to read them now.
func delivered(pairs ...[2]*Session) func() bool {
	return func() bool {
		for _, p := range pairs {
			p[1].e.pollNow()
		}
		for _, p := range pairs {
			tx, rx := p[0].Stats(), p[1].Stats()
			if rx.PacketsReceived+rx.PacketsIgnored < tx.PacketsSent {
				return false
			}
		}
		return true
	}
}

// connect points a and b at each other.
func connect(a, b *Session, codec Codec, eventPT uint8) {
	a.SetRemote(Remote{Addr: b.LocalAddr(), Codec: codec, EventPT: eventPT, Direction: SendRecv})
	b.SetRemote(Remote{Addr: a.LocalAddr(), Codec: codec, EventPT: eventPT, Direction: SendRecv})
}

// toneSource plays a sine for a number of frames.
type toneSource struct {
	freq, amp float64
	frames    int
	n         int // samples produced
}

func (s *toneSource) ReadFrame(frame []int16) error {
	if s.n >= s.frames*FrameSamples {
		return io.EOF
	}
	for i := range frame {
		frame[i] = int16(s.amp * math.Sin(2*math.Pi*s.freq*float64(s.n)/SampleRate))
		s.n++
	}
	return nil
}

// recorder is a Sink that keeps every frame.
type recorder struct {
	mu     sync.Mutex
	frames [][]int16
}

func (r *recorder) WriteFrame(f []int16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, append([]int16(nil), f...))
	return nil
}

func (r *recorder) samples() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int16
	for _, f := range r.frames {
		out = append(out, f...)
	}
	return out
}

// samplesByFrame returns a copy of the frames kept so far.
func (r *recorder) samplesByFrame() [][]int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]int16(nil), r.frames...)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.frames)
}

// goertzel returns the power of freq in x (the Goertzel algorithm: one DFT bin),
// normalised so that a sine of amplitude A at freq gives about A².
func goertzel(x []int16, freq float64) float64 {
	w := 2 * math.Pi * freq / SampleRate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	n := float64(len(x))
	return p / (n * n / 4) // a sine of amplitude A gives A²
}

// rms returns the root mean square of x.
func rms(x []int16) float64 {
	if len(x) == 0 {
		return 0
	}
	var sum float64
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(x)))
}

// voicedFrames returns the indexes of the first and last frame whose RMS is above
// threshold, and how many frames are.
func voicedFrames(frames [][]int16, threshold float64) (first, last, n int) {
	first, last = -1, -1
	for i, f := range frames {
		if rms(f) > threshold {
			if first < 0 {
				first = i
			}
			last = i
			n++
		}
	}
	return first, last, n
}

// peer is a raw UDP socket standing in for a remote endpoint.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
	ssrc uint32
	seq  uint16
	ts   uint32
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, conn: c, ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32()}
}

func (p *peer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *peer) send(to netip.AddrPort, b []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// rtpPacket builds an RTP packet.
func rtpPacket(pt uint8, marker bool, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, 12+len(payload))
	b[0] = 0x80
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	copy(b[12:], payload)
	return b
}

// recv reads one datagram with a timeout; ok is false on timeout.
func (p *peer) recv(timeout time.Duration) ([]byte, netip.AddrPort, bool) {
	p.t.Helper()
	buf := make([]byte, 2048)
	p.conn.SetReadDeadline(time.Now().Add(timeout))
	n, from, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil, netip.AddrPort{}, false
	}
	return buf[:n], from, true
}

// drain reads every datagram that arrives within `quiet` of the previous one.
func (p *peer) drain(quiet time.Duration) [][]byte {
	var out [][]byte
	for {
		b, _, ok := p.recv(quiet)
		if !ok {
			return out
		}
		out = append(out, b)
	}
}

// collect reads exactly n datagrams or fails.
func (p *peer) collect(n int) [][]byte {
	p.t.Helper()
	out := make([][]byte, 0, n)
	for len(out) < n {
		b, _, ok := p.recv(5 * time.Second)
		if !ok {
			p.t.Fatalf("got %d datagrams, want %d", len(out), n)
		}
		out = append(out, b)
	}
	return out
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

func sqrt(x float64) float64 { return math.Sqrt(x) }

// age lets the datagrams queued on the sockets grow d older. The kernel
// stamps their arrival on the real clock, which neither the harness's fake
// clock nor synctest moves: only real time passing ages them.
func age(d time.Duration) { time.Sleep(d) }
