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

// ear is a call's listening side: it turns the far end's key presses, in
// whichever form they come (RFC 4733 events, SIP INFO, in-band tones), into
// one stream of digits, whoever the leg's consumer is.
//
// For in-band tones it is a tap on the call's media, but only while a verb
// collects keys (a <Gather>, a <Record>, hangupOnStar): keys pressed at other
// times are dropped anyway, and a tap costs the pacer on every frame of the
// call, the detector aside. (In a say-only load, the tap's check alone, three
// pointers followed per call per tick, was a tenth of the CPU.)
//
// TapIn runs on the media pacer: it never blocks.
type ear struct {
	digits   chan byte
	media    Media
	inband   bool              // tones in the audio are keys
	detector *dsp.DTMFDetector // made at the first collect (about a KB)
	events   []dsp.DTMFEvent   // reused by the detector, on the pacer
	// collecting is whether the ear is a tap now; only the goroutine that
	// runs the call's verbs (collect, close) uses it.
	collecting bool
	dropped    atomic.Int64

	stop chan struct{}
	wg   sync.WaitGroup
}

var _ media.Tap = (*ear)(nil)

// newEar starts listening to leg.
func newEar(leg Leg, inband InbandDTMF) *ear {
	m := leg.Media()
	e := &ear{digits: make(chan byte, digitBuffer), media: m, stop: make(chan struct{})}
	e.inband = inband == InbandAlways || (inband == InbandAuto && m.Remote().EventPT == 0)
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
	e.events = e.detector.Process(frame, e.events[:0])
	for _, ev := range e.events {
		if !ev.End {
			e.push(ev.Digit)
		}
	}
}

// TapOut ignores what the far end hears.
func (e *ear) TapOut([]int16) {}

// collect starts (true) or stops (false) listening for in-band tones: the
// ear becomes a tap with a detector started afresh, or stops being one. Only
// the goroutine running the call's verbs calls it.
func (e *ear) collect(on bool) {
	if !e.inband || on == e.collecting {
		return
	}
	e.collecting = on
	if on {
		// Not a tap yet: the pacer is not using the detector.
		if e.detector == nil {
			e.detector = dsp.NewDTMFDetector(dsp.DTMFConfig{})
			e.events = make([]dsp.DTMFEvent, 0, 4)
		}
		e.detector.Reset()
		e.media.AddTap(e)
	} else {
		e.media.RemoveTap(e)
	}
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

// close stops the relay and the listening.
func (e *ear) close() {
	e.collect(false)
	close(e.stop)
	e.wg.Wait()
}
