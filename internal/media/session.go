package media

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

// Remote is what the SDP offer/answer says about the far end of a session.
type Remote struct {
	// Addr is the connection address and port of the remote's m=audio line.
	// RTP is sent there until packets arrive; from then on it is sent to where
	// they come from (symmetric RTP, RFC 4961). An unspecified address (the
	// c=0.0.0.0 of RFC 2543 hold) or port 0 (a rejected stream) sends nothing.
	Addr netip.AddrPort
	// Codec is the audio codec to send: PCMU or PCMA (the zero Codec is PCMU).
	// Both are always decoded on receipt, whatever was negotiated.
	Codec Codec
	// EventPT is the payload type of telephone-event/8000 (RFC 4733 §7.1.1),
	// taken from the offer; 0 means not negotiated: SendDTMF then sends
	// in-band tones and received events are ignored.
	EventPT uint8
	// Direction is the negotiated direction from switchboard's side.
	Direction Direction
}

// Sizes: RTP datagrams are read into an Ethernet MTU (a longer one is truncated
// and its padding check fails). Received audio is decoded in chunks of
// decodeChunk samples.
const (
	maxDatagram = 1500
	headerSize  = 12
	dtmfQueue   = 32
	decodeChunk = 2 * FrameSamples
)

// rtcpPollTicks is how often the pacer drains a session's RTCP socket: every
// 50 ticks (a second), each session in its own tick of the fifty. RTCP comes
// every few seconds if at all and is only counted, so a second's wait costs
// nothing, and the socket needs neither a goroutine nor the runtime's poller.
const rtcpPollTicks = 50

// A Session is one RTP media stream (RFC 3550) of one call leg: a UDP port pair,
// an RTP sender paced by the engine, a receiver with a jitter buffer, RFC 4733
// events both ways. Its audio consumer and producer (Sink, Source) can change
// over the call without touching the socket.
type Session struct {
	// The fields the pacer touches on every tick come first and together,
	// then the jitter buffer (its ring last), then what only the API uses:
	// with thousands of sessions, a session's working set per tick is a few
	// cache lines (the frames themselves go through the engine's scratch
	// buffers).
	e      *Engine
	sh     atomic.Pointer[shard] // the pacer shard servicing it; see Group.Adopt
	polled datagramAgeHandler    // s.handlePolled, bound once
	emit   func(DTMF)

	// mu guards the fields below: signalling state and the receive side, shared
	// by the socket reader, the pacer and API calls.
	mu           sync.Mutex
	err          error // why the session ended; nil while live
	remote       Remote
	hasRemote    bool
	haveAudio    bool
	latched      netip.AddrPort // where RTP comes from; invalid until the first packet
	lastActivity uint64         // pacer tick of the last RTP received, or of SetRemote
	rxPackets    uint64
	rxBytes      uint64
	audioSSRC    uint32
	prevSSRC     uint32 // the audio SSRC before the last change
	eventSSRC    uint32
	dtmfJob      *dtmfJob

	// Pacer-only state.
	tx txState

	// playMu guards play; the pacer holds it while reading the source, so that
	// once Play returns the source is not touched again.
	playMu sync.Mutex
	play   *playback

	// sinkMu guards sink; the pacer holds it while writing a frame, so that
	// once SetSink returns the old sink receives nothing more.
	sinkMu sync.Mutex
	sink   Sink

	// taps is the session's taps, copied on write (nil for none); tapMu
	// serializes AddTap and RemoveTap and is held by the pacer while it calls
	// the taps, so that once RemoveTap returns the tap is not called again
	// (see taps.go).
	tapMu sync.Mutex
	taps  atomic.Pointer[[]Tap]

	sentPackets, sentBytes atomic.Uint64

	// The RTP socket: the pacer reads it holding mu while the session is live
	// (Close marks it ended before closing the socket) and sends on it
	// holding sockMu; Close closes it holding sockMu. (Not playMu: a Source
	// may Close its session from ReadFrame.) The RTCP socket is read the
	// same way (in receiveTick, once every rtcpPollTicks), never sent on,
	// and closed by Close.
	sockMu sync.Mutex
	sock   rtpSocket
	rtcp   rtpSocket

	// Guarded by mu, like the fields above.
	seq         seqStats
	pkt         rtp.Packet // parse target, reused
	dtmfRx      dtmfReceiver
	late        uint64
	duplicates  uint64
	ssrcChanges uint64
	lostBefore  int64      // packets lost by earlier SSRCs
	rxIdle      int        // ticks in a row whose read of the socket found nothing, up to idleReadTicks
	parked      bool       // idle and registered with its shard's idleWatch: read only once reported
	idleIn      *idleWatch // the idleWatch its socket is registered with, if any (parking there again is EPOLL_CTL_MOD)
	// The read of tick rxPre done by the shard's readBatch (preRead): due or
	// not, and how many datagrams it got.
	rxPre    uint64
	rxPreDue bool
	rxPreGot int
	events   []TelephoneEvent
	jb       JitterBuffer // its ring last

	sendErrors  atomic.Uint64
	ignored     atomic.Uint64
	rtcpIn      atomic.Uint64
	dtmfDropped atomic.Uint64

	port       int
	rtcpTick   uint64             // its RTCP socket is read in the ticks k with k % rtcpPollTicks == rtcpTick
	polledRTCP datagramAgeHandler // handleRTCP, made once
	local      netip.AddrPort
	idx        int // position in its shard's sessions, guarded by the shard's mu; -1 in none
	readers    sync.WaitGroup
	done       chan struct{}
	endOnce    sync.Once
	dtmfCh     chan DTMF
	dtmfSem    chan struct{} // one SendDTMF at a time

	pcm [decodeChunk]int16 // decoding scratch of handleRTP
}

