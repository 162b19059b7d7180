package server_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/softphone"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// ear is a softphone sink that tells when it starts hearing a tone: each
// watched frequency's channel is closed the first time it dominates 100 ms
// of what the phone hears.
type ear struct {
	heard
	mu     sync.Mutex
	window []int16
	watch  map[float64]chan struct{}
}

func newEar(freqs ...float64) *ear {
	e := &ear{watch: map[float64]chan struct{}{}}
	for _, f := range freqs {
		e.watch[f] = make(chan struct{})
	}
	return e
}

func (e *ear) WriteFrame(f []int16) error {
	e.heard.WriteFrame(f)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.window = append(e.window, f...)
	if len(e.window) < 5*media.FrameSamples {
		return nil
	}
	for freq, ch := range e.watch {
		if dominant(e.window, freq) {
			select {
			case <-ch:
			default:
				close(ch)
			}
		}
	}
	e.window = e.window[:0]
	return nil
}

// hears waits until the phone hears freq.
func (e *ear) hears(t *testing.T, freq float64, within time.Duration) {
	t.Helper()
	wait(t, e.watch[freq], within, "hearing the tone")
}

// An outbound call in a looping <Play> is redirected by UpdateCall(Url): the
// play stops at once and the new document runs; then Status=completed hangs
// it up.
func TestUpdateCallRedirectsPlayThenHangsUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	callee := newCallee(t)
	e.serveTone("/a.wav", 500, time.Second)
	e.serveTone("/b.wav", 900, time.Second)
	e.app.twiml("/outbound", `<Response><Play loop="0">/a.wav</Play></Response>`)
	e.app.twiml("/second", `<Response><Play loop="0">/b.wav</Play></Response>`)
	heard := newEar(500, 900)
	done := answer(t, callee, softphone.AnswerOptions{Script: softphone.Script{Sink: heard}})
	to := callee.URI("carol")
	c := e.rest()
	call, err := c.Api.CreateCall(&openapi.CreateCallParams{To: &to, From: ptr("switchboard"), Url: ptr(e.app.url("/outbound"))})
	if err != nil {
		t.Fatal(err)
	}
	heard.hears(t, 500, 10*time.Second)

	got, err := c.Api.UpdateCall(*call.Sid, &openapi.UpdateCallParams{Url: ptr(e.app.url("/second")), Method: ptr("GET")})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Status != "in-progress" {
		t.Errorf("redirected call: status %s", *got.Status)
	}
	heard.hears(t, 900, 5*time.Second)
	second := e.app.got("/second")
	if len(second) != 1 || second[0].Method != "GET" || second[0].Params.Get("CallStatus") != "in-progress" || !second[0].Valid {
		t.Fatalf("redirect request: %+v", second)
	}

	got, err = c.Api.UpdateCall(*call.Sid, &openapi.UpdateCallParams{Status: ptr("completed")})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Status != "completed" {
		t.Errorf("hung up call: status %s, want completed at once", *got.Status)
	}
	if res := wait(t, done, 10*time.Second, "callee"); res.End != sip.EndRemoteHangup {
		t.Errorf("callee's call ended %q, want remote-hangup", res.End)
	}
	// A call that has ended cannot be changed: Twilio's 21220.
	_, err = c.Api.UpdateCall(*call.Sid, &openapi.UpdateCallParams{Url: ptr(e.app.url("/second"))})
	wantRESTError(t, err, 400, 21220)
}

// A caller in a <Gather> is moved by UpdateCall(Twiml): the prompt stops, no
// action is requested, and the new TwiML runs.
func TestUpdateCallInGather(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.serveTone("/a.wav", 500, time.Second)
	e.serveTone("/b.wav", 900, time.Second)
	e.app.twiml("/voice", `<Response><Gather action="/gathered" timeout="30"><Play loop="0">/a.wav</Play></Gather></Response>`)
	e.app.twiml("/gathered", `<Response><Hangup/></Response>`)
	heard := newEar(500, 900)
	result := make(chan softphone.Result, 1)
	go func() {
		res, _, _ := e.callWith("support", softphone.Script{Sink: heard, Play: silence(30 * time.Second)})
		result <- res
	}()
	heard.hears(t, 500, 10*time.Second)
	call := e.liveCall()
	twiml := `<Response><Play>` + e.app.url("/b.wav") + `</Play><Hangup/></Response>`
	if _, err := e.rest().Api.UpdateCall(call.SID, &openapi.UpdateCallParams{Twiml: &twiml}); err != nil {
		t.Fatal(err)
	}
	heard.hears(t, 900, 5*time.Second)
	if res := wait(t, result, 10*time.Second, "caller"); res.End != sip.EndRemoteHangup {
		t.Errorf("caller's call ended %q", res.End)
	}
	if got := e.app.got("/gathered"); len(got) != 0 {
		t.Errorf("the interrupted Gather requested its action: %+v", got)
	}
	if c := e.finalCall(); c.Status != store.CallCompleted {
		t.Errorf("call status %s", c.Status)
	}
}

