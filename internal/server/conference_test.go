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
