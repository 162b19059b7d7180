package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/softphone"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/voice"
)

// silenceThen returns a script source: d of silence, so that the digits that
// follow it arrive once the <Gather> runs.
func silence(d time.Duration) media.Source { return dsp.SilenceSource(d) }

func TestGatherDigits(t *testing.T) {
	t.Parallel()
	needEspeak(t)
	for _, tc := range []struct {
		name, gather  string
		play          time.Duration // silence before the digits
		digits        string
		wantDigits    string
		wantFinished  string
		maxTalk       time.Duration
		wantNoRequest bool
	}{
		{
			name:   "numDigits with barge-in",
			gather: `<Gather numDigits="3" action="/got"><Say>This is a long menu prompt that goes on and on, for many seconds, so that the caller interrupts it well before it ends.</Say></Gather>`,
			play:   time.Second, digits: "123", wantDigits: "123", maxTalk: 4 * time.Second,
		},
		{
			name:   "finishOnKey",
			gather: `<Gather action="/got" timeout="10"/>`,
			play:   500 * time.Millisecond, digits: "42#", wantDigits: "42", wantFinished: "#", maxTalk: 4 * time.Second,
		},
		{
			name:   "custom finishOnKey and timeout",
			gather: `<Gather action="/got" finishOnKey="*" timeout="1"/>`,
			play:   300 * time.Millisecond, digits: "7#", wantDigits: "7#", maxTalk: 4 * time.Second,
		},
		{
			name:       "actionOnEmptyResult",
			gather:     `<Gather action="/got" timeout="1" actionOnEmptyResult="true"/>`,
			wantDigits: "", maxTalk: 4 * time.Second,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, server.Options{})
			e.number("support", nil)
			e.app.twiml("/voice", `<Response>`+tc.gather+`<Say>no input</Say></Response>`)
			e.app.twiml("/got", `<Response><Hangup/></Response>`)
			script := softphone.Script{Digits: tc.digits, Duration: 15 * time.Second}
			if tc.play > 0 {
				script.Play = silence(tc.play)
			}
			start := time.Now()
			res, _, err := e.call("support", script)
			if err != nil || !res.Answered {
				t.Fatalf("%+v %v", res, err)
			}
			if el := time.Since(start); el > tc.maxTalk {
				t.Errorf("the call took %v, want under %v", el, tc.maxTalk)
			}
			got := e.app.waitFor("/got", 1, 2*time.Second)[0]
			if d := got.Params.Get("Digits"); d != tc.wantDigits {
				t.Errorf("Digits = %q, want %q", d, tc.wantDigits)
			}
			if _, ok := got.Params["FinishedOnKey"]; !ok || got.Params.Get("FinishedOnKey") != tc.wantFinished {
				t.Errorf("FinishedOnKey = %q (present %v), want %q", got.Params.Get("FinishedOnKey"), ok, tc.wantFinished)
			}
			if !got.Valid || got.Params.Get("CallSid") == "" || got.Params.Get("CallStatus") != "in-progress" {
				t.Errorf("action request: %+v", got)
			}
		})
	}
}

func TestGatherEmptyInputFallsThrough(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response><Gather action="/got" timeout="1"><Play digits="w"/></Gather><Play>/after.wav</Play></Response>`)
	tone := toneWAV(t, 800, time.Second, 8000)
	e.app.handle("/after.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		http.ServeFile(w, r, tone)
	})
	res, h, err := e.call("support", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	if n := len(e.app.got("/got")); n != 0 {
		t.Errorf("action requested %d times with no input", n)
	}
	if !dominant(voiced(h.all()), 800) {
		t.Error("the verb after the <Gather> did not run")
	}
	if res.Talk < 1400*time.Millisecond {
		t.Errorf("call lasted %v: the 0.5 s prompt and 1 s timeout did not both pass", res.Talk)
	}
}

func TestGatherInbandDTMF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{InbandDTMF: voice.InbandAlways})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response><Gather action="/got" numDigits="4" timeout="5"/></Response>`)
	e.app.twiml("/got", `<Response><Hangup/></Response>`)
	tones, err := dsp.DTMFSource("9*0D", 80*time.Millisecond, 80*time.Millisecond, -10)
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := e.call("support", softphone.Script{Play: media.SourceFunc(func(f []int16) error {
		return tones.ReadFrame(f)
	}), Duration: 10 * time.Second})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	got := e.app.waitFor("/got", 1, 2*time.Second)[0]
	if d := got.Params.Get("Digits"); d != "9*0D" {
		t.Errorf("in-band Digits = %q, want 9*0D", d)
	}
}

func TestHangupDuringGather(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response><Gather action="/got" timeout="10"/></Response>`)
	res, _, err := e.call("support", softphone.Script{Digits: "12", Duration: time.Second})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	call := e.finalCall()
	if call.Status != store.CallCompleted || call.Duration > 2 {
		t.Errorf("call record %+v", call)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(e.app.got("/got")); n != 0 {
		t.Errorf("the action was requested for a caller who hung up")
	}
}
