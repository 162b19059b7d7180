package media

import "time"

// Stats are a session's RTP counters since it was created.
type Stats struct {
	// PacketsSent counts RTP packets sent, audio and telephone-event.
	PacketsSent uint64
	// BytesSent counts the payload octets of those packets (the "sender's octet
	// count" of RFC 3550 §6.4.1: headers excluded).
	BytesSent uint64
	// PacketsReceived counts RTP packets accepted from the remote, audio and
	// telephone-event, duplicates excluded.
	PacketsReceived uint64
	// BytesReceived counts their payload octets.
	BytesReceived uint64
	// PacketsLost is the RFC 3550 §6.4.1 cumulative number of audio packets lost
	// (expected from the sequence numbers minus received), summed over every SSRC
	// the remote used.
	PacketsLost int64
	// PacketsDuplicate counts audio packets received twice (by sequence number);
	// they are dropped and not counted as received for PacketsLost.
	PacketsDuplicate uint64
	// PacketsLate counts audio packets that arrived after their playout time and
	// were dropped by the jitter buffer.
	PacketsLate uint64
	// PacketsIgnored counts datagrams that were not used: not RTP, RTP from a
	// source other than the remote, or a payload type that was not negotiated.
	PacketsIgnored uint64
	// RTCPReceived counts RTCP packets received (on the RTCP port, or on the RTP
	// port with rtcp-mux, RFC 5761 §4). They are accepted and not used.
	RTCPReceived uint64
	// SSRCChanges counts how often the remote's audio SSRC changed.
	SSRCChanges uint64
	// Jitter is the RFC 3550 §6.4.1 interarrival jitter of the current audio SSRC.
	Jitter time.Duration
	// PlayoutDelay is the audio buffered ahead of playout now.
	PlayoutDelay time.Duration
	// SendErrors counts RTP packets the socket refused to send.
	SendErrors uint64
	// DTMFDropped counts received digits dropped because nobody read the DTMF
	// channel.
	DTMFDropped uint64
}

// RFC 3550 Appendix A.1 limits.
const (
	maxDropout  = 3000
	maxMisorder = 100
	seqMod      = 1 << 16
)

// seqStats keeps the RFC 3550 Appendix A.1 sequence state of one SSRC (without
// the probation period: audio is played from the first packet) and the A.8
// interarrival jitter.
type seqStats struct {
	maxSeq   uint16
	cycles   uint32
	baseSeq  uint32
	badSeq   uint32
	received uint64
	recent   uint64 // bit i: maxSeq-i was received

	haveTransit bool
	transit     int32
	jitter      uint32 // scaled by 16, A.8
}

func (s *seqStats) init(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.badSeq = seqMod + 1
	s.cycles = 0
	s.received = 0
}

// update accounts for one packet with sequence number seq. It reports a
// duplicate (a sequence number among the last 64 already received), which is not
// counted.
func (s *seqStats) update(seq uint16) (duplicate bool) {
	udelta := seq - s.maxSeq
	switch {
	case udelta == 0 && s.received > 0:
		return true
	case udelta < maxDropout:
		if seq < s.maxSeq {
			s.cycles += seqMod // wrapped
		}
		s.maxSeq = seq
		if udelta >= 64 {
			s.recent = 0
		} else {
			s.recent <<= udelta
		}
		s.recent |= 1
	case uint32(udelta) <= seqMod-maxMisorder:
		// A very large jump. Two in a row mean the sender restarted its
		// sequence numbers: start over (A.1).
		if uint32(seq) != s.badSeq {
			s.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return false
		}
		s.init(seq)
		s.recent = 1
	default:
		// Reordered: behind the highest sequence number by at most
		// maxMisorder.
		if back := s.maxSeq - seq; back < 64 {
			if s.recent&(1<<back) != 0 {
				return true
			}
			s.recent |= 1 << back
		}
	}
	s.received++
	return false
}

// lost returns expected minus received (RFC 3550 A.3).
func (s *seqStats) lost() int64 {
	if s.received == 0 {
		return 0
	}
	expected := int64(s.cycles) + int64(s.maxSeq) - int64(s.baseSeq) + 1
	return expected - int64(s.received)
}

// arrival updates the interarrival jitter with a packet of RTP timestamp ts that
// arrived at `arrival` in RTP timestamp units (RFC 3550 A.8).
func (s *seqStats) arrival(arrival, ts uint32) {
	transit := int32(arrival - ts)
	if !s.haveTransit {
		s.transit, s.haveTransit = transit, true
		return
	}
	d := transit - s.transit
	s.transit = transit
	if d < 0 {
		d = -d
	}
	s.jitter += uint32(d) - ((s.jitter + 8) >> 4)
}

func (s *seqStats) jitterDuration() time.Duration {
	return time.Duration(s.jitter>>4) * time.Second / SampleRate
}
