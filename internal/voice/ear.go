package voice

import (
	"sync"
	"sync/atomic"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
)

// InbandDTMF says when the interpreter listens for DTMF tones in the caller's
// audio (as opposed to RFC 4733 events or SIP INFO).
type InbandDTMF int

const (
	// InbandAuto listens in-band when the caller negotiated no
	// telephone-event payload type (the default).
	InbandAuto InbandDTMF = iota
	// InbandAlways listens in-band on every call, besides RFC 4733 and INFO.
	InbandAlways
	// InbandNever never listens in-band.
	InbandNever
)

// digitBuffer bounds the digits waiting for a <Gather> or <Record>: a burst
// beyond it is dropped, never blocking the media pacer.
const digitBuffer = 64

// ear is a call's listening side, attached to its media session for the whole
// call: it turns the caller's key presses, in whichever form they come
// (RFC 4733 events, SIP INFO, in-band tones), into one stream of digits, and
// passes the caller's audio to the recorder of the moment.
//
// WriteFrame runs on the media pacer: it never blocks.
type ear struct {
	digits   chan byte
	detector *dsp.DTMFDetector // nil unless listening in-band
	events   []dsp.DTMFEvent   // reused by the detector
	// collecting is set while a <Gather> or <Record> waits for keys: tones
	// are only looked for then (keys pressed at other times are dropped
	// anyway), which spares the detector's cost on every other frame.
	collecting atomic.Bool
	resetDet   atomic.Bool                  // the detector starts afresh at the next frame
	taps       atomic.Pointer[[]media.Sink] // copy-on-write: set under tapMu
	tapMu      sync.Mutex
	outTaps    atomic.Pointer[[]*mixTap] // copy-on-write: set under tapMu
	dropped    atomic.Int64

	stop chan struct{}
	wg   sync.WaitGroup
}

var _ media.Sink = (*ear)(nil)

// newEar starts listening to leg.
func newEar(leg Leg, inband InbandDTMF) *ear {
	e := &ear{digits: make(chan byte, digitBuffer), stop: make(chan struct{})}
	sess := leg.Media()
	if inband == InbandAlways || (inband == InbandAuto && sess.Remote().EventPT == 0) {
		e.detector = dsp.NewDTMFDetector(dsp.DTMFConfig{})
		e.events = make([]dsp.DTMFEvent, 0, 4)
	}
	sess.SetSink(e)
	e.wg.Add(1)
	go e.relay(sess.DTMF(), leg.InfoDTMF(), leg.Done())
	return e
}

// relay forwards RFC 4733 and SIP INFO digits until the call ends.
func (e *ear) relay(rtp, info <-chan media.DTMF, done <-chan struct{}) {
	defer e.wg.Done()
	for {
		select {
		case d, ok := <-rtp:
			if !ok {
				rtp = nil
				continue
			}
			e.push(d.Digit)
		case d, ok := <-info:
			if !ok {
				info = nil
				continue
			}
			e.push(d.Digit)
		case <-done:
			return
		case <-e.stop:
			return
		}
	}
}

func (e *ear) push(d byte) {
	select {
	case e.digits <- d:
	default:
		e.dropped.Add(1)
	}
}

// WriteFrame takes one frame of the caller's audio.
func (e *ear) WriteFrame(frame []int16) error {
	if e.detector != nil && e.collecting.Load() {
		if e.resetDet.Swap(false) {
			e.detector.Reset()
		}
		e.events = e.detector.Process(frame, e.events[:0])
		for _, ev := range e.events {
			if !ev.End {
				e.push(ev.Digit)
			}
		}
	}
	if ts := e.taps.Load(); ts != nil {
		for _, t := range *ts {
			t.WriteFrame(frame)
		}
	}
	return nil
}

// addTap sends the caller's audio to s as well, until removeTap(s).
func (e *ear) addTap(s media.Sink) {
	e.tapMu.Lock()
	defer e.tapMu.Unlock()
	var ts []media.Sink
	if old := e.taps.Load(); old != nil {
		ts = append(ts, *old...)
	}
	ts = append(ts, s)
	e.taps.Store(&ts)
}

// removeTap stops sending the caller's audio to s.
func (e *ear) removeTap(s media.Sink) {
	e.tapMu.Lock()
	defer e.tapMu.Unlock()
	old := e.taps.Load()
	if old == nil {
		return
	}
	var ts []media.Sink
	for _, t := range *old {
		if t != s {
			ts = append(ts, t)
		}
	}
	e.taps.Store(&ts)
}

// collect starts (true) or stops (false) listening for in-band tones.
func (e *ear) collect(on bool) {
	if on && !e.collecting.Load() {
		e.resetDet.Store(true)
	}
	e.collecting.Store(on)
}

// flush discards digits pressed so far.
func (e *ear) flush() {
	for {
		select {
		case <-e.digits:
		default:
			return
		}
	}
}

// close stops the relay.
func (e *ear) close() {
	close(e.stop)
	e.wg.Wait()
}

// addOutTap sends what the call plays out to m as well.
func (e *ear) addOutTap(m *mixTap) {
	e.tapMu.Lock()
	defer e.tapMu.Unlock()
	var ts []*mixTap
	if old := e.outTaps.Load(); old != nil {
		ts = append(ts, *old...)
	}
	ts = append(ts, m)
	e.outTaps.Store(&ts)
}

// removeOutTap stops sending what the call plays out to m.
func (e *ear) removeOutTap(m *mixTap) {
	e.tapMu.Lock()
	defer e.tapMu.Unlock()
	old := e.outTaps.Load()
	if old == nil {
		return
	}
	var ts []*mixTap
	for _, t := range *old {
		if t != m {
			ts = append(ts, t)
		}
	}
	e.outTaps.Store(&ts)
}

// playedFrame passes one frame the call played out to the outbound taps.
func (e *ear) playedFrame(frame []int16) {
	if ts := e.outTaps.Load(); ts != nil {
		for _, t := range *ts {
			t.played(frame)
		}
	}
}
