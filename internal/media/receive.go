package media

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

// What a received payload type carries.
type payloadKind int

const (
	kindUnknown payloadKind = iota
	kindPCMU
	kindPCMA
	kindCN
	kindEvent
)

// classify maps a payload type to what it carries (s.mu held). The static types
// of PCMU, PCMA and comfort noise are understood whatever was negotiated; a
// dynamic type only as negotiated.
func (s *Session) classify(pt uint8) payloadKind {
	if s.hasRemote {
		if s.remote.EventPT != 0 && pt == s.remote.EventPT {
			return kindEvent
		}
		if pt == s.remote.Codec.PayloadType && pt >= 96 {
			if s.remote.Codec.isALaw() {
				return kindPCMA
			}
			return kindPCMU
		}
	}
	switch pt {
	case ptPCMU:
		return kindPCMU
	case ptPCMA:
		return kindPCMA
	case ptCN:
		return kindCN
	}
	return kindUnknown
}

// isRTCP reports whether a datagram on the RTP port is RTCP multiplexed on it:
// RFC 5761 §4 distinguishes them by the second octet, 192-223 for RTCP
// (payload types 64-95 with the marker bit are never used by RTP).
func isRTCP(b []byte) bool { return len(b) >= 2 && b[1] >= 192 && b[1] <= 223 }

// handleRTP is the datagram handler of an RTP socket read by its own goroutine
// (outside Linux, and in tests that drive the receive path directly).
func (s *Session) handleRTP(b []byte, from netip.AddrPort) {
	if !s.isRTPDatagram(b) {
		return
	}
	now := s.e.clock.Now()
	s.mu.Lock()
	s.receive(b, from, now, s.pcm[:])
	s.mu.Unlock()
}

// handlePolled is the datagram handler of an RTP socket read by the pacer
// (rtpSocket.poll), which holds s.mu and has set e.rxNow. The datagram arrived
// `age` before e.rxNow (by the kernel's receive timestamp), which is what the
// interarrival jitter is computed from.
func (s *Session) handlePolled(b []byte, from netip.AddrPort, age time.Duration) {
	if s.isRTPDatagram(b) {
		s.receive(b, from, s.e.rxNow.Add(-age), s.sh.Load().scratch.pcm[:])
	}
}

// isRTPDatagram tells RTP from what else may arrive on the RTP port, counting
// what is not.
func (s *Session) isRTPDatagram(b []byte) bool {
	// RFC 3550 §5.1: the version is 2. This also rejects STUN (RFC 7983 §7:
	// first byte 0-3) and DTLS (20-63), which nobody should send here.
	if len(b) < headerSize || b[0]>>6 != 2 {
		s.ignored.Add(1)
		return false
	}
	if isRTCP(b) {
		s.rtcpIn.Add(1)
		return false
	}
	return true
}

// handleRTCP is the datagram handler of the RTCP socket: RTCP is counted and
// otherwise ignored.
func (s *Session) handleRTCP(b []byte, _ netip.AddrPort) {
	if len(b) >= 8 && b[0]>>6 == 2 && isRTCP(b) {
		s.rtcpIn.Add(1)
		return
	}
	s.ignored.Add(1)
}

// receive handles one RTP packet that arrived at `now` with s.mu held; pcm
// (decodeChunk samples) is scratch for decoding.
func (s *Session) receive(b []byte, from netip.AddrPort, now time.Time, pcm []int16) {
	if s.err != nil {
		return
	}
	p := &s.pkt
	if err := p.Unmarshal(b); err != nil {
		s.ignored.Add(1)
		return
	}
	kind := s.classify(p.PayloadType)
	if kind == kindUnknown {
		s.ignored.Add(1)
		return
	}
	if !s.accept(from, p.SSRC) {
		s.ignored.Add(1)
		return
	}
	// Packets on the audio SSRC share its sequence numbers whatever their
	// payload type (RFC 3550 counts loss per SSRC): a duplicate is dropped.
	if kind != kindEvent || (s.haveAudio && p.SSRC == s.audioSSRC) {
		if s.haveAudio && p.SSRC == s.audioSSRC && s.seq.update(p.SequenceNumber) {
			s.duplicates++
			return
		}
	}
	s.rxPackets++
	s.rxBytes += uint64(len(p.Payload))
	if kind == kindEvent {
		s.receiveEvents()
		return
	}
	s.receiveAudio(kind, now, pcm)
}