// txState is the sender, touched only by the pacer goroutine.
type txState struct {
	ssrc    uint32
	seq     uint16
	ts      uint32 // RTP timestamp of the next frame
	marker  bool   // the next audio packet starts a talkspurt
	sending bool   // the previous tick sent a packet

	// Snapshot of the signalling state taken at the start of each tick.
	send    bool
	dst     netip.AddrPort
	codec   Codec
	eventPT uint8
	job     *dtmfJob
	taps    *[]Tap // the taps whose TapIn was called this tick, for TapOut

	rxSeen uint64 // rxPackets at the last tick
}

// putHeader writes the fixed RTP header (RFC 3550 §5.1: version 2, no padding,
// extension or CSRCs) into b[:headerSize].
func putHeader(b []byte, marker bool, pt uint8, seq uint16, ts, ssrc uint32) {
	_ = b[headerSize-1]
	b[0] = 2 << 6
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
}

// pacerScratch holds the frames a tick passes through, shared by every session
// of a pacer shard (only the shard's goroutine uses it).
type pacerScratch struct {
	rxFrame [FrameSamples]int16             // playout to the sink
	txFrame [FrameSamples]int16             // from the source
	txBuf   [headerSize + FrameSamples]byte // the RTP packet sent
	pcm     [decodeChunk]int16              // decoding of what the pacer reads
	encoded encodeMemo                      // the last frames encoded
}

// encodeMemo is a pacer shard's last frame encoded in each law (μ, A) and its
// encoding. Sessions that send the same audio in a tick (a conference's
// listeners, to whom the mixer hands one shared mix; legs sending silence)
// are encoded once, the others' packets copy it: comparing a frame costs
// far less than encoding it, and frames that differ usually differ in their
// first samples.
type encodeMemo struct {
	valid [2]bool
	pcm   [2][FrameSamples]int16
	enc   [2][FrameSamples]byte
}

// encode writes the G.711 encoding of pcm (FrameSamples) to dst.
func (m *encodeMemo) encode(dst []byte, pcm []int16, alaw bool) {
	i := 0
	if alaw {
		i = 1
	}
	f := (*[FrameSamples]int16)(pcm)
	if m.valid[i] && m.pcm[i] == *f {
		copy(dst, m.enc[i][:])
		return
	}
	if alaw {
		g711.EncodeAlaw(dst, pcm)
	} else {
		g711.EncodeUlaw(dst, pcm)
	}
	m.pcm[i] = *f
	copy(m.enc[i][:], dst)
	m.valid[i] = true
}

type playback struct {
	src   Source
	fresh bool // no frame read yet: the first packet gets the marker bit
	done  chan struct{}
	once  sync.Once
	err   error
}

func (p *playback) finish(err error) {
	p.once.Do(func() {
		p.err = err
		close(p.done)
	})
}

