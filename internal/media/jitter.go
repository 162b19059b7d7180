package media

import "time"

const (
	// jbRing is the jitter buffer's capacity in samples (512 ms at 8 kHz). It is a
	// power of two so that an RTP timestamp masks to a ring position.
	jbRing = 4096
	jbMask = jbRing - 1

	// DefaultJitterTarget is the playout delay a JitterBuffer starts with.
	DefaultJitterTarget = 40 * time.Millisecond
	// DefaultJitterMax bounds how far a JitterBuffer's delay grows.
	DefaultJitterMax = 200 * time.Millisecond
	// maxJitterMax keeps the delay inside the ring with a frame to spare.
	maxJitterMax = 400 * time.Millisecond

	// jbWindow is the adaptation period, in pops (one second of 20 ms frames).
	jbWindow = 50
	// jbFarPackets out-of-window packets in a row make the buffer follow them.
	jbFarPackets = 3

	frame32 = int32(FrameSamples)
	frameTS = uint32(FrameSamples)
)

// A PushResult says what a JitterBuffer did with a packet.
type PushResult int

// Results of JitterBuffer.Push.
const (
	// Buffered: the audio will be played at its time.
	Buffered PushResult = iota
	// Late: the audio's time has already been played; it was dropped.
	Late
	// Resynced: the packet started a new timeline (the first packet, a
	// timestamp jump, a talkspurt after silence, the first packet after
	// Rebase); it is played after what is already buffered.
	Resynced
)

// A JitterBuffer turns RTP audio arriving with network jitter, reordered,
// duplicated or late into a steady stream of frames. It is time based, not packet
// based: it keeps decoded samples in a ring indexed by RTP timestamp (8 kHz), so
// packets of any duration, duplicates (which land on the same samples) and
// reordering are handled alike, and a gap in the audio is silence.
//
// Playout runs Target behind the first packet's timestamp, and adapts: a packet
// that misses its playout time by less than its own length (the network delay
// grew, or the sender's clock is slow) stretches playout (the gap it left was
// played as silence; its audio follows) so that later packets are on time, as
// long as the delay stays within Max; packets later than that are dropped. When every
// packet of the last second arrived well ahead of time (the sender's clock runs
// fast, or a past jitter spike), up to 20 ms of delay is removed. A timestamp
// jump (forward beyond Max, or backward for several packets), a talkspurt start
// with nothing buffered, and a Rebase start a new timeline that continues after
// the buffered audio, so nothing buffered is lost. Timestamps are compared modulo
// 2^32 (RFC 3550 §5.1), so they wrap. Callers should drop duplicate packets
// (by sequence number) before Push: a duplicate arriving after its original was
// played would otherwise be played again.
//
// The zero value is ready to use with the default target and maximum. A
// JitterBuffer is not safe for concurrent use.
type JitterBuffer struct {
	// Target is the initial playout delay; 0 means DefaultJitterTarget.
	Target time.Duration
	// Max is the largest delay adaptation may reach; 0 means DefaultJitterMax.
	// It is capped at 400 ms.
	Max time.Duration

	started bool
	offset  uint32 // added to packet timestamps to place them on the playout timeline
	rebase  bool   // the next packet starts a new timeline
	playTS  uint32 // playout timeline position of the next sample Pop returns
	endTS   uint32 // one past the newest sample buffered
	far     int    // consecutive packets outside the window
	late    uint64
	grown   uint64 // times playout was stretched for a late packet
	shrunk  uint64 // times playout dropped audio to cut delay

	pops    int   // pops in this adaptation window
	winPkts int   // packets in this window
	winMin  int32 // least lead (timestamp minus playTS at arrival) in this window
	// readLag is how late (in samples) a packet may be pushed after it
	// arrived: a socket read every other tick pushes the older packet of
	// each pair a frame late, so its lead looks a frame short. Adaptation
	// adds it back, or the buffer would settle a frame deeper than needed.
	readLag int32

	// ring is allocated by the first Push: a call that never receives RTP
	// (most calls a server hangs up at once, and the calls that only
	// listen) does not carry its 8 KiB. Everything that reads it runs once
	// started, which that Push sets.
	ring *[jbRing]int16
}

