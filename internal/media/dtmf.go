package media

import (
	"math"
	"sync/atomic"
	"time"
)

// A DTMF is one key press received from the remote as RFC 4733 telephone-events.
type DTMF struct {
	// Digit is '0'-'9', '*', '#' or 'A'-'D'.
	Digit byte
	// Duration is how long the key was held, from the event's final duration
	// field (RFC 4733 §2.3.5).
	Duration time.Duration
}

// Timing of the digits SendDTMF sends. Twilio documents 'w' as a half-second pause
// (<Play digits>, sendDigits); 'W' is a one-second pause as in Asterisk's SendDTMF.
const (
	// DTMFToneDuration is how long each digit sounds.
	DTMFToneDuration = 100 * time.Millisecond
	// DTMFGap is the time from the end of one digit to the start of the next.
	DTMFGap = 100 * time.Millisecond
	// DTMFPause is the pause a 'w' in the digits makes; 'W' makes two.
	DTMFPause = 500 * time.Millisecond
)

const (
	// eventVolume is the power level of the events sent, -10 dBm0 (RFC 4733
	// §2.3.4; ITU-T Q.24 accepts digits down to about -25 dBm0).
	eventVolume = 10
	// endRepeats is how many times the final packet of an event is sent
	// (RFC 4733 §2.5.1.4).
	endRepeats = 3
	// eventClockRate is the RTP clock rate of telephone-event/8000.
	eventClockRate = 8000

	// dtmfEndTimeoutTicks ends an event whose end packets were all lost after this
	// many 20 ms ticks without a packet for it (RFC 4733 §2.5.2.2 leaves the
	// timeout to the receiver).
	dtmfEndTimeoutTicks = 25
	// dtmfReplayTicks: a start packet (marker bit) for an event that ended at least
	// this many ticks ago is a new key press even if it repeats the old event's
	// SSRC, timestamp and code (packet captures replayed back to back do that).
	dtmfReplayTicks = 5
	// dtmfHistory is how many ended events are remembered to recognise their
	// redundant end packets.
	dtmfHistory = 4
)

// eventDuration converts an RFC 4733 duration field to a time.Duration.
func eventDuration(units uint16) time.Duration {
	return time.Duration(units) * time.Second / eventClockRate
}

// eventKey identifies one event: RFC 4733 §2.5.2 — packets of one event share the
// RTP timestamp of its start; the SSRC may differ from the audio's.
type eventKey struct {
	ssrc  uint32
	ts    uint32
	event uint8
}

type endedEvent struct {
	key   eventKey
	tick  uint64
	valid bool
}

// dtmfReceiver turns a stream of telephone-event blocks into one DTMF per event:
// updates extend the current event, the first end packet reports it, the
// redundant end packets are recognised and dropped, an event whose end was lost
// is reported when the next one starts or after a timeout.
type dtmfReceiver struct {
	cur      eventKey
	active   bool // cur has started and not ended
	duration uint16
	lastTick uint64
	ended    [dtmfHistory]endedEvent
	next     int // slot of ended to overwrite next
}

// receive handles one event block at pacer tick `tick` and calls emit for every
// digit it completes.
func (r *dtmfReceiver) receive(key eventKey, marker bool, ev TelephoneEvent, tick uint64, emit func(DTMF)) {
	if r.active && key == r.cur {
		if ev.Duration > r.duration {
			r.duration = ev.Duration
		}
		r.lastTick = tick
		if ev.End {
			r.finish(tick, emit)
		}
		return
	}
	if e := r.findEnded(key); e != nil {
		if !marker || ev.End || tick-e.tick < dtmfReplayTicks {
			return // a redundant end packet or a late update of a reported event
		}
		e.valid = false // the same event replayed: a new key press
	}
	if r.active {
		if key.ssrc == r.cur.ssrc && int32(key.ts-r.cur.ts) < 0 {
			return // a stray packet of an earlier event while a later one is on
		}
		r.finish(tick, emit) // the previous event's end packets were lost
	}
	r.cur, r.active, r.duration, r.lastTick = key, true, ev.Duration, tick
	if ev.End {
		r.finish(tick, emit)
	}
}

// tick ends an event whose end packets never came.
func (r *dtmfReceiver) tick(tick uint64, emit func(DTMF)) {
	if r.active && tick-r.lastTick >= dtmfEndTimeoutTicks {
		r.finish(tick, emit)
	}
}

// reset forgets the event in progress without reporting it.
func (r *dtmfReceiver) reset() { *r = dtmfReceiver{} }

func (r *dtmfReceiver) finish(tick uint64, emit func(DTMF)) {
	r.active = false
	r.ended[r.next] = endedEvent{key: r.cur, tick: tick, valid: true}
	r.next = (r.next + 1) % dtmfHistory
	if d, ok := EventDigit(r.cur.event); ok {
		emit(DTMF{Digit: d, Duration: eventDuration(r.duration)})
	}
}

func (r *dtmfReceiver) findEnded(key eventKey) *endedEvent {
	for i := range r.ended {
		if r.ended[i].valid && r.ended[i].key == key {
			return &r.ended[i]
		}
	}
	return nil
}

// validDigits reports whether SendDTMF can send every character of digits.
func validDigits(digits string) (bad byte, ok bool) {
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c == 'w' || c == 'W' {
			continue
		}
		if _, ok := DigitEvent(c); !ok {
			return c, false
		}
	}
	return 0, true
}

// What a DTMF job wants sent in one tick.
type dtmfStep int