// newSession makes the session of an RTP and an RTCP socket (closedSocket()
// for none: tests that drive the receive path directly).
func newSession(e *Engine, port int, rtpSock, rtcpSock rtpSocket) *Session {
	s := &Session{
		e:            e,
		port:         port,
		sock:         rtpSock,
		rtcp:         rtcpSock,
		rtcpTick:     uint64(port/2) % rtcpPollTicks,
		local:        netip.AddrPortFrom(e.cfg.IP, uint16(port)),
		done:         make(chan struct{}),
		dtmfCh:       make(chan DTMF, dtmfQueue),
		dtmfSem:      make(chan struct{}, 1),
		lastActivity: e.tickNow.Load(),
		jb:           JitterBuffer{Target: e.cfg.JitterTarget, Max: e.cfg.JitterMax},
		idx:          -1,
	}
	if len(e.shards) > 0 {
		s.sh.Store(e.shards[0])
	}
	s.emit = s.emitDTMF
	s.polled = s.handlePolled
	s.polledRTCP = func(b []byte, from netip.AddrPort, _ time.Duration) { s.handleRTCP(b, from) }
	// RFC 3550 §5.1: the initial sequence number and timestamp are random, as
	// is the SSRC (§8.1).
	s.tx.ssrc = rand.Uint32()
	s.tx.seq = uint16(rand.Uint32())
	s.tx.ts = rand.Uint32()
	s.tx.marker = true
	return s
}

// LocalAddr returns the address and RTP port to advertise in SDP. RTCP is on the
// next port up (RFC 3550 §11), where it is accepted and ignored.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// SetRemote sets (at the answer) or changes (on a re-INVITE: hold, unhold, a new
// address or codec) what the remote negotiated. A new address drops the latch of
// symmetric RTP, so that RTP latches again on the next packet. Every call
// restarts the inactivity timer.
func (s *Session) SetRemote(r Remote) {
	r.Addr = netip.AddrPortFrom(r.Addr.Addr().Unmap(), r.Addr.Port())
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hasRemote || r.Addr != s.remote.Addr {
		s.latched = netip.AddrPort{}
	}
	s.remote = r
	s.hasRemote = true
	s.lastActivity = s.e.tickNow.Load()
}

// RemoteAddr returns where RTP is sent now: the latched source of the remote's
// RTP, or the signalled address before any arrived. It is invalid before
// SetRemote.
func (s *Session) RemoteAddr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.destination()
}

// destination is RemoteAddr with s.mu held.
func (s *Session) destination() netip.AddrPort {
	if !s.hasRemote {
		return netip.AddrPort{}
	}
	if a := s.remote.Addr; !a.IsValid() || a.Addr().IsUnspecified() || a.Port() == 0 {
		return netip.AddrPort{}
	}
	if s.latched.IsValid() {
		return s.latched
	}
	return s.remote.Addr
}

// Play sends src to the remote in paced 20 ms frames until src returns io.EOF
// (Play returns nil), ctx ends (ctx.Err()), src fails (its error, wrapped) or the
// session ends (an error wrapping ErrClosed, and ErrInactive if that is why).
//
// One Play runs at a time: a second Play replaces the first, which returns
// ErrReplaced; the new source starts at the next tick. Play with a nil src just
// stops the current playback and returns nil. While nothing plays, silence is
// sent. Frames are consumed in real time whether or not they can be sent (before
// SetRemote, on hold), and the source is never used again once Play has returned.
//
// The source is read on the engine's pacer goroutine: ReadFrame must return
// promptly (from memory or a buffer), and must not call Play or SetSink of this
// session.
func (s *Session) Play(ctx context.Context, src Source) error {
	var pb *playback
	if src != nil {
		pb = &playback{src: src, fresh: true, done: make(chan struct{})}
	}
	s.playMu.Lock()
	select {
	case <-s.done:
		s.playMu.Unlock()
		return s.closedErr()
	default:
	}
	old := s.play
	s.play = pb
	s.playMu.Unlock()
	if old != nil {
		old.finish(ErrReplaced)
	}
	if pb == nil {
		return nil
	}
	select {
	case <-pb.done:
	case <-ctx.Done():
		s.detach(pb)
		pb.finish(ctx.Err())
	case <-s.done:
		s.detach(pb)
		pb.finish(s.closedErr())
	}
	return pb.err
}

func (s *Session) detach(pb *playback) {
	s.playMu.Lock()
	if s.play == pb {
		s.play = nil
	}
	s.playMu.Unlock()
}

