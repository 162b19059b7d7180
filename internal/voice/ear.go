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
// The RFC 4733 events and SIP INFO digits are relayed into digits by a
// goroutine of their own, likewise only while a verb listens (listen): a
// goroutine per live call costs its stack, and stacks were a quarter of the
// memory of a say-only load. Meanwhile the digits wait in the leg's own
// channels, and flush discards them there too.
//
// TapIn runs on the media pacer: it never blocks.
type ear struct {
	digits   chan byte
	media    Media
	rtp      <-chan media.DTMF // the leg's RFC 4733 events
	info     <-chan media.DTMF // the leg's SIP INFO digits
	done     <-chan struct{}   // the leg's end
	inband   bool              // tones in the audio are keys
	detector *dsp.DTMFDetector // made at the first collect (about a KB)
	events   []dsp.DTMFEvent   // reused by the detector, on the pacer
	// collecting is whether the ear is a tap now, and listening how many
	// verbs listen (nested: a <Say> in a <Gather> in a bridge); only the
	// goroutine that runs the call's verbs (collect, listen, close) uses
	// them.
	collecting bool
	listening  int
	dropped    atomic.Int64

	stop chan struct{} // ends the relay running now
	wg   sync.WaitGroup
}

var _ media.Tap = (*ear)(nil)

// newEar returns leg's ear, listening to nothing yet.
func newEar(leg Leg, inband InbandDTMF) *ear {
	m := leg.Media()
	e := &ear{digits: make(chan byte, digitBuffer), media: m, rtp: m.DTMF(), info: leg.InfoDTMF(), done: leg.Done()}
	e.inband = inband == InbandAlways || (inband == InbandAuto && m.Remote().EventPT == 0)
	return e
}

// listen starts relaying the leg's RFC 4733 and SIP INFO digits into
// digits, if no verb does yet; unlisten undoes it.
func (e *ear) listen() {
	if e.listening++; e.listening > 1 {
		return
	}
	e.stop = make(chan struct{})
	e.wg.Add(1)
	go e.relay(e.rtp, e.info, e.done, e.stop)
}

// unlisten stops the relay once the last verb listening is done.
func (e *ear) unlisten() {
	if e.listening == 0 { // closed meanwhile
		return
	}
	if e.listening--; e.listening > 0 {
		return
	}
	close(e.stop)
	e.wg.Wait()
}

// relay forwards RFC 4733 and SIP INFO digits until the call ends or stop
// is closed.
func (e *ear) relay(rtp, info <-chan media.DTMF, done, stop <-chan struct{}) {
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
		case <-stop:
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

// flush discards digits pressed so far, relayed or still in the leg's
// channels.
func (e *ear) flush() {
	drainDTMF(e.rtp)
	drainDTMF(e.info)
	for {
		select {
		case <-e.digits:
		default:
			return
		}
	}
}

// drainDTMF takes what ch holds now, without waiting.
func drainDTMF(ch <-chan media.DTMF) {
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// close stops the relay and the listening.
func (e *ear) close() {
	e.collect(false)
	if e.listening > 0 {
		e.listening = 1
		e.unlisten()
	}
}
