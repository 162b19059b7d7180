package server_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/softphone"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// Three phones in one room, each sending its own tone: each hears the two
// others and never itself; the first hears the wait music until the second
// arrives; the room's status callbacks follow Twilio's sequence.
func TestConferenceThreePhones(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550120000", nil)
	e.app.twiml("/voice", `<Response><Dial><Conference statusCallback="/conf" statusCallbackEvent="start end join leave">room1</Conference></Dial></Response>`)
	e.app.handle("/conf", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	freqs := []float64{500, 800, 1300}
	ears := make([]*heard, len(freqs))
	var wg sync.WaitGroup
	for i, f := range freqs {
		ears[i] = &heard{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := e.phone.Call(ctx, softphone.Options{
				URI: "sip:+15550120000@" + e.srv.SIPAddr().String(), From: "+1555000000" + string(rune('1'+i)),
				Script: softphone.Script{Play: tone(f, 4*time.Second), Duration: 4 * time.Second, Sink: ears[i]},
			})
			if err != nil || !res.Answered {
				t.Errorf("caller %d: %+v %v", i, res, err)
			}
		}()
		time.Sleep(400 * time.Millisecond) // callers arrive one after the other
	}
	wg.Wait()
	for i, f := range freqs {
		s := window(ears[i].all(), time.Second, 3*time.Second)
		own := dsp.GoertzelPower(s, f, media.SampleRate)
		for j, g := range freqs {
			if j == i {
				continue
			}
			if p := dsp.GoertzelPower(s, g, media.SampleRate); p < 100*own || dsp.Level(s) < -30 {
				t.Errorf("caller %d (%v Hz) hears %v Hz at %.3g, itself at %.3g (level %.1f dBFS)", i, f, g, p, own, dsp.Level(s))
			}
		}
	}
	if lv := dsp.Level(window(ears[0].all(), 0, 300*time.Millisecond)); lv < -45 {
		t.Errorf("the first caller heard no wait music (%.1f dBFS)", lv)
	}

	cbs := e.app.waitFor("/conf", 8, 10*time.Second)
	var names []string
	for i, cb := range cbs {
		p := cb.Params
		names = append(names, p.Get("StatusCallbackEvent"))
		if !cb.Valid || p.Get("ConferenceSid") == "" || p.Get("FriendlyName") != "room1" || p.Get("AccountSid") != testSID ||
			p.Get("Timestamp") == "" || p.Get("SequenceNumber") != itoaT(i+1) {
			t.Errorf("callback %d: %v", i, p)
		}
	}
	want := []string{"participant-join", "participant-join", "conference-start", "participant-join",
		"participant-leave", "participant-leave", "participant-leave", "conference-end"}
	if !slices.Equal(names, want) {
		t.Errorf("callbacks %v, want %v", names, want)
	}
	confs, _, err := e.srv.Store().ListConferences(context.Background(), store.ConferenceFilter{AccountSID: testSID}, store.Page{Size: 10})
	if err != nil || len(confs) != 1 || confs[0].Status != store.ConferenceCompleted || confs[0].UniqueParticipants != 3 ||
		confs[0].MaxConcurrentParticipants != 3 || confs[0].ReasonConferenceEnded != store.ConferenceEndedLastLeft {
		t.Fatalf("conferences %+v %v", confs, err)
	}
	parts, _, err := e.srv.Store().ListParticipants(context.Background(), store.ParticipantFilter{AccountSID: testSID, ConferenceSID: confs[0].SID}, store.Page{Size: 10})
	if err != nil || len(parts) != 3 {
		t.Fatalf("participants %+v %v", parts, err)
	}
	for _, p := range parts {
		if p.Status != store.ParticipantComplete || p.LeaveTime.IsZero() || p.ReasonParticipantLeft != store.ParticipantLeftHungUp {
			t.Errorf("participant %+v", p)
		}
	}
}

func itoaT(n int) string { return strconv.Itoa(n) }

// callInto places a call from the env's phone to number in the background.
func (e *env) callInto(t *testing.T, number, from string, script softphone.Script) <-chan softphone.Result {
	ch := make(chan softphone.Result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := e.phone.Call(ctx, softphone.Options{
			URI: "sip:" + number + "@" + e.srv.SIPAddr().String(), From: from, Script: script,
		})
		if err != nil {
			t.Logf("caller %s: %v", from, err)
		}
		ch <- res
	}()
	return ch
}

// A moderated room: attendees (startConferenceOnEnter false) wait with the
// music, not hearing each other, until the moderator arrives; a muted
// attendee is never heard; the moderator leaving (endConferenceOnExit) ends
// the room for everyone, whose Dial goes on with its action.
func TestConferenceModerated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550121000", func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url("/attendee") })
	e.number("+15550121001", func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url("/muted") })
	e.number("+15550121002", func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url("/moderator") })
	conf := `statusCallback="/conf" statusCallbackEvent="start end join leave"`
	e.app.twiml("/attendee", `<Response><Dial action="/after"><Conference startConferenceOnEnter="false" `+conf+`>board</Conference></Dial></Response>`)
	e.app.twiml("/muted", `<Response><Dial action="/after"><Conference startConferenceOnEnter="false" muted="true" beep="false">board</Conference></Dial></Response>`)
	e.app.twiml("/moderator", `<Response><Dial><Conference endConferenceOnExit="true">board</Conference></Dial></Response>`)
	e.app.twiml("/after", `<Response><Hangup/></Response>`)
	e.app.handle("/conf", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

	a, m, mod := &heard{}, &heard{}, &heard{}
	ach := e.callInto(t, "+15550121000", "+15550000001", softphone.Script{Play: tone(500, 6*time.Second), Sink: a})
	time.Sleep(300 * time.Millisecond)
	mch := e.callInto(t, "+15550121001", "+15550000002", softphone.Script{Play: tone(800, 6*time.Second), Sink: m})
	time.Sleep(1500 * time.Millisecond) // both wait
	modch := e.callInto(t, "+15550121002", "+15550000003", softphone.Script{Play: tone(1300, 2*time.Second), Duration: 2 * time.Second, Sink: mod})
	for _, ch := range []<-chan softphone.Result{modch, ach, mch} {
		if r := wait(t, ch, 20*time.Second, "a caller"); !r.Answered {
			t.Errorf("caller %+v", r)
		}
	}
	// While waiting, the attendee heard music, not the muted one's tone.
	waiting := window(a.all(), 300*time.Millisecond, 1500*time.Millisecond)
	if lv := dsp.Level(waiting); lv < -40 {
		t.Errorf("the waiting attendee heard no music: %.1f dBFS", lv)
	}
	if dominant(waiting, 800) {
		t.Errorf("the waiting attendee heard the other attendee")
	}
	// Once the moderator was in: the attendee hears the moderator, never
	// the muted one; the moderator hears the attendee only.
	in := toneSpan(a.all(), 1300, time.Second)
	if in == nil || !dominant(in, 1300) {
		t.Errorf("the attendee did not hear the moderator")
	}
	if p8, p13 := dsp.GoertzelPower(in, 800, media.SampleRate), dsp.GoertzelPower(in, 1300, media.SampleRate); p8*100 > p13 {
		t.Errorf("the muted attendee was heard: 800 Hz %.3g against 1300 Hz %.3g", p8, p13)
	}
	ms := mod.all()
	if span := toneSpan(ms, 500, time.Second); span == nil || dsp.GoertzelPower(span, 800, media.SampleRate)*100 > dsp.GoertzelPower(span, 500, media.SampleRate) {
		t.Errorf("the moderator: attendee heard %v, muted heard too", span != nil)
	}
	// The beep of the moderator's entry (880 Hz) reached the attendee.
	if dsp.GoertzelPower(a.all(), 880, media.SampleRate) < 1e3*dsp.GoertzelPower(a.all(), 2000, media.SampleRate) {
		t.Errorf("no entry beep heard")
	}
	// The room ended with the moderator: both attendees went on to the action.
	after := e.app.waitFor("/after", 2, 5*time.Second)
	for _, r := range after {
		if r.Params.Get("ConferenceSid") == "" {
			t.Errorf("action %v", r.Params)
		}
	}
	cbs := e.app.waitFor("/conf", 8, 5*time.Second)
	last := cbs[len(cbs)-1].Params
	if last.Get("StatusCallbackEvent") != "conference-end" || last.Get("ReasonConferenceEnded") != "participant-with-end-conference-on-exit-left" ||
		last.Get("CallSidEndingConference") == "" {
		t.Errorf("end callback %v", last)
	}
}
