package server_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/softphone"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// newCallee starts a second softphone, for the server to call.
func newCallee(t *testing.T) *softphone.Phone {
	t.Helper()
	p, err := softphone.Start(softphone.Config{RTPPortMin: 23000, RTPPortMax: 23999})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// serveTone serves a WAV tone of freq Hz lasting d at path.
func (e *env) serveTone(path string, freq float64, d time.Duration) {
	file := toneWAV(e.t, freq, d, 8000)
	e.app.handle(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		http.ServeFile(w, r, file)
	})
}

// answer makes callee take the next call in the background; the result
// comes on the returned channel.
func answer(t *testing.T, callee *softphone.Phone, o softphone.AnswerOptions) <-chan softphone.Result {
	ch := make(chan softphone.Result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	go func() {
		defer cancel()
		res, err := callee.Answer(ctx, o)
		if err != nil {
			t.Logf("callee: %v", err)
		}
		ch <- res
	}()
	return ch
}

func wait[T any](t *testing.T, ch <-chan T, within time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(within):
		t.Fatalf("%s: nothing within %v", what, within)
		panic("unreachable")
	}
}

// A call placed with twilio-go's CreateCall rings a real SIP phone, which
// answers and hears the TwiML's audio; every progress event reaches the
// StatusCallback in order, signed, and the call record ends completed.
func TestCreateCallToSoftphone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	callee := newCallee(t)
	e.serveTone("/tone.wav", 600, 2*time.Second)
	e.app.twiml("/outbound", `<Response><Play>/tone.wav</Play></Response>`)
	e.app.handle("/status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := &heard{}
	done := answer(t, callee, softphone.AnswerOptions{Ring: 300 * time.Millisecond, Script: softphone.Script{Sink: h}})

	to := callee.URI("alice")
	call, err := e.rest().Api.CreateCall(&openapi.CreateCallParams{
		To: &to, From: ptr("+15557654321"), Url: ptr(e.app.url("/outbound")),
		StatusCallback:      ptr(e.app.url("/status")),
		StatusCallbackEvent: &[]string{"initiated", "ringing", "answered", "completed"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if *call.Status != "queued" || *call.Direction != "outbound-api" || *call.To != to || *call.From != "+15557654321" {
		t.Errorf("created call: status %s direction %s to %s from %s", *call.Status, *call.Direction, *call.To, *call.From)
	}
	res := wait(t, done, 20*time.Second, "callee")
	if !res.Answered {
		t.Fatalf("callee: %+v", res)
	}
	if s := voiced(h.all()); len(s) < 3*media.SampleRate/2 || !dominant(s, 600) {
		t.Errorf("callee heard %d voiced samples, 600 Hz dominant %v", len(s), dominant(s, 600))
	}

	status := e.app.waitFor("/status", 4, 10*time.Second)
	want := []string{"initiated", "ringing", "in-progress", "completed"}
	for i, r := range status {
		if i >= len(want) {
			t.Errorf("extra status callback %v", r.Params)
			continue
		}
		p := r.Params
		if !r.Valid || p.Get("CallStatus") != want[i] || p.Get("SequenceNumber") != strconv.Itoa(i) ||
			p.Get("CallbackSource") != "call-progress-events" || p.Get("CallSid") != *call.Sid ||
			p.Get("Direction") != "outbound-api" || p.Get("Timestamp") == "" {
			t.Errorf("status callback %d: valid %v %v", i, r.Valid, p)
		}
	}
	if d, _ := strconv.Atoi(status[3].Params.Get("CallDuration")); d < 1 || d > 4 {
		t.Errorf("completed CallDuration %q", status[3].Params.Get("CallDuration"))
	}

	out := e.app.got("/outbound")
	if len(out) != 1 {
		t.Fatalf("%d TwiML requests", len(out))
	}
	p := out[0].Params
	if !out[0].Valid || p.Get("Direction") != "outbound-api" || p.Get("CallStatus") != "in-progress" ||
		p.Get("To") != to || p.Get("From") != "+15557654321" || p.Get("ApiVersion") != "2010-04-01" || p.Get("CallSid") != *call.Sid {
		t.Errorf("TwiML request: %v", p)
	}

	got, err := e.rest().Api.FetchCall(*call.Sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Status != "completed" || got.Duration == nil || *got.Duration == "0" || got.StartTime == nil || got.EndTime == nil {
		t.Errorf("call record: status %v duration %v start %v end %v", *got.Status, got.Duration, got.StartTime, got.EndTime)
	}

	// The call's webhooks, read back from its event log: the TwiML fetch and
	// the four status callbacks, each with its request and response.
	// (An exchange is logged once its answer is in, just after the app saw
	// the request.)
	var events []openapi.ApiV2010CallEvent
	for deadline := time.Now().Add(5 * time.Second); len(events) < 5 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if events, err = e.rest().Api.ListCallEvent(*call.Sid, nil); err != nil {
			t.Fatal(err)
		}
	}
	var urls []string
	for _, ev := range events {
		req, _ := (*ev.Request).(map[string]any)
		res, _ := (*ev.Response).(map[string]any)
		u, _ := req["url"].(string)
		urls = append(urls, strings.TrimPrefix(u, e.app.url("")))
		params, _ := req["parameters"].(map[string]any)
		if req["method"] != "POST" || params["CallSid"] != *call.Sid || res["response_code"] == nil {
			t.Errorf("event %v %v", req, res)
		}
		if u == e.app.url("/outbound") && (res["response_code"] != 200.0 || !strings.Contains(res["response_body"].(string), "<Play>")) {
			t.Errorf("TwiML fetch event: %v", res)
		}
	}
	// Callbacks leave in the background: only their number is certain
	// relative to the TwiML fetch.
	slices.Sort(urls)
	if want := []string{"/outbound", "/status", "/status", "/status", "/status"}; !equal(urls, want) {
		t.Errorf("call events %q, want %q", urls, want)
	}
}

// A call given inline TwiML runs it without fetching anything; SendDigits
// reach the callee as RFC 4733 events once it answers.
func TestCreateCallWithTwiml(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	callee := newCallee(t)
	e.serveTone("/tone.wav", 700, time.Second)
	h := &heard{}
	done := answer(t, callee, softphone.AnswerOptions{Script: softphone.Script{Sink: h}})
	to := callee.URI("bob")
	call, err := e.rest().Api.CreateCall(&openapi.CreateCallParams{
		To: &to, From: ptr("switchboard"), SendDigits: ptr("1w2#"),
		Twiml: ptr(`<Response><Play>` + e.app.url("/tone.wav") + `</Play></Response>`),
	})
	if err != nil {
		t.Fatal(err)
	}
	res := wait(t, done, 20*time.Second, "callee")
	if !res.Answered || res.Digits != "12#" {
		t.Fatalf("callee: answered %v, digits %q (want 12#)", res.Answered, res.Digits)
	}
	if s := voiced(h.all()); !dominant(s, 700) {
		t.Errorf("callee did not hear the 700 Hz tone (%d voiced samples)", len(s))
	}
	got := e.waitStatus(*call.Sid, "completed")
	if *got.Direction != "outbound-api" {
		t.Errorf("direction %s", *got.Direction)
	}
}

// Record=true records the whole call from the answer, both ways mixed: the
// recording holds what the callee said and what it heard, and the completed
// callback carries it.
func TestCreateCallRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	callee := newCallee(t)
	e.serveTone("/tone.wav", 600, 2*time.Second)
	e.app.handle("/status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	done := answer(t, callee, softphone.AnswerOptions{Script: softphone.Script{Play: tone(1000, 2*time.Second)}})
	to := callee.URI("erin")
	call, err := e.rest().Api.CreateCall(&openapi.CreateCallParams{
		To: &to, From: ptr("switchboard"), Record: ptrBool(true), StatusCallback: ptr(e.app.url("/status")),
		Twiml: ptr(`<Response><Play>` + e.app.url("/tone.wav") + `</Play></Response>`),
	})
	if err != nil {
		t.Fatal(err)
	}
	wait(t, done, 20*time.Second, "callee")
	cb := e.app.waitFor("/status", 1, 10*time.Second)[0].Params
	rsid := cb.Get("RecordingSid")
	if cb.Get("CallStatus") != "completed" || rsid == "" || !strings.HasSuffix(cb.Get("RecordingUrl"), "/Recordings/"+rsid) {
		t.Fatalf("completed callback: %v", cb)
	}
	rec, err := e.srv.Store().Recording(context.Background(), testSID, rsid)
	if err != nil || rec.CallSID != *call.Sid || rec.Source != store.SourceOutboundAPI || rec.Status != store.RecordingCompleted {
		t.Fatalf("recording %+v %v", rec, err)
	}
	s := e.recordingFile(rsid)
	if len(s) < media.SampleRate {
		t.Fatalf("recording of %d samples", len(s))
	}
	played := dsp.GoertzelPower(s, 600, media.SampleRate)
	said := dsp.GoertzelPower(s, 1000, media.SampleRate)
	other := dsp.GoertzelPower(s, 1400, media.SampleRate)
	if played < 20*other || said < 20*other {
		t.Errorf("recording: 600 Hz (played) %.3g, 1 kHz (said) %.3g, 1.4 kHz %.3g: want both sides", played, said, other)
	}
}

func ptrBool(b bool) *bool { return &b }

// waitStatus waits until the call's record has the status.
func (e *env) waitStatus(callSID, status string) openapi.ApiV2010Call {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := e.rest().Api.FetchCall(callSID, nil)
		if err != nil {
			e.t.Fatal(err)
		}
		if *c.Status == status {
			return *c
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("call %s is %s, want %s", callSID, *c.Status, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