// SetJitterBuffer sets how what the far end sends is buffered before it is
// played out: playout starts target behind the first packet, and may grow
// up to max for packets that come late; later ones are dropped. A tiny
// target and max play everything at once and drop what is late (Twilio's
// conference jitterBufferSize "off"). It applies from the next packet on;
// nothing buffered is lost. JitterBuffer returns the current setting.
func (s *Session) SetJitterBuffer(target, max time.Duration) {
	s.mu.Lock()
	s.jb.Target, s.jb.Max = target, max
	s.jb.Rebase()
	s.mu.Unlock()
}

// JitterBuffer returns the target and maximum playout delay (0: the
// defaults).
func (s *Session) JitterBuffer() (target, max time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jb.Target, s.jb.Max
}

// SetSink attaches the consumer of received audio: from the next tick on it gets
// exactly one decoded frame per 20 ms, silence where nothing (or nothing in time)
// arrived. nil detaches. Once SetSink returns, the previous sink is not called
// again. A WriteFrame error detaches the sink.
//
// The sink is called on the engine's pacer goroutine: WriteFrame must return
// promptly and must not call Play or SetSink of this session. A listener that
// is not the consumer (and must survive a change of it) is a Tap (AddTap).
func (s *Session) SetSink(sink Sink) {
	s.sinkMu.Lock()
	s.sink = sink
	s.sinkMu.Unlock()
}

// DTMF returns the digits received as RFC 4733 telephone-events, one per key
// press (the redundant end packets of an event are counted once; events may come
// from another SSRC than the audio). The channel holds up to 32 digits; when it is
// full further digits are dropped. It is closed when the session ends.
func (s *Session) DTMF() <-chan DTMF { return s.dtmfCh }

func (s *Session) emitDTMF(d DTMF) {
	select {
	case s.dtmfCh <- d:
	default:
		s.dtmfDropped.Add(1)
		s.e.log.Warn("dtmf queue full; digit dropped", "port", s.port, "digit", string(d.Digit))
	}
}

// SendDTMF sends digits ('0'-'9', '*', '#', 'A'-'D'; 'w' pauses 0.5 s, 'W' 1 s)
// and returns when the last has been sent. With a telephone-event payload type
// negotiated they go as RFC 4733 events, replacing the audio while they last;
// otherwise as in-band DTMF tones. A second SendDTMF waits for the first. If ctx
// ends first, the digit being sent is ended properly (its end packets still go)
// and ctx.Err() is returned.
func (s *Session) SendDTMF(ctx context.Context, digits string) error {
	if c, ok := validDigits(digits); !ok {
		return fmt.Errorf("send dtmf %q: %q: %w", digits, c, ErrInvalidDigit)
	}
	if digits == "" {
		return nil
	}
	select {
	case s.dtmfSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return s.closedErr()
	}
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		<-s.dtmfSem
		return s.closedErr()
	}
	job := newDTMFJob(digits, s.remote.EventPT == 0)
	s.dtmfJob = job
	s.mu.Unlock()
	select {
	case <-job.done:
		return nil
	case <-ctx.Done():
		job.cancel.Store(true)
		return ctx.Err()
	case <-s.done:
		return s.closedErr()
	}
}

