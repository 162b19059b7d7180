package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/switchboard-voice/switchboard/internal/config"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/softphone"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/tts"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "fedcba9876543210fedcba9876543210"
)

// env is a running switchboard with one user app and one softphone.
type env struct {
	t       *testing.T
	data    string
	headers map[string]string // sent with every INVITE
	srv     *server.Server
	app     *app
	phone   *softphone.Phone
}

// app is the user's web app: it answers TwiML per path and records every
// request it gets.
type app struct {
	t  *testing.T
	ts *httptest.Server

	mu       sync.Mutex
	routes   map[string]http.HandlerFunc
	requests []appRequest
}

type appRequest struct {
	Path      string
	Method    string
	URL       string // as signed: the full URL
	Params    url.Values
	Signature string
	Valid     bool
}

func newApp(t *testing.T) *app {
	a := &app{t: t, routes: map[string]http.HandlerFunc{}}
	validator := client.NewRequestValidator(testToken)
	a.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		full := "http://" + r.Host + r.URL.RequestURI()
		sig := r.Header.Get("X-Twilio-Signature")
		params := map[string]string{}
		if r.Method == http.MethodPost {
			for k := range r.PostForm {
				params[k] = r.PostForm.Get(k)
			}
		}
		rec := appRequest{Path: r.URL.Path, Method: r.Method, URL: full, Params: r.Form, Signature: sig,
			Valid: validator.Validate(full, params, sig)}
		a.mu.Lock()
		a.requests = append(a.requests, rec)
		h := a.routes[r.URL.Path]
		a.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(a.ts.Close)
	return a
}

// twiml serves a TwiML document at path.
func (a *app) twiml(path, doc string) {
	a.handle(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, doc)
	})
}

func (a *app) handle(path string, h http.HandlerFunc) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.routes[path] = h
}

func (a *app) url(path string) string { return a.ts.URL + path }