// accept applies symmetric RTP (RFC 4961; the "latching" of SBCs): the first
// valid packet fixes the source; later packets from elsewhere are ignored, except
// from the signalled address with an SSRC not seen from the current source (the
// remote moved back to what its SDP says, e.g. after a re-INVITE or a NAT
// rebinding on the old path).
func (s *Session) accept(from netip.AddrPort, ssrc uint32) bool {
	switch {
	case !s.latched.IsValid():
	case from == s.latched:
		return true
	case s.hasRemote && from == s.remote.Addr && !s.knownSSRC(ssrc):
	default:
		return false
	}
	if s.e.log.Enabled(context.Background(), slog.LevelDebug) {
		s.e.log.Debug("rtp latched", "port", s.port, "source", from, "ssrc", ssrc)
	}
	s.latched = from
	return true
}

func (s *Session) knownSSRC(ssrc uint32) bool {
	return (s.haveAudio && ssrc == s.audioSSRC) || (s.eventSSRC != 0 && ssrc == s.eventSSRC)
}

// receiveAudio feeds an audio (or comfort noise) packet in s.pkt to the sequence
// statistics and the jitter buffer.
func (s *Session) receiveAudio(kind payloadKind, now time.Time, scratch []int16) {
	p := &s.pkt
	if !s.haveAudio || p.SSRC != s.audioSSRC {
		if s.haveAudio && p.SSRC == s.prevSSRC {
			// A straggler of the stream the remote just replaced.
			s.late++
			return
		}
		// A new SSRC (RFC 3550 §8.2: the remote restarted, another device
		// took over the stream): start a new timeline.
		if s.haveAudio {
			s.lostBefore += s.seq.lost()
			s.ssrcChanges++
			s.prevSSRC = s.audioSSRC
		}
		s.haveAudio = true
		s.audioSSRC = p.SSRC
		s.seq = seqStats{}
		s.seq.init(p.SequenceNumber)
		s.seq.update(p.SequenceNumber)
		s.jb.Rebase()
	}
	s.seq.arrival(uint32(now.Sub(s.e.start)/(time.Second/SampleRate)), p.Timestamp)
	if kind == kindCN {
		return // RFC 3389 comfort noise: the gap plays as silence
	}
	ts := p.Timestamp
	payload := p.Payload
	marker := p.Marker
	for len(payload) > 0 {
		n := min(len(payload), decodeChunk)
		pcm := scratch[:n]
		if kind == kindPCMA {
			g711.DecodeAlaw(pcm, payload[:n])
		} else {
			g711.DecodeUlaw(pcm, payload[:n])
		}
		if s.jb.Push(ts, pcm, marker) == Late {
			s.late++
			return
		}
		payload = payload[n:]
		ts += uint32(n)
		marker = false
	}
}

// receiveEvents feeds the telephone-event blocks of s.pkt to the DTMF receiver.
func (s *Session) receiveEvents() {
	p := &s.pkt
	var err error
	s.events, err = ParseTelephoneEvents(s.events[:0], p.Payload)
	if err != nil {
		return
	}
	s.eventSSRC = p.SSRC
	tick := s.e.tickNow.Load()
	ts := p.Timestamp
	for i, ev := range s.events {
		// RFC 4733 §2.5.1.5: packed events follow each other; each starts
		// where the previous one's duration ends.
		s.dtmfRx.receive(eventKey{ssrc: p.SSRC, ts: ts, event: ev.Event}, p.Marker && i == 0, ev, tick, s.emit)
		ts += uint32(ev.Duration)
	}
}

// skip accounts for n ticks the pacer gave up after a stall: playout and the RTP
// timestamp move on by that much time; the next packet starts a talkspurt.
func (s *Session) skip(n uint64) {
	s.mu.Lock()
	if s.err == nil {
		s.jb.Skip(int(n) * FrameSamples)
	}
	s.mu.Unlock()
	s.tx.ts += uint32(n) * frameTS
	s.tx.sending = false
}
