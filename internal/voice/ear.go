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

// ear is a call's listening side, a tap on its media for the whole call: it
// turns the far end's key presses, in whichever form they come (RFC 4733
// events, SIP INFO, in-band tones), into one stream of digits, whoever the
// leg's consumer is.
//
// TapIn runs on the media pacer: it never blocks.
type ear struct {
	digits   chan byte
	detector *dsp.DTMFDetector // nil unless listening in-band
	events   []dsp.DTMFEvent   // reused by the detector
	// collecting is set while a <Gather> or <Record> waits for keys: tones
	// are only looked for then (keys pressed at other times are dropped
	// anyway), which spares the detector's cost on every other frame.
	collecting atomic.Bool
	resetDet   atomic.Bool // the detector starts afresh at the next frame
	dropped    atomic.Int64

	stop chan struct{}
	wg   sync.WaitGroup
}

var _ media.Tap = (*ear)(nil)

// newEar starts listening to leg.
func newEar(leg Leg, inband InbandDTMF) *ear {
	e := &ear{digits: make(chan byte, digitBuffer), stop: make(chan struct{})}
	m := leg.Media()
	if inband == InbandAlways || (inband == InbandAuto && m.Remote().EventPT == 0) {
		e.detector = dsp.NewDTMFDetector(dsp.DTMFConfig{})
		e.events = make([]dsp.DTMFEvent, 0, 4)
	}
	m.AddTap(e)
	e.wg.Add(1)
	go e.relay(m.DTMF(), leg.InfoDTMF(), leg.Done())
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

// TapIn takes one frame of the far end's audio and looks for tones in it.
func (e *ear) TapIn(frame []int16) {
	if e.detector == nil || !e.collecting.Load() {
		return
	}
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

// TapOut ignores what the far end hears.
func (e *ear) TapOut([]int16) {}

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