// got returns the requests made to path so far.
func (a *app) got(path string) []appRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []appRequest
	for _, r := range a.requests {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// waitFor waits until path has had n requests.
func (a *app) waitFor(path string, n int, within time.Duration) []appRequest {
	a.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if got := a.got(path); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("%s: %d requests within %v, want %d", path, len(a.got(path)), within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newEnv(t *testing.T, opts server.Options) *env {
	t.Helper()
	return newEnvWith(t, opts, nil)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// number creates an IncomingPhoneNumber routed to the app.
func (e *env) number(phone string, set func(*store.IncomingPhoneNumber)) store.IncomingPhoneNumber {
	e.t.Helper()
	now := time.Now()
	n := store.IncomingPhoneNumber{
		SID: sid.New("PN"), AccountSID: testSID, PhoneNumber: phone, APIVersion: "2010-04-01",
		VoiceURL: e.app.url("/voice"), VoiceMethod: "POST", VoiceFallbackMethod: "POST", StatusCallbackMethod: "POST",
		SMSMethod: "POST", SMSFallbackMethod: "POST", DateCreated: now, DateUpdated: now,
	}
	if set != nil {
		set(&n)
	}
	n, err := e.srv.Store().CreateNumber(context.Background(), n)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// heard collects what the softphone hears.
type heard struct {
	mu      sync.Mutex
	samples []int16
}

func (h *heard) WriteFrame(f []int16) error {
	h.mu.Lock()
	h.samples = append(h.samples, f...)
	h.mu.Unlock()
	return nil
}

func (h *heard) all() []int16 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int16(nil), h.samples...)
}

// call places a call from the softphone to user at the server.
func (e *env) call(user string, script softphone.Script) (softphone.Result, *heard, error) {
	e.t.Helper()
	h := &heard{}
	script.Sink = h
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := e.phone.Call(ctx, softphone.Options{
		URI:     "sip:" + user + "@" + e.srv.SIPAddr().String(),
		From:    "+15550001234",
		Headers: e.headers,
		Script:  script,
	})
	return res, h, err
}

// finalCall returns the one call record of the account, once it is final.
func (e *env) finalCall() store.Call {
	e.t.Helper()
	return e.nthFinalCall(1)
}

// nthFinalCall returns the newest of the account's n call records, once
// it is final.
func (e *env) nthFinalCall(n int) store.Call {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		calls, _, err := e.srv.Store().ListCalls(context.Background(), store.CallFilter{AccountSID: testSID}, store.Page{Size: 10})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(calls) == n && calls[0].Status.Final() {
			return calls[0]
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no final call record: %+v", calls)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) notifications() []store.Notification {
	ns, _, err := e.srv.Store().ListNotifications(context.Background(), store.NotificationFilter{AccountSID: testSID}, store.Page{Size: 50})
	if err != nil {
		e.t.Fatal(err)
	}
	return ns
}

// voiced returns the samples above the noise floor: the span from the first
// to the last 20 ms frame louder than -45 dBFS.
func voiced(s []int16) []int16 {
	first, last := -1, -1
	for i := 0; i+media.FrameSamples <= len(s); i += media.FrameSamples {
		if dsp.Level(s[i:i+media.FrameSamples]) > -45 {
			if first < 0 {
				first = i
			}
			last = i + media.FrameSamples
		}
	}
	if first < 0 {
		return nil
	}
	return s[first:last]
}

// dominant reports whether freq dominates s: its Goertzel power is at least
// 20 times that at nearby frequencies.
func dominant(s []int16, freq float64) bool {
	p := dsp.GoertzelPower(s, freq, media.SampleRate)
	for _, other := range []float64{freq * 0.7, freq * 1.3, 440, 2200} {
		if math.Abs(other-freq) < 50 {
			continue
		}
		if q := dsp.GoertzelPower(s, other, media.SampleRate); p < 20*q {
			return false
		}
	}
	return p > 0
}

func toneWAV(t *testing.T, freq float64, d time.Duration, rate int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tone.wav")
	w, err := wav.Create(path, wav.Format{SampleRate: rate, Channels: 1, Encoding: wav.PCM, BitsPerSample: 16})
	if err != nil {
		t.Fatal(err)
	}
	n := int(d.Seconds() * float64(rate))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	if err := w.WriteSamples(s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func needEspeak(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
}

func TestSayHangupEndToEnd(t *testing.T) {
	t.Parallel()
	needEspeak(t)
	e := newEnv(t, server.Options{})
	e.number("support", func(n *store.IncomingPhoneNumber) { n.StatusCallback = e.app.url("/status") })
	e.app.twiml("/voice", `<?xml version="1.0" encoding="UTF-8"?>
<Response><Say voice="woman">Please leave a message after the tone.</Say><Hangup/></Response>`)
	e.headers = map[string]string{"X-Customer-Id": "42", "X-Tier": "gold"}

	res, h, err := e.call("support", softphone.Script{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Answered || res.StatusCode != 200 {
		t.Fatalf("call not answered: %+v", res)
	}
	if res.End.String() != "remote-hangup" {
		t.Errorf("call ended by %v, want the server's hangup", res.End)
	}
	speech := voiced(h.all())
	if d := time.Duration(len(speech)) * time.Second / media.SampleRate; d < 1500*time.Millisecond || d > 6*time.Second {
		t.Errorf("heard %v of speech, want about 2-3 s", d)
	}
	if lvl := dsp.Level(speech); lvl < -30 {
		t.Errorf("speech level %.1f dBFS: too quiet", lvl)
	}

	reqs := e.app.waitFor("/voice", 1, 5*time.Second)
	r := reqs[0]
	if !r.Valid {
		t.Errorf("X-Twilio-Signature %q rejected by twilio-go's RequestValidator for %s", r.Signature, r.URL)
	}
	call := e.finalCall()
	want := map[string]string{
		"CallSid": call.SID, "AccountSid": testSID, "From": "+15550001234", "To": "support",
		"CallStatus": "ringing", "ApiVersion": "2010-04-01", "Direction": "inbound",
		"SipCallId": res.CallID, "SipHeader_X-Customer-Id": "42", "SipHeader_X-Tier": "gold",
	}
	for k, v := range want {
		if got := r.Params.Get(k); got != v {
			t.Errorf("webhook %s = %q, want %q", k, got, v)
		}
	}
	if r.Params.Get("SipSourceIp") == "" {
		t.Error("webhook without SipSourceIp")
	}
	if call.Status != store.CallCompleted || call.EndTime.IsZero() || call.AnsweredAt.IsZero() {
		t.Errorf("call record: %+v", call)
	}
	if call.Duration < 1 || call.Duration > 8 {
		t.Errorf("call duration %d s", call.Duration)
	}

	st := e.app.waitFor("/status", 1, 5*time.Second)[0]
	for k, v := range map[string]string{"CallSid": call.SID, "CallStatus": "completed", "CallbackSource": "call-progress-events", "SequenceNumber": "0"} {
		if got := st.Params.Get(k); got != v {
			t.Errorf("status callback %s = %q, want %q", k, got, v)
		}
	}
	if st.Params.Get("CallDuration") == "" || st.Params.Get("Timestamp") == "" {
		t.Errorf("status callback without CallDuration/Timestamp: %v", st.Params)
	}
	if !st.Valid {
		t.Error("status callback signature invalid")
	}
}

func TestPlayWAVAndMP3(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15557654321", nil)
	tone := toneWAV(t, 1000, 2*time.Second, 22050)
	e.app.handle("/tone.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		http.ServeFile(w, r, tone)
	})
	mp3, err := os.ReadFile("../media/audiofile/testdata/tone1k-44k1-mono.mp3")
	if err != nil {
		t.Skip("no mp3 fixture:", err)
	}
	e.app.handle("/tone.mp3", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Write(mp3)
	})
	e.app.twiml("/voice", `<Response><Play>/tone.wav</Play><Pause length="1"/><Play loop="1">tone.mp3</Play></Response>`)

	// The number is called by its E.164 number written without '+', as
	// trunks often send it.
	var s []int16
	tries := 0
	e.unstalled(func() {
		tries++
		res, h, err := e.call("15557654321", softphone.Script{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Answered {
			t.Fatalf("not answered: %+v", res)
		}
		s = h.all()
	})
	// The first 2 s are the WAV tone (allow for the jitter buffer's delay).
	start := 0
	for start+media.FrameSamples <= len(s) && dsp.Level(s[start:start+media.FrameSamples]) < -30 {
		start += media.FrameSamples
	}
	wavPart := s[start:min(len(s), start+2*media.SampleRate)]
	if len(wavPart) < 2*media.SampleRate-2*media.FrameSamples {
		t.Fatalf("heard %d samples of the WAV, want 2 s", len(wavPart))
	}
	if !dominant(wavPart[800:len(wavPart)-800], 1000) {
		t.Error("the WAV's 1 kHz tone was not heard at 1 kHz")
	}
	lvl := dsp.Level(wavPart[800 : len(wavPart)-800])
	if want := dsp.DBFS(8000 / math.Sqrt2); math.Abs(lvl-want) > 1.5 {
		t.Errorf("WAV tone heard at %.1f dBFS, sent at %.1f", lvl, want)
	}
	// Then a second of silence, then the MP3.
	gap := s[start+2*media.SampleRate+800 : start+3*media.SampleRate-800]
	if lvl := dsp.Level(gap); lvl > -50 {
		t.Errorf("the <Pause> was not silent: %.1f dBFS", lvl)
	}
	mp3Part := voiced(s[start+3*media.SampleRate-800:])
	if len(mp3Part) < media.SampleRate/2 || !dominant(mp3Part, 1000) {
		t.Errorf("the MP3 tone was not heard (%d samples)", len(mp3Part))
	}
	if call := e.nthFinalCall(tries); call.Status != store.CallCompleted || call.To != "+15557654321" && call.To != "15557654321" {
		t.Errorf("call record %+v", call)
	}
}

func TestRejectNeverAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		doc    string
		code   int
		status store.CallStatus
	}{
		{`<Response><Reject reason="busy"/></Response>`, 486, store.CallBusy},
		{`<Response><Reject/><Say>unreachable</Say></Response>`, 603, store.CallNoAnswer},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			e := newEnv(t, server.Options{})
			e.number("support", nil)
			e.app.twiml("/voice", tc.doc)
			res, _, err := e.call("support", softphone.Script{})
			if err == nil || res.Answered {
				t.Fatalf("rejected call answered: %+v %v", res, err)
			}
			if res.StatusCode != tc.code {
				t.Errorf("SIP status %d, want %d", res.StatusCode, tc.code)
			}
			call := e.finalCall()
			if call.Status != tc.status || !call.AnsweredAt.IsZero() || call.Duration != 0 {
				t.Errorf("call record %+v, want status %s, never answered", call, tc.status)
			}
		})
	}
}

func TestUnknownNumberIs404(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	res, _, err := e.call("nobody", softphone.Script{})
	if err == nil || res.StatusCode != 404 {
		t.Fatalf("call to an unknown number: %+v %v, want 404", res, err)
	}
}

func TestRedirectAndRelativeURLs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	tone := toneWAV(t, 700, time.Second, 8000)
	e.app.handle("/menu/tone.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/x-wav")
		http.ServeFile(w, r, tone)
	})
	e.app.twiml("/voice", `<Response><Redirect method="GET">menu/next?step=2</Redirect><Say>never said</Say></Response>`)
	e.app.twiml("/menu/next", `<Response><Play>tone.wav</Play></Response>`)

	res, h, err := e.call("support", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	next := e.app.waitFor("/menu/next", 1, time.Second)[0]
	if next.Method != "GET" || next.Params.Get("step") != "2" || next.Params.Get("CallSid") == "" || !next.Valid {
		t.Errorf("redirect request: %+v", next)
	}
	if v := voiced(h.all()); !dominant(v, 700) || len(v) < media.SampleRate*8/10 {
		t.Errorf("redirected document's tone not heard (%d samples)", len(v))
	}
}

func TestPauseThenHangupDuration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response><Play digits="w"/><Pause length="2"/><Hangup/></Response>`)
	res, _, err := e.call("support", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	if res.Talk < 2300*time.Millisecond || res.Talk > 4*time.Second {
		t.Errorf("call lasted %v, want 0.5 s + 2 s", res.Talk)
	}
	if call := e.finalCall(); call.Duration < 2 || call.Duration > 4 {
		t.Errorf("record duration %d", call.Duration)
	}
}

func TestTextAndAudioResponses(t *testing.T) {
	t.Parallel()
	needEspeak(t)
	t.Run("text/plain is spoken", func(t *testing.T) {
		e := newEnv(t, server.Options{})
		e.number("support", nil)
		e.app.handle("/voice", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "Hello from a plain text answer.")
		})
		res, h, err := e.call("support", softphone.Script{})
		if err != nil || !res.Answered {
			t.Fatalf("%+v %v", res, err)
		}
		if d := len(voiced(h.all())); d < media.SampleRate {
			t.Errorf("heard %d samples of speech", d)
		}
		if res.End.String() != "remote-hangup" {
			t.Errorf("ended by %v", res.End)
		}
	})
	t.Run("audio is played", func(t *testing.T) {
		e := newEnv(t, server.Options{})
		e.number("support", nil)
		tone := toneWAV(t, 1200, time.Second, 16000)
		e.app.handle("/voice", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "audio/wav")
			http.ServeFile(w, r, tone)
		})
		res, h, err := e.call("support", softphone.Script{})
		if err != nil || !res.Answered {
			t.Fatalf("%+v %v", res, err)
		}
		if v := voiced(h.all()); !dominant(v, 1200) {
			t.Error("audio answer not heard at 1.2 kHz")
		}
	})
}

func TestFallbackURLAndNotifications(t *testing.T) {
	t.Parallel()
	needEspeak(t)
	e := newEnv(t, server.Options{})
	e.number("support", func(n *store.IncomingPhoneNumber) { n.VoiceFallbackURL = e.app.url("/fallback") })
	e.app.handle("/voice", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	tone := toneWAV(t, 900, time.Second, 8000)
	e.app.handle("/fallback.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		http.ServeFile(w, r, tone)
	})
	e.app.twiml("/fallback", `<Response><Play>/fallback.wav</Play></Response>`)
	res, h, err := e.call("support", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	if !dominant(voiced(h.all()), 900) {
		t.Error("the fallback document did not run")
	}
	fb := e.app.waitFor("/fallback", 1, time.Second)[0]
	if fb.Params.Get("ErrorCode") != "11200" || !fb.Valid {
		t.Errorf("fallback request: ErrorCode=%q valid=%v", fb.Params.Get("ErrorCode"), fb.Valid)
	}
	ns := e.notifications()
	if len(ns) != 1 || ns[0].ErrorCode != 11200 || ns[0].CallSID != e.finalCall().SID || ns[0].RequestURL != e.app.url("/voice") {
		t.Errorf("notifications: %+v", ns)
	}
}

func TestWebhookTimeoutSpeaksErrorAndEnds(t *testing.T) {
	t.Parallel()
	needEspeak(t)
	e := newEnv(t, server.Options{Webhook: webhook.Config{Timeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond}})
	e.number("support", nil)
	release := make(chan struct{})
	defer close(release)
	e.app.handle("/voice", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	res, h, err := e.call("support", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	if d := len(voiced(h.all())); d < media.SampleRate {
		t.Errorf("the application error message was not heard (%d samples)", d)
	}
	if res.End.String() != "remote-hangup" {
		t.Errorf("ended by %v, want the server's hangup", res.End)
	}
	call := e.finalCall()
	if call.Status != store.CallCompleted {
		t.Errorf("call %+v", call)
	}
	ns := e.notifications()
	if len(ns) == 0 || ns[0].ErrorCode != 11205 {
		t.Errorf("notifications %+v, want 11205", ns)
	}
}

func TestInvalidTwiMLIsRecorded(t *testing.T) {
	t.Parallel()
	needEspeak(t)
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response><Say>unterminated</Response>`)
	res, _, err := e.call("support", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	ns := e.notifications()
	if len(ns) != 1 || ns[0].ErrorCode != 12100 {
		t.Errorf("notifications %+v, want one 12100", ns)
	}
	if !bytes.Contains([]byte(ns[0].RequestURL), []byte("/voice")) {
		t.Errorf("notification request URL %q", ns[0].RequestURL)
	}
}

func TestPlayFailuresAreRecordedAndSkipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	tone := toneWAV(t, 600, time.Second, 8000)
	e.app.handle("/ok.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		http.ServeFile(w, r, tone)
	})
	e.app.handle("/page.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>not audio</body></html>")
	})
	e.app.twiml("/voice", `<Response><Play>/missing.wav</Play><Play>/page.html</Play><Play>/ok.wav</Play></Response>`)
	res, h, err := e.call("support", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	if !dominant(voiced(h.all()), 600) {
		t.Error("the playable file after two failing ones was not heard")
	}
	var codes []int
	for _, n := range e.notifications() {
		codes = append(codes, n.ErrorCode)
	}
	if len(codes) != 2 || codes[0] != 11200 || codes[1] != 13420 {
		t.Errorf("notification codes %v, want [11200 13420]", codes)
	}
}

func TestCookiesKeptPerCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	var n int
	var mu sync.Mutex
	e.app.handle("/voice", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		id := n
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "session", Value: string(rune('A' + id - 1)), Path: "/"})
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<Response><Redirect>/second</Redirect></Response>`)
	})
	var cookies []string
	e.app.handle("/second", func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("session")
		mu.Lock()
		if c != nil {
			cookies = append(cookies, c.Value)
		} else {
			cookies = append(cookies, "")
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<Response><Hangup/></Response>`)
	})
	for range 2 {
		if res, _, err := e.call("support", softphone.Script{}); err != nil || !res.Answered {
			t.Fatalf("%+v %v", res, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(cookies) != 2 || cookies[0] != "A" || cookies[1] != "B" {
		t.Errorf("cookies sent back %q, want each call's own [A B]", cookies)
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", func(n *store.IncomingPhoneNumber) { n.StatusCallback = e.app.url("/status") })
	// A first <Pause> delays the answer, as on Twilio; the caller gives up.
	e.app.twiml("/voice", `<Response><Pause length="10"/><Say>too late</Say></Response>`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := e.phone.Call(ctx, softphone.Options{
		URI: "sip:support@" + e.srv.SIPAddr().String(), Timeout: time.Second,
	})
	if err == nil || res.Answered {
		t.Fatalf("call answered: %+v", res)
	}
	call := e.finalCall()
	if call.Status != store.CallCanceled || !call.AnsweredAt.IsZero() {
		t.Errorf("call record %+v, want canceled", call)
	}
	st := e.app.waitFor("/status", 1, 5*time.Second)[0]
	if st.Params.Get("CallStatus") != "canceled" {
		t.Errorf("status callback CallStatus=%q", st.Params.Get("CallStatus"))
	}
}

func TestHTMLAnswerIsInvalidTwiML(t *testing.T) {
	t.Parallel()
	needEspeak(t)
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.handle("/voice", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!DOCTYPE html><html><body>Oops, a login page</body></html>")
	})
	res, h, err := e.call("support", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	if len(voiced(h.all())) < media.SampleRate {
		t.Error("the application error message was not heard")
	}
	if ns := e.notifications(); len(ns) != 1 || ns[0].ErrorCode != 12100 {
		t.Errorf("notifications %+v, want one 12100", ns)
	}
}

func TestRestartFinalisesOpenCalls(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	cfg := testConfig(data)
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, log, io.Discard, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	answered := time.Now().Add(-time.Minute).UTC()
	// A call in progress when the process died: the record stays open.
	c, err := srv.Store().CreateCall(ctx, store.Call{
		SID: sid.New("CA"), AccountSID: testSID, From: "+15550001111", To: "support",
		Status: store.CallInProgress, Direction: store.DirectionInbound, APIVersion: "2010-04-01",
		StartTime: answered, AnsweredAt: answered, DateCreated: answered, DateUpdated: answered.Add(42 * time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	// And the conference it was in, with its participant.
	conf := store.Conference{SID: sid.New("CF"), AccountSID: testSID, FriendlyName: "crashed", Status: store.ConferenceInProgress,
		APIVersion: "2010-04-01", MaxParticipants: 250, StartTime: answered, DateCreated: answered, DateUpdated: answered}
	part := store.Participant{SID: sid.New("CP"), ConferenceSID: conf.SID, AccountSID: testSID, CallSID: c.SID, From: c.From, To: c.To,
		Direction: "inbound", CallStatus: store.CallInProgress, Status: store.ParticipantConnected, StartConferenceOnEnter: true,
		JitterBufferSize: "large", JoinTime: answered, DateCreated: answered, DateUpdated: answered}
	if _, err := srv.Store().SaveConference(ctx, conf, []store.Participant{part}, nil, nil); err != nil {
		t.Fatal(err)
	}
	stopServer(srv) // closes the store without touching the records

	srv, err = server.New(ctx, cfg, log, io.Discard, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer stopServer(srv)
	got, err := srv.Store().Call(ctx, testSID, c.SID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.CallCompleted || got.EndTime.IsZero() || got.Duration != 42 {
		t.Errorf("after restart: %+v, want completed, 42 s", got)
	}
	gc, err := srv.Store().Conference(ctx, testSID, conf.SID)
	if err != nil || gc.Status != store.ConferenceCompleted || gc.EndTime.IsZero() {
		t.Errorf("conference after restart: %+v %v", gc, err)
	}
	gp, err := srv.Store().ParticipantBySID(ctx, testSID, part.SID)
	if err != nil || gp.Status != store.ParticipantComplete || gp.LeaveTime.IsZero() {
		t.Errorf("participant after restart: %+v %v: a phantom member survived", gp, err)
	}
}

func TestSayJapaneseAndSSML(t *testing.T) {
	t.Parallel()
	needEspeak(t)
	// The dictionary loads once per process, in seconds (tens of seconds
	// under the race detector): load it before the call, as it is not what
	// this test measures.
	if err := tts.LoadJapanese(); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response>
<Say language="ja-JP">東京は晴れです</Say>
<Say>One<break time="1500ms"/>two</Say>
</Response>`)
	res, h, err := e.call("support", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	s := h.all()
	v := voiced(s)
	if len(v) < 2*media.SampleRate {
		t.Fatalf("heard %d samples of speech", len(v))
	}
	// The <break> leaves a silence of about 1.5 s between "One" and "two".
	longest, run := 0, 0
	for i := 0; i+media.FrameSamples <= len(v); i += media.FrameSamples {
		if dsp.Level(v[i:i+media.FrameSamples]) < -50 {
			run += media.FrameSamples
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if d := time.Duration(longest) * time.Second / media.SampleRate; d < 1300*time.Millisecond || d > 2500*time.Millisecond {
		t.Errorf("longest silence %v, want the 1.5 s <break>", d)
	}
	if ns := e.notifications(); len(ns) != 0 {
		t.Errorf("notifications: %+v", ns)
	}
}

func (e *env) dataDir() string { return e.data }

// testConfig is the configuration of a test server: free loopback ports, the
// test account, data in dir.
func testConfig(dir string) config.Serve {
	return config.Serve{
		HTTP: "127.0.0.1:0", SIP: "127.0.0.1:0", RTPPorts: config.PortRange{Min: 20000, Max: 29999},
		Data: dir, PublicURL: "http://127.0.0.1", LogLevel: "info", AccountSID: testSID, AuthToken: testToken,
		MediaTimeout: time.Minute, InbandDTMF: "auto",
	}
}

// stopServer shuts down a server that was built but need not serve: Run
// with an ended context closes everything it opened.
func stopServer(srv *server.Server) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv.Run(ctx)
}