// finishJob is called by the pacer when job is done.
func (s *Session) finishJob(job *dtmfJob) {
	s.mu.Lock()
	if s.dtmfJob == job {
		s.dtmfJob = nil
	}
	s.mu.Unlock()
	close(job.done)
	<-s.dtmfSem
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns nil while the session is live, then why it ended: ErrInactive when
// no RTP came for the inactivity timeout, ErrClosed after Close.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Session) closedErr() error {
	if err := s.Err(); err != nil && !errors.Is(err, ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return ErrClosed
}

// Close ends the session: it stops sending, closes the sockets, returns the ports
// to the engine, ends a running Play and SendDTMF and closes the DTMF channel. It
// waits for the session's reader goroutines. Closing twice is harmless.
func (s *Session) Close() error {
	s.end(ErrClosed)
	return nil
}

func (s *Session) end(reason error) {
	s.endOnce.Do(func() {
		s.mu.Lock()
		s.err = reason // no tick parks the socket from now on
		close(s.dtmfCh)
		idle := s.idleIn
		s.idleIn = nil
		s.mu.Unlock()
		s.e.remove(s)
		s.sockMu.Lock()
		rtpSock, rtcpSock := s.sock.detach(), s.rtcp.detach()
		s.sockMu.Unlock()
		s.readers.Wait()
		if idle != nil {
			idle.forget(&rtpSock)
		}
		s.e.ports.keep(s.port, rtpSock, rtcpSock)
		close(s.done)
		s.e.log.Debug("media session ended", "port", s.port, "reason", reason)
	})
}

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		PacketsSent:      s.sentPackets.Load(),
		BytesSent:        s.sentBytes.Load(),
		PacketsReceived:  s.rxPackets,
		BytesReceived:    s.rxBytes,
		PacketsLost:      s.lostBefore,
		PacketsLate:      s.late,
		PacketsDuplicate: s.duplicates,
		PacketsIgnored:   s.ignored.Load(),
		RTCPReceived:     s.rtcpIn.Load(),
		SSRCChanges:      s.ssrcChanges,
		PlayoutDelay:     s.jb.Delay(),
		SendErrors:       s.sendErrors.Load(),
		DTMFDropped:      s.dtmfDropped.Load(),
	}
	if s.haveAudio {
		st.PacketsLost += s.seq.lost()
		st.Jitter = s.seq.jitterDuration()
	}
	return st
}

// receiveTick is the first half of tick k: the datagrams queued on the socket
// (on Linux, where the pacer reads the sockets), playout of one frame from the
// jitter buffer to the sink and the taps, the inactivity timer, the DTMF end
// timeout and a snapshot of what the send half needs. It reports whether the
// session has timed out.
func (s *Session) receiveTick(k uint64) (expired bool) {
	s.mu.Lock()
	if s.err != nil {
		s.tx.send, s.tx.job, s.tx.taps = false, nil, nil
		s.mu.Unlock()
		return false
	}
	// What arrived since the last tick, just before its playout: read by
	// the shard's readBatch already, or now.
	sh := s.sh.Load()
	due, got := false, 0
	if s.rxPre == k {
		due, got = s.rxPreDue, s.rxPreGot
	} else if s.readDue(k) {
		due, got = true, s.sock.poll(sh.rxBufs, s.e.rxWall, s.polled)
	}
	if due {
		if got > 0 {
			s.rxIdle = 0
		} else if s.rxIdle < idleReadTicks {
			s.rxIdle++
		}
		if s.rxIdle >= idleReadTicks {
			s.parked = sh.idle.park(s)
		}
	}
	if k%rtcpPollTicks == s.rtcpTick {
		s.rtcp.poll(sh.rxBufs, s.e.rxWall, s.polledRTCP)
	}
	rxFrame := sh.scratch.rxFrame[:]
	s.jb.Pop(rxFrame)
	if s.rxPackets != s.tx.rxSeen {
		s.tx.rxSeen = s.rxPackets
		s.lastActivity = k
	}
	// The timer only runs while both sides send (SendRecv): on hold, in either
	// direction, the remote may legitimately send nothing. SetRemote restarts
	// it, so it runs from the moment a call comes off hold.
	expired = s.e.timeoutTicks > 0 && s.hasRemote && s.remote.Direction == SendRecv &&
		k > s.lastActivity && k-s.lastActivity >= s.e.timeoutTicks
	s.dtmfRx.tick(k, s.emit)
	s.tx.dst = s.destination()
	s.tx.send = s.tx.dst.IsValid() && s.remote.Direction.sends()
	s.tx.codec = s.remote.Codec
	s.tx.eventPT = s.remote.EventPT
	s.tx.job = s.dtmfJob
	s.mu.Unlock()
	if expired {
		s.tx.send, s.tx.job, s.tx.taps = false, nil, nil
		return true
	}
	s.sinkMu.Lock()
	if s.sink != nil {
		if err := s.sink.WriteFrame(rxFrame); err != nil {
			s.e.log.Warn("media sink failed; detached", "port", s.port, "err", err)
			s.sink = nil
		}
	}
	s.sinkMu.Unlock()
	if s.taps.Load() != nil {
		s.tapIn(rxFrame)
	} else {
		s.tx.taps = nil
	}
	return false
}

// preRead decides whether tick k reads the session's socket (readDue),
// before the receive phase, for a shard's readBatch, which then reads it
// and counts in rxPreGot what it got.
func (s *Session) preRead(k uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false
	}
	s.rxPre, s.rxPreDue, s.rxPreGot = k, s.readDue(k), 0
	return s.rxPreDue
}

