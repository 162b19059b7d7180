package server_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/softphone"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// toServer sends every request, whatever its host (api.twilio.com, or the
// --public-url of a media_url), to the test server's HTTP address.
type toServer struct {
	addr string
	tr   *http.Transport
}

func (rt toServer) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = "http", rt.addr, rt.addr
	return rt.tr.RoundTrip(r)
}

// restClient is twilio-go's client with the main account's credentials,
// pointed at the server, and its HTTP client (for media URLs).
func (e *env) restClient() (*twilio.RestClient, *client.Client) {
	tr := &http.Transport{ResponseHeaderTimeout: 10 * time.Second}
	e.t.Cleanup(tr.CloseIdleConnections)
	c := &client.Client{
		Credentials: client.NewCredentials(testSID, testToken),
		HTTPClient:  &http.Client{Transport: toServer{addr: e.srv.HTTPAddr().String(), tr: tr}},
	}
	c.SetAccountSid(testSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c}), c
}

// liveCall waits for the one call of the account to be in progress.
func (e *env) liveCall() store.Call {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		calls, _, err := e.srv.Store().ListCalls(context.Background(), store.CallFilter{AccountSID: testSID}, store.Page{Size: 10})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(calls) == 1 && calls[0].Status == store.CallInProgress {
			return calls[0]
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no call in progress: %+v", calls)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCallRecordingAPIEndToEnd records a live call through the REST API
// with the official helper library: start, pause, resume (Twilio.CURRENT),
// stop; the file holds only the audio heard while the recording ran (the
// paused time is skipped), the statuses and callbacks follow Twilio's, and a
// recording left running is completed when the call ends.
func TestCallRecordingAPIEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	// A <Pause> first would keep the call ringing (Twilio answers once a
	// verb needs media): a short prompt answers it, then it waits 10 s.
	hello := toneWAV(t, 440, 200*time.Millisecond, 8000)
	e.app.handle("/hello.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/x-wav")
		http.ServeFile(w, r, hello)
	})
	e.app.twiml("/voice", `<Response><Play>/hello.wav</Play><Pause length="10"/></Response>`)
	e.app.handle("/rec-status", func(w http.ResponseWriter, r *http.Request) {})
	rc, hc := e.restClient()

	type outcome struct {
		res softphone.Result
		err error
	}
	ended := make(chan outcome, 1)
	go func() {
		// The caller plays a 1 kHz tone the whole call; the server hangs up
		// after the 10 s <Pause>.
		res, _, err := e.call("support", softphone.Script{Play: tone(1000, 20*time.Second)})
		ended <- outcome{res, err}
	}()
	call := e.liveCall()

	// Recording 1: 1.5 s recorded, 1.5 s paused, 1.5 s recorded, stopped.
	const span = 1500 * time.Millisecond
	rec, err := rc.Api.CreateCallRecording(call.SID, &openapi.CreateCallRecordingParams{
		RecordingStatusCallback:      ptr(e.app.url("/rec-status")),
		RecordingStatusCallbackEvent: &[]string{"in-progress completed"},
	})
	if err != nil {
		t.Fatalf("CreateCallRecording: %v", err)
	}
	started := time.Now()
	rsid := *rec.Sid
	statuses := []string{*rec.Status}
	if *rec.Source != "StartCallRecordingAPI" || *rec.Track != "both" || rec.Channels != 1 || rec.Duration != nil {
		t.Errorf("created: source %v track %v channels %d duration %v", *rec.Source, *rec.Track, rec.Channels, rec.Duration)
	}
	update := func(sid, status string) (time.Time, *openapi.ApiV2010CallRecording) {
		t.Helper()
		time.Sleep(span)
		got, err := rc.Api.UpdateCallRecording(call.SID, sid, &openapi.UpdateCallRecordingParams{Status: ptr(status), PauseBehavior: ptr("skip")})
		if err != nil {
			t.Fatalf("UpdateCallRecording %s: %v", status, err)
		}
		statuses = append(statuses, *got.Status)
		return time.Now(), got
	}
	paused, _ := update(rsid, "paused")
	resumed, _ := update("Twilio.CURRENT", "in-progress")
	stopped, final := update(rsid, "stopped")
	if want := []string{"in-progress", "paused", "in-progress", "completed"}; !equal(statuses, want) {
		t.Errorf("statuses %q, want %q", statuses, want)
	}
	ran := paused.Sub(started) + stopped.Sub(resumed) // about 3 s
	if final.Duration == nil || *final.Duration != "3" {
		t.Errorf("stopped recording duration %v, want \"3\" (%v recorded)", final.Duration, ran)
	}

	s := e.recordingFile(rsid)
	got := time.Duration(len(s)) * time.Second / media.SampleRate
	t.Logf("recording ran %v (paused %v); the file holds %v", ran, resumed.Sub(paused), got)
	if d := got - ran; d < -250*time.Millisecond || d > 250*time.Millisecond {
		t.Errorf("file holds %v of audio, want the %v the recording ran (paused time skipped)", got, ran)
	}
	// The tone throughout: skipping, not silence, filled the pause.
	quiet := 0
	for i := 0; i+media.FrameSamples <= len(s); i += media.FrameSamples {
		if dsp.Level(s[i:i+media.FrameSamples]) < -30 {
			quiet++
		}
	}
	if quiet > 3 {
		t.Errorf("%d silent 20 ms frames in the recording, want the tone throughout", quiet)
	}
	if !dominant(s[800:len(s)-800], 1000) {
		t.Error("recording does not hold the 1 kHz tone")
	}
	if lvl := dsp.Level(s[800 : len(s)-800]); math.Abs(lvl-(-12)) > 1.5 {
		t.Errorf("recorded at %.1f dBFS, sent at -12", lvl)
	}

	// Its media, downloaded from the media_url with the account's
	// credentials, is that file; without them it is refused.
	meta, err := rc.Api.FetchRecording(rsid, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.SendRequest("GET", *meta.MediaUrl, nil, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", *meta.MediaUrl, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "audio/x-wav" || len(body) != 44+2*len(s) {
		t.Errorf("media: %s, %d bytes, want a %d-byte WAV", resp.Header.Get("Content-Type"), len(body), 44+2*len(s))
	}
	anon, err := http.Get("http://" + e.srv.HTTPAddr().String() + mustPath(t, *meta.MediaUrl))
	if err != nil {
		t.Fatal(err)
	}
	anon.Body.Close()
	if anon.StatusCode != http.StatusUnauthorized {
		t.Errorf("media without credentials: %d, want 401", anon.StatusCode)
	}

	// Recording 2 is left running: the call's end completes it.
	rec2, err := rc.Api.CreateCallRecording(call.SID, &openapi.CreateCallRecordingParams{
		RecordingStatusCallback: ptr(e.app.url("/rec-status")),
	})
	if err != nil {
		t.Fatalf("second CreateCallRecording: %v", err)
	}
	var res outcome
	select {
	case res = <-ended:
	case <-time.After(20 * time.Second):
		t.Fatal("the call did not end")
	}
	if res.err != nil || !res.res.Answered {
		t.Fatalf("call: %+v %v", res.res, res.err)
	}
	e.finalCall()
	// The interpreter stores the call's final status, then finishes its
	// recordings and reports them: wait for recording 2's callback.
	cbs := e.app.waitFor("/rec-status", 3, 5*time.Second)
	left, err := rc.Api.FetchCallRecording(call.SID, *rec2.Sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *left.Status != "completed" || left.Duration == nil || *left.Duration == "0" {
		t.Fatalf("recording left running: status %s duration %v, want completed when the call ended", *left.Status, left.Duration)
	}
	if s2 := e.recordingFile(*rec2.Sid); len(s2) < 3*media.SampleRate || !dominant(s2[800:len(s2)-800], 1000) {
		t.Errorf("recording left running holds %d samples", len(s2))
	}
	// Starting one now is refused: the call is over.
	_, err = rc.Api.CreateCallRecording(call.SID, nil)
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Status != 400 || te.Code != 21220 {
		t.Errorf("recording a completed call: %v, want 400/21220", err)
	}

	// Callbacks: recording 1's in-progress and completed, recording 2's
	// completed (the default event), each signed.
	type cb struct{ sid, status, duration string }
	var gotCBs []cb
	for _, r := range cbs {
		if !r.Valid {
			t.Errorf("callback signature invalid: %v", r.Params)
		}
		if r.Params.Get("RecordingSource") != "StartCallRecordingAPI" || r.Params.Get("CallSid") != call.SID {
			t.Errorf("callback params %v", r.Params)
		}
		gotCBs = append(gotCBs, cb{r.Params.Get("RecordingSid"), r.Params.Get("RecordingStatus"), r.Params.Get("RecordingDuration")})
	}
	want := []cb{{rsid, "in-progress", "0"}, {rsid, "completed", "3"}, {*rec2.Sid, "completed", *left.Duration}}
	if len(gotCBs) != len(want) {
		t.Fatalf("callbacks %+v, want %+v", gotCBs, want)
	}
	for i := range want {
		if gotCBs[i] != want[i] {
			t.Errorf("callback %d: %+v, want %+v", i, gotCBs[i], want[i])
		}
	}
	if u := cbs[1].Params.Get("RecordingUrl"); u != *meta.MediaUrl {
		t.Errorf("RecordingUrl %q, want the media_url %q", u, *meta.MediaUrl)
	}
	// Deleting the first removes its file.
	if err := rc.Api.DeleteRecording(rsid, nil); err != nil {
		t.Fatal(err)
	}
	resp, err = hc.SendRequest("GET", *meta.MediaUrl, nil, nil)
	if err == nil {
		resp.Body.Close()
		t.Error("media still served after DELETE")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mustPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// A call recording holds both sides mixed (RecordingTrack=both, Twilio's
// default) or only the caller (inbound).
func TestCallRecordingTracks(t *testing.T) {
	t.Parallel()
	for _, track := range []string{"both", "inbound"} {
		t.Run(track, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, server.Options{})
			e.number("support", nil)
			prompt := toneWAV(t, 600, time.Second, 8000)
			e.app.handle("/prompt.wav", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "audio/x-wav")
				http.ServeFile(w, r, prompt)
			})
			e.app.twiml("/voice", `<Response><Play loop="0">/prompt.wav</Play></Response>`)
			rc, _ := e.restClient()
			done := make(chan struct{})
			go func() {
				defer close(done)
				e.call("support", softphone.Script{Play: tone(1000, 20*time.Second), Duration: 4 * time.Second})
			}()
			call := e.liveCall()
			rec, err := rc.Api.CreateCallRecording(call.SID, &openapi.CreateCallRecordingParams{RecordingTrack: ptr(track)})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			if _, err := rc.Api.UpdateCallRecording(call.SID, *rec.Sid, &openapi.UpdateCallRecordingParams{Status: ptr("stopped")}); err != nil {
				t.Fatal(err)
			}
			<-done
			s := e.recordingFile(*rec.Sid)
			if len(s) < media.SampleRate {
				t.Fatalf("recording of %d samples", len(s))
			}
			caller := dsp.GoertzelPower(s, 1000, media.SampleRate)
			played := dsp.GoertzelPower(s, 600, media.SampleRate)
			other := dsp.GoertzelPower(s, 1500, media.SampleRate)
			if caller < 100*other {
				t.Errorf("the caller's 1 kHz is not in the recording")
			}
			switch track {
			case "both":
				if played < 100*other {
					t.Errorf("what the call played (600 Hz) is not in a both-track recording")
				}
			case "inbound":
				if played > caller/100 {
					t.Errorf("an inbound recording holds what the call played")
				}
			}
		})
	}
}