func (j *JitterBuffer) target() int32 {
	t := j.Target
	if t <= 0 {
		t = DefaultJitterTarget
	}
	return int32(min(t, j.maxDelayDuration()) * SampleRate / time.Second)
}

func (j *JitterBuffer) maxDelayDuration() time.Duration {
	m := j.Max
	if m <= 0 {
		m = DefaultJitterMax
	}
	return min(m, maxJitterMax)
}

func (j *JitterBuffer) maxDelay() int32 {
	return int32(j.maxDelayDuration() * SampleRate / time.Second)
}

// Push stores the samples of one packet whose first sample has RTP timestamp ts.
// marker is the packet's RTP marker bit (the start of a talkspurt, RFC 3551 §4.1).
// pcm may be at most half the buffer (256 ms); longer packets are truncated.
func (j *JitterBuffer) Push(ts uint32, pcm []int16, marker bool) PushResult {
	if len(pcm) > jbRing/2 {
		pcm = pcm[:jbRing/2]
	}
	n := int32(len(pcm))
	if !j.started {
		j.started = true
		j.rebase = false
		j.offset = 0
		j.playTS = ts - uint32(j.target())
		j.endTS = j.playTS
		j.write(ts, pcm)
		return Resynced
	}
	if j.rebase {
		j.rebaseTo(ts)
		j.write(ts+j.offset, pcm)
		return Resynced
	}
	its := ts + j.offset
	lead := int32(its - j.playTS)
	if marker && int32(j.endTS-j.playTS) <= 0 {
		// A talkspurt starts and nothing is waiting to be played: anchor it
		// at the target delay again (this also sheds delay adaptation added).
		j.rebaseTo(ts)
		j.write(ts+j.offset, pcm)
		return Resynced
	}
	maxD := j.maxDelay()
	switch {
	case lead < 0:
		if lead < -2*maxD-n {
			// Far in the past: a stray, or the sender's timestamps jumped
			// back. A few in a row mean the latter: follow them.
			if j.far++; j.far >= jbFarPackets {
				j.rebaseTo(ts)
				j.write(ts+j.offset, pcm)
				return Resynced
			}
			j.late++
			return Late
		}
		j.far = 0
		// Late by less than its own length (the frame just played, as
		// silence): stretch playout by the lateness plus half the target,
		// so that this audio follows the silence and later packets are on
		// time, unless that would exceed the maximum delay. Audio later
		// than that is dropped: the audio after it has been played.
		grow := -lead + j.target()/2
		if depth := int32(j.endTS - j.playTS); lead >= -n && depth+grow <= maxD {
			// The ring positions just behind playout were cleared when
			// played, and the ring holds the maximum delay plus more than
			// a frame, so moving playout back replays silence.
			j.playTS -= uint32(grow)
			j.grown++
			lead += grow
			j.observe(lead)
			j.write(its, pcm)
			return Buffered
		}
		j.late++
		return Late
	case lead+n > maxD+2*frame32:
		// Far ahead of playout: the sender's timestamps jumped forward
		// without that much time passing. Follow them.
		j.rebaseTo(ts)
		j.write(ts+j.offset, pcm)
		return Resynced
	}
	j.far = 0
	j.observe(lead)
	j.write(its, pcm)
	return Buffered
}

func (j *JitterBuffer) observe(lead int32) {
	if j.winPkts == 0 || lead < j.winMin {
		j.winMin = lead
	}
	j.winPkts++
}

// Rebase starts a new timeline at the next Push without dropping what is
// buffered: the next packet is placed right after the buffered audio (or the
// target delay ahead of playout, whichever is later), and later packets relative
// to it. Use it when the sender's timestamps lose their meaning: a new SSRC
// (RFC 3550 §8.2).
func (j *JitterBuffer) Rebase() { j.rebase = true }