const (
	stepAudio dtmfStep = iota // send the session's audio as usual
	stepEvent                 // send job.out as a telephone-event packet
	stepTone                  // the frame holds the in-band tone: send it as audio
)

type dtmfState int

const (
	stIdle dtmfState = iota
	stTone
	stEnding
	stWait
)

// A dtmfJob is one SendDTMF call, stepped once per tick by the pacer. With
// telephone-event negotiated it produces RFC 4733 §2.5.1 packets: the first with
// the marker bit, one every 20 ms with the duration so far, the final one with
// the end bit sent three times; all with the RTP timestamp of the tone's start.
// Without telephone-event it synthesises the ITU-T Q.23 dual tones in band.
type dtmfJob struct {
	digits string
	inband bool
	done   chan struct{}
	cancel atomic.Bool

	// Pacer-only state.
	pos      int
	state    dtmfState
	code     uint8
	startTS  uint32
	elapsed  int // samples of the current tone produced
	ends     int // end packets sent
	wait     int // ticks left in a gap or pause
	out      TelephoneEvent
	marker   bool
	lo, hi   float64 // in-band tone frequencies
	phLo     float64
	phHi     float64
	finished bool
}

func newDTMFJob(digits string, inband bool) *dtmfJob {
	return &dtmfJob{digits: digits, inband: inband, done: make(chan struct{})}
}

const (
	toneSamples = int(DTMFToneDuration * SampleRate / time.Second)
	gapTicks    = int(DTMFGap / FrameDuration)
	pauseTicks  = int(DTMFPause / FrameDuration)
)

// step advances the job by one 20 ms tick whose audio starts at RTP timestamp ts.
// For stepTone it fills frame with the tone.
func (j *dtmfJob) step(ts uint32, frame []int16) dtmfStep {
	if j.cancel.Load() {
		switch {
		case j.state == stTone && !j.inband:
			j.state, j.ends = stEnding, 0
			j.out = TelephoneEvent{Event: j.code, End: true, Volume: eventVolume, Duration: uint16(j.elapsed)}
		case j.state != stEnding:
			j.finished = true
			return stepAudio
		}
	}
	for {
		switch j.state {
		case stIdle:
			if j.pos >= len(j.digits) {
				j.finished = true
				return stepAudio
			}
			c := j.digits[j.pos]
			j.pos++
			if c == 'w' || c == 'W' {
				j.wait = pauseTicks
				if c == 'W' {
					j.wait *= 2
				}
				j.state = stWait
				continue
			}
			j.code, _ = DigitEvent(c)
			j.startTS, j.elapsed, j.ends = ts, 0, 0
			j.lo, j.hi = dtmfFrequencies(j.code)
			j.phLo, j.phHi = 0, 0
			j.state = stTone
			continue
		case stTone:
			j.elapsed += FrameSamples
			if j.inband {
				j.synth(frame)
				if j.elapsed >= toneSamples {
					j.afterTone(gapTicks)
				}
				return stepTone
			}
			j.marker = j.elapsed == FrameSamples
			j.out = TelephoneEvent{Event: j.code, Volume: eventVolume, Duration: uint16(j.elapsed)}
			if j.elapsed >= toneSamples {
				j.out.End = true
				j.state, j.ends = stEnding, 1
			}
			return stepEvent
		case stEnding:
			if j.ends >= endRepeats {
				j.afterTone(gapTicks - (endRepeats - 1))
				continue
			}
			j.ends++
			j.marker = false
			return stepEvent
		case stWait:
			if j.wait <= 0 {
				j.state = stIdle
				continue
			}
			j.wait--
			return stepAudio
		}
	}
}

// afterTone moves to the gap before the next digit, or finishes after the last
// one (or when cancelled).
func (j *dtmfJob) afterTone(gap int) {
	if j.pos >= len(j.digits) || j.cancel.Load() {
		j.state = stIdle
		j.pos = len(j.digits)
		j.finished = true
		return
	}
	j.state, j.wait = stWait, gap
}

// ITU-T Q.23 DTMF frequencies, rows by columns:
//
//	     1209 1336 1477 1633
//	697    1    2    3    A
//	770    4    5    6    B
//	852    7    8    9    C
//	941    *    0    #    D
var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
)

// dtmfFrequencies returns the low and high tone of an event code (0-15).
func dtmfFrequencies(code uint8) (lo, hi float64) {
	var r, c int
	switch {
	case code == 0:
		r, c = 3, 1
	case code >= 1 && code <= 9:
		r, c = int(code-1)/3, int(code-1)%3
	case code == EventStar:
		r, c = 3, 0
	case code == EventPound:
		r, c = 3, 2
	default: // A-D
		r, c = int(code-EventA), 3
	}
	return dtmfRows[r], dtmfCols[c]
}

// inbandAmplitude is each tone's peak, about -10 dBm0 for G.711 (a full-scale
// sine is +3.17 dBm0).
const inbandAmplitude = 7000

// synth writes the next 20 ms of the dual tone into frame.
func (j *dtmfJob) synth(frame []int16) {
	const twoPi = 2 * math.Pi
	dLo := twoPi * j.lo / SampleRate
	dHi := twoPi * j.hi / SampleRate
	for i := range frame {
		frame[i] = int16(inbandAmplitude * (math.Sin(j.phLo) + math.Sin(j.phHi)))
		j.phLo += dLo
		j.phHi += dHi
	}
	j.phLo = math.Mod(j.phLo, twoPi)
	j.phHi = math.Mod(j.phHi, twoPi)
}