// A <Record> interrupted by UpdateCall keeps its recording (completed, its
// status callback sent) and requests no action; the new document runs.
func TestUpdateCallInRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.serveTone("/b.wav", 900, time.Second)
	e.app.twiml("/voice", `<Response><Record action="/recorded" playBeep="false" timeout="0" maxLength="60" recordingStatusCallback="/rec-status"/></Response>`)
	e.app.twiml("/after", `<Response><Play>/b.wav</Play><Hangup/></Response>`)
	heard := newEar(900)
	result := make(chan softphone.Result, 1)
	go func() {
		res, _, _ := e.callWith("support", softphone.Script{Sink: heard, Play: tone(700, 30*time.Second)})
		result <- res
	}()
	call := e.liveCall()
	// Let the recording take a second or so of the caller's tone.
	recs := e.waitRecordings(call.SID, 1)
	time.Sleep(1500 * time.Millisecond)
	if _, err := e.rest().Api.UpdateCall(call.SID, &openapi.UpdateCallParams{Url: ptr(e.app.url("/after"))}); err != nil {
		t.Fatal(err)
	}
	heard.hears(t, 900, 5*time.Second)
	wait(t, result, 10*time.Second, "caller")
	if got := e.app.got("/recorded"); len(got) != 0 {
		t.Errorf("the interrupted Record requested its action: %+v", got)
	}
	cb := e.app.waitFor("/rec-status", 1, 5*time.Second)[0]
	if cb.Params.Get("RecordingStatus") != "completed" || cb.Params.Get("RecordingSid") != recs[0].SID {
		t.Errorf("recording status callback: %v", cb.Params)
	}
	rec, err := e.srv.Store().Recording(context.Background(), testSID, recs[0].SID)
	if err != nil || rec.Status != store.RecordingCompleted || rec.Duration < time.Second {
		t.Errorf("recording: %+v %v", rec, err)
	}
}

// A call still ringing is canceled with Status=canceled: the far end gets a
// CANCEL and the call ends canceled, with its status callback.
func TestUpdateCallCancelsRinging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	callee := newCallee(t)
	e.app.handle("/status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	done := answer(t, callee, softphone.AnswerOptions{NoAnswer: true})
	to := callee.URI("dave")
	c := e.rest()
	call, err := c.Api.CreateCall(&openapi.CreateCallParams{
		To: &to, From: ptr("switchboard"), Twiml: ptr(`<Response><Hangup/></Response>`),
		StatusCallback: ptr(e.app.url("/status")), StatusCallbackEvent: &[]string{"ringing", "completed"},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.app.waitFor("/status", 1, 10*time.Second)
	got, err := c.Api.UpdateCall(*call.Sid, &openapi.UpdateCallParams{Status: ptr("canceled")})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Status != "canceled" {
		t.Errorf("canceled call: status %s", *got.Status)
	}
	if res := wait(t, done, 10*time.Second, "callee"); res.Answered || res.End != sip.EndCanceled {
		t.Errorf("callee: %+v", res)
	}
	status := e.app.waitFor("/status", 2, 5*time.Second)
	if status[0].Params.Get("CallStatus") != "ringing" || status[1].Params.Get("CallStatus") != "canceled" {
		t.Errorf("status callbacks %v then %v", status[0].Params.Get("CallStatus"), status[1].Params.Get("CallStatus"))
	}
}

// callWith places a call from the env's softphone with a script of its own.
func (e *env) callWith(user string, script softphone.Script) (softphone.Result, *heard, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := e.phone.Call(ctx, softphone.Options{
		URI: "sip:" + user + "@" + e.srv.SIPAddr().String(), From: "+15550001234", Script: script,
	})
	return res, nil, err
}

// waitRecordings waits for the call to have n recordings.
func (e *env) waitRecordings(callSID string, n int) []store.Recording {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs, _, err := e.srv.Store().ListRecordings(context.Background(), store.RecordingFilter{AccountSID: testSID, CallSID: callSID}, store.Page{Size: 10})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d recordings of %s, want %d", len(recs), callSID, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantRESTError checks a twilio-go error's HTTP status and Twilio code.
func wantRESTError(t *testing.T, err error, status, code int) {
	t.Helper()
	var te *client.TwilioRestError
	if !errors.As(err, &te) {
		t.Fatalf("error = %v (%T), want a Twilio error %d/%d", err, err, status, code)
	}
	if te.Status != status || te.Code != code {
		t.Fatalf("error = %d/%d %q, want %d/%d", te.Status, te.Code, te.Message, status, code)
	}
}