// rebaseTo maps timestamp ts to where a new timeline continues.
func (j *JitterBuffer) rebaseTo(ts uint32) {
	anchor := j.playTS + uint32(j.target())
	if int32(j.endTS-anchor) > 0 {
		anchor = j.endTS
	}
	j.offset = anchor - ts
	j.rebase = false
	j.far = 0
	j.pops, j.winPkts, j.winMin = 0, 0, 0
}

func (j *JitterBuffer) write(ts uint32, pcm []int16) {
	if j.ring == nil {
		j.ring = new([jbRing]int16)
	}
	i := int(ts & jbMask)
	c := copy(j.ring[i:], pcm)
	copy(j.ring[:], pcm[c:])
	if end := ts + uint32(len(pcm)); int32(end-j.endTS) > 0 {
		j.endTS = end
	}
}

// Pop fills dst with the next len(dst) samples of playout (at most half the
// buffer): buffered audio where it arrived, silence where it did not.
func (j *JitterBuffer) Pop(dst []int16) {
	if !j.started {
		clear(dst)
		return
	}
	if len(dst) > jbRing/2 {
		clear(dst[jbRing/2:])
		dst = dst[:jbRing/2]
	}
	j.take(dst)
	if j.pops++; j.pops >= jbWindow {
		j.adapt()
	}
}

// take copies the next len(dst) samples of playout into dst and advances.
func (j *JitterBuffer) take(dst []int16) {
	n := len(dst)
	i := int(j.playTS & jbMask)
	first := min(n, jbRing-i)
	copy(dst, j.ring[i:i+first])
	copy(dst[first:], j.ring[:n-first])
	j.takeN(n)
}

// takeN clears the next k samples (k <= jbRing) of the ring and advances playout
// past them.
func (j *JitterBuffer) takeN(k int) {
	i := int(j.playTS & jbMask)
	first := min(k, jbRing-i)
	clear(j.ring[i : i+first])
	clear(j.ring[:k-first])
	j.playTS += uint32(k)
	if int32(j.endTS-j.playTS) < 0 {
		j.endTS = j.playTS
	}
}

// Skip advances playout by n samples without returning them (the pacer fell
// behind and dropped ticks).
func (j *JitterBuffer) Skip(n int) {
	if !j.started || n <= 0 {
		return
	}
	if n >= jbRing {
		// Everything buffered is in the past now.
		clear(j.ring[:])
		j.playTS += uint32(n)
		j.endTS = j.playTS
		return
	}
	j.takeN(n)
}

// adapt runs once per window: when every packet of the window came well ahead
// of its time (the sender's clock is faster than ours, or a past jitter spike
// made the buffer grow), it drops up to one frame to bring the delay back
// towards the target.
func (j *JitterBuffer) adapt() {
	defer func() { j.pops, j.winPkts, j.winMin = 0, 0, 0 }()
	if j.winPkts == 0 {
		return
	}
	if lead, target := j.winMin+j.readLag, j.target(); lead > target+frame32 {
		j.takeN(int(min(lead-target, frame32)))
		j.shrunk++
	}
}

// Reset forgets all buffered audio; the next Push starts a new timeline (a new
// SSRC, RFC 3550 §8.2).
func (j *JitterBuffer) Reset() {
	t, m, late, ring := j.Target, j.Max, j.late, j.ring
	if ring != nil {
		clear(ring[:])
	}
	*j = JitterBuffer{Target: t, Max: m, late: late, ring: ring}
}

// Delay returns how much audio is buffered ahead of playout.
func (j *JitterBuffer) Delay() time.Duration {
	if !j.started {
		return 0
	}
	return time.Duration(int32(j.endTS-j.playTS)) * time.Second / SampleRate
}

// holdsTarget reports whether at least the target delay of audio is
// buffered ahead of playout.
func (j *JitterBuffer) holdsTarget() bool {
	return j.started && int32(j.endTS-j.playTS) >= j.target()
}

// Late returns how many packets arrived after their playout time.
func (j *JitterBuffer) Late() uint64 { return j.late }