// idleReadTicks: a socket on which nothing arrived for this many ticks in a
// row (half a second: a leg on hold, a remote that suppresses silence) is
// parked: it is not read until its shard's idleWatch reports data on it, which
// is then read in the tick that finds it, as an active socket's would be.
// Where there is no idleWatch it is read every other tick, halving its system
// calls; the first packet after the pause may then wait up to 20 ms to be
// read, and it starts a talkspurt, whose playout the jitter buffer times from
// it anyway.
const idleReadTicks = 25

// readDue reports whether tick k reads the session's socket (s.mu held): a
// parked socket only once reported; every tick, or every
// EngineConfig.ReadEvery ticks if the jitter buffer's target leaves room for
// it, or every other tick while the socket is idle and not parked. Sessions
// are staggered by port so that each tick reads its share of the sockets.
// It tells the jitter buffer how late that lets a packet be pushed.
func (s *Session) readDue(k uint64) bool {
	if s.parked {
		if !s.sh.Load().idle.isReady(s) {
			return false
		}
		s.parked, s.rxIdle = false, 0
	}
	every := uint64(s.e.cfg.ReadEvery)
	if every > 1 && s.jb.target() < int32(every)*frame32 {
		every = 1
	}
	if s.rxIdle >= idleReadTicks {
		every = max(every, 2)
	}
	s.jb.readLag = int32(every-1) * frame32
	return every <= 1 || (k+uint64(s.port>>1))%every == 0
}

// sendTick is the second half of a tick: one frame from the source (or silence,
// or a DTMF tone), one RTP packet if the direction and the remote allow it, and
// the frame sent to the taps. The RTP timestamp advances by one frame every
// tick, sent or not (RFC 3550 §5.1).
func (s *Session) sendTick() {
	tx := &s.tx
	sh := s.sh.Load()
	frame := sh.scratch.txFrame[:]
	buf := sh.scratch.txBuf[:]
	ts := tx.ts
	tx.ts += frameTS

	s.playMu.Lock()
	if pb := s.play; pb != nil {
		if pb.fresh {
			pb.fresh = false
			tx.marker = true
		}
		if err := pb.src.ReadFrame(frame); err != nil {
			clear(frame)
			s.play = nil
			if errors.Is(err, io.EOF) {
				err = nil
			} else {
				err = fmt.Errorf("play: %w", err)
			}
			pb.finish(err)
		}
	} else {
		clear(frame)
	}
	s.playMu.Unlock()

	step := stepAudio
	job := tx.job
	if job != nil {
		step = job.step(ts, frame)
		if job.finished {
			tx.job = nil
			s.finishJob(job)
		}
		if step == stepEvent && tx.eventPT == 0 {
			step = stepAudio // telephone-event was renegotiated away mid-digit
			clear(frame)
		}
	}

	if !tx.send {
		tx.sending = false
		if tx.taps != nil {
			s.tapOut(frame, true)
		}
		return
	}
	if !tx.sending {
		tx.marker = true // sending resumes: a new talkspurt (RFC 3551 §4.1)
	}
	var payload int
	if step == stepEvent {
		// RFC 4733 §2.5.1: every packet of an event carries the timestamp of
		// its start; the first has the marker bit.
		putHeader(buf, job.marker, tx.eventPT, tx.seq, job.startTS, tx.ssrc)
		payload, _ = job.out.MarshalTo(buf[headerSize:])
	} else {
		putHeader(buf, tx.marker, tx.codec.PayloadType, tx.seq, ts, tx.ssrc)
		tx.marker = false
		sh.scratch.encoded.encode(buf[headerSize:headerSize+FrameSamples], frame, tx.codec.isALaw())
		payload = FrameSamples
	}
	s.sockMu.Lock() // keeps Close from closing the socket meanwhile
	err := sh.tx.queue(s, buf[:headerSize+payload], tx.dst)
	s.sockMu.Unlock()
	if sh.tx.full() {
		sh.tx.flush()
	}
	if err != nil {
		s.sendErrors.Add(1)
	}
	tx.seq++
	tx.sending = true
	s.sentPackets.Add(1)
	s.sentBytes.Add(uint64(payload))
	if tx.taps != nil {
		s.tapOut(frame, step == stepEvent)
	}
}
