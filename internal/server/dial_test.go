package server_test

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/config"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/softphone"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// window returns the samples of s between from and to (from its start).
func window(s []int16, from, to time.Duration) []int16 {
	i := int(from.Seconds() * media.SampleRate)
	j := int(to.Seconds() * media.SampleRate)
	if j > len(s) {
		j = len(s)
	}
	if i >= j {
		return nil
	}
	return s[i:j]
}

// loudest returns the d-long span of s (in whole frames) with the most
// energy at freq: where a tone is heard best.
func toneSpan(s []int16, freq float64, d time.Duration) []int16 {
	n := int(d.Seconds() * media.SampleRate)
	best, at := -1.0, -1
	for i := 0; i+n <= len(s); i += media.FrameSamples * 5 {
		if p := dsp.GoertzelPower(s[i:i+n], freq, media.SampleRate); p > best {
			best, at = p, i
		}
	}
	if at < 0 {
		return nil
	}
	return s[at : at+n]
}

// A caller's softphone is bridged by <Dial><Sip> to a second softphone: each
// hears the other's tone at the level it was sent (within 1 dB), the callee
// gets the URI's custom headers, the dialled leg reports its progress with
// ParentCallSid, the action gets Twilio's Dial parameters once the callee
// hangs up, and the Calls API lists the leg under its parent.
func TestDialBridgesTwoPhones(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550101000", nil)
	callee := newCallee(t)
	e.app.twiml("/voice", `<Response><Dial action="/dialed" timeout="10"><Sip statusCallback="/leg" `+
		`statusCallbackEvent="initiated ringing answered completed">`+callee.URI("bob")+
		`?X-Team=blue&amp;User-to-User=56a390f3%3Bencoding%3Dhex</Sip></Dial></Response>`)
	e.app.twiml("/dialed", `<Response><Hangup/></Response>`)
	e.app.handle("/leg", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	calleeHeard := &heard{}
	done := answer(t, callee, softphone.AnswerOptions{Ring: 300 * time.Millisecond, Script: softphone.Script{
		Play: tone(1000, 3*time.Second), Sink: calleeHeard, Duration: 3 * time.Second,
	}})
	res, callerHeard, err := e.call("+15550101000", softphone.Script{Play: tone(600, 5*time.Second)})
	if err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	cres := wait(t, done, 10*time.Second, "callee")
	if !cres.Answered {
		t.Fatalf("callee: %+v", cres)
	}
	var x, uui string
	for _, h := range cres.Headers {
		switch strings.ToLower(h.Name) {
		case "x-team":
			x = h.Value
		case "user-to-user":
			uui = h.Value
		}
	}
	if x != "blue" || uui != "56a390f3;encoding=hex" {
		t.Errorf("callee got X-Team %q, User-to-User %q", x, uui)
	}

	// Each side hears the other's tone, at the level it was sent.
	for _, c := range []struct {
		who   string
		s     []int16
		freq  float64
		other float64
	}{{"caller", callerHeard.all(), 1000, 600}, {"callee", calleeHeard.all(), 600, 1000}} {
		span := toneSpan(c.s, c.freq, time.Second)
		if span == nil || !dominant(span, c.freq) {
			t.Errorf("%s did not hear %v Hz (%d samples)", c.who, c.freq, len(c.s))
			continue
		}
		if lv := dsp.Level(span); math.Abs(lv-(-12)) > 1 { // tone() sends -12 dBFS
			t.Errorf("%s heard %v Hz at %.2f dBFS, want -12 ± 1", c.who, c.freq, lv)
		}
	}

	dialed := e.app.waitFor("/dialed", 1, 10*time.Second)[0].Params
	legs := e.app.waitFor("/leg", 4, 10*time.Second)
	parent := dialed.Get("CallSid")
	child := dialed.Get("DialCallSid")
	if dialed.Get("DialCallStatus") != "completed" || dialed.Get("DialBridged") != "true" || child == "" ||
		dialed.Get("DialSipResponseCode") != "200" || dialed.Get("DialSipCallId") == "" {
		t.Errorf("action parameters: %v", dialed)
	}
	if d, _ := strconv.Atoi(dialed.Get("DialCallDuration")); d < 2 || d > 4 {
		t.Errorf("DialCallDuration %q, want about 3", dialed.Get("DialCallDuration"))
	}
	want := []string{"initiated", "ringing", "in-progress", "completed"}
	for i, r := range legs {
		p := r.Params
		if !r.Valid || p.Get("CallStatus") != want[i] || p.Get("CallSid") != child || p.Get("ParentCallSid") != parent ||
			p.Get("Direction") != "outbound-dial" || p.Get("SequenceNumber") != strconv.Itoa(i) ||
			p.Get("CallbackSource") != "call-progress-events" || p.Get("Timestamp") == "" {
			t.Errorf("leg callback %d: %v", i, p)
		}
	}
	if d, _ := strconv.Atoi(legs[3].Params.Get("CallDuration")); d < 2 || d > 4 {
		t.Errorf("leg CallDuration %q", legs[3].Params.Get("CallDuration"))
	}

	// The Calls API: the leg under its parent.
	kids, err := e.rest().Api.ListCall(&openapi.ListCallParams{ParentCallSid: &parent})
	if err != nil {
		t.Fatal(err)
	}
	if len(kids) != 1 || *kids[0].Sid != child || *kids[0].Direction != "outbound-dial" ||
		*kids[0].ParentCallSid != parent || *kids[0].To != callee.URI("bob") || *kids[0].From != "+15550001234" {
		t.Errorf("children of %s: %+v", parent, kids)
	}
	all, err := e.rest().Api.ListCall(nil)
	if err != nil || len(all) != 2 || !slices.ContainsFunc(all, func(c openapi.ApiV2010Call) bool { return *c.Sid == parent && *c.Direction == "inbound" }) {
		t.Errorf("calls: %d %v", len(all), err)
	}
}

// <Dial><Sip> to SIPp: the callee challenges with 401 and the Sip's
// username/password answer it; the URI's X- and User-to-User headers reach
// it; the screening request and the action carry the SIP details of its 200
// (SipCallId, SipDomain, SipHeader_X-Agent; DialSipHeader_X-Agent).
func TestDialSipDigestAndHeaders(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	uas := startUAS(t, "sipp_uas_dial_auth.xml", 1, 0)
	e := newEnv(t, server.Options{})
	e.number("+15550102000", nil)
	uri := "sip:kate@127.0.0.1:" + strconv.Itoa(uas.port)
	e.app.twiml("/voice", `<Response><Dial action="/dialed"><Sip username="kate" password="pa55" url="/screen">`+
		uri+`?X-Acct=42&amp;User-to-User=56a390f3%3Bencoding%3Dhex</Sip></Dial></Response>`)
	e.app.twiml("/screen", `<Response/>`)
	e.app.twiml("/dialed", `<Response><Hangup/></Response>`)
	res, _, err := e.call("+15550102000", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	uas.wait(t, 10*time.Second)
	scr := e.app.waitFor("/screen", 1, 5*time.Second)[0].Params
	if scr.Get("Direction") != "outbound-dial" || scr.Get("SipCallId") == "" || scr.Get("SipDomain") != "127.0.0.1" ||
		scr.Get("SipHeader_X-Agent") != "7" || scr.Get("To") != uri || scr.Get("CallStatus") != "in-progress" || scr.Get("ParentCallSid") == "" {
		t.Errorf("screening request: %v", scr)
	}
	d := e.app.waitFor("/dialed", 1, 5*time.Second)[0].Params
	if d.Get("DialCallStatus") != "completed" || d.Get("DialSipResponseCode") != "200" ||
		d.Get("DialSipHeader_X-Agent") != "7" || d.Get("DialSipCallId") != scr.Get("SipCallId") || d.Get("DialCallSid") != scr.Get("CallSid") {
		t.Errorf("action: %v", d)
	}
}

// The final response of a callee that does not answer becomes the
// DialCallStatus Twilio gives: 486 busy, 480 no-answer, 404 and 503 failed,
// with DialSipResponseCode; the dialled leg's record ends with that status.
func TestDialSipFinals(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	e := newEnv(t, server.Options{})
	for i, c := range []struct {
		code   int
		status string
	}{{486, "busy"}, {480, "no-answer"}, {404, "failed"}, {503, "failed"}} {
		uas := startUAS(t, "sipp_uas_final.xml", 1, c.code)
		num := "+1555010300" + strconv.Itoa(i)
		path := "/voice" + strconv.Itoa(c.code)
		e.number(num, func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url(path) })
		e.app.twiml(path, `<Response><Dial action="/dialed`+strconv.Itoa(c.code)+`"><Sip>sip:x@127.0.0.1:`+strconv.Itoa(uas.port)+`</Sip></Dial></Response>`)
		e.app.twiml("/dialed"+strconv.Itoa(c.code), `<Response><Say>done</Say><Hangup/></Response>`)
		res, _, err := e.call(num, softphone.Script{})
		if err != nil || !res.Answered {
			t.Fatalf("%d: caller %+v %v", c.code, res, err)
		}
		uas.wait(t, 10*time.Second)
		d := e.app.waitFor("/dialed"+strconv.Itoa(c.code), 1, 5*time.Second)[0].Params
		if d.Get("DialCallStatus") != c.status || d.Get("DialSipResponseCode") != strconv.Itoa(c.code) || d.Get("DialBridged") != "false" {
			t.Errorf("%d: action %v", c.code, d)
		}
		leg, err := e.rest().Api.FetchCall(d.Get("DialCallSid"), nil)
		if err != nil || *leg.Status != c.status || *leg.Direction != "outbound-dial" {
			t.Errorf("%d: leg %+v %v", c.code, leg, err)
		}
	}
}

// calleeResult is answer() for a callee that may not answer: the result
// and the error.
type calleeResult struct {
	res softphone.Result
	err error
}

func take(t *testing.T, callee *softphone.Phone, o softphone.AnswerOptions) <-chan calleeResult {
	ch := make(chan calleeResult, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	go func() {
		defer cancel()
		res, err := callee.Answer(ctx, o)
		ch <- calleeResult{res, err}
	}()
	return ch
}

// Two phones rung in parallel: the first to answer is bridged, the other
// gets a CANCEL and its leg ends canceled; the caller hears the ring tone
// (US: 440 + 480 Hz) until the answer.
func TestDialParallelFirstAnswerWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550104000", nil)
	fast, slow := newCallee(t), newCallee(t)
	e.app.twiml("/voice", `<Response><Dial action="/dialed" timeout="20"><Sip>`+slow.URI("slow")+`</Sip><Sip>`+
		fast.URI("fast")+`</Sip></Dial></Response>`)
	e.app.twiml("/dialed", `<Response><Hangup/></Response>`)
	won := take(t, fast, softphone.AnswerOptions{Ring: time.Second, Script: softphone.Script{Play: tone(1000, 2*time.Second), Duration: 2 * time.Second}})
	lost := take(t, slow, softphone.AnswerOptions{NoAnswer: true})
	res, heard, err := e.call("+15550104000", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	w := wait(t, won, 10*time.Second, "fast callee")
	l := wait(t, lost, 10*time.Second, "slow callee")
	if !w.res.Answered || l.res.Answered || l.res.End != sip.EndCanceled {
		t.Errorf("fast %+v; slow %+v %v (want canceled)", w.res, l.res, l.err)
	}
	s := heard.all()
	ring := window(s, 100*time.Millisecond, 900*time.Millisecond)
	if p440, p480, p1k := dsp.GoertzelPower(ring, 440, media.SampleRate), dsp.GoertzelPower(ring, 480, media.SampleRate),
		dsp.GoertzelPower(ring, 1000, media.SampleRate); p440 < 20*p1k || p480 < 20*p1k {
		t.Errorf("ring tone: 440 Hz %.3g, 480 Hz %.3g, 1 kHz %.3g", p440, p480, p1k)
	}
	if span := toneSpan(s, 1000, time.Second); span == nil || !dominant(span, 1000) {
		t.Errorf("caller did not hear the callee that answered")
	}
	d := e.app.waitFor("/dialed", 1, 5*time.Second)[0].Params
	legs, err := e.rest().Api.ListCall(&openapi.ListCallParams{ParentCallSid: ptr(d.Get("CallSid"))})
	if err != nil || len(legs) != 2 {
		t.Fatalf("legs %v %v", legs, err)
	}
	for _, l := range legs {
		want := "canceled"
		if *l.Sid == d.Get("DialCallSid") {
			want = "completed"
		}
		if *l.Status != want {
			t.Errorf("leg %s to %s: %s, want %s", *l.Sid, *l.To, *l.Status, want)
		}
	}
}

// sequential="true" rings one noun after another, each with the Dial's
// timeout: a busy SIPp, then a phone that does not answer, then one that
// does; the legs are tried in order and only the last is bridged.
func TestDialSequential(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	e := newEnv(t, server.Options{})
	e.number("+15550105000", nil)
	busy := startUAS(t, "sipp_uas_final.xml", 1, 486)
	deaf, good := newCallee(t), newCallee(t)
	e.app.twiml("/voice", `<Response><Dial sequential="true" timeout="2" action="/dialed">`+
		`<Sip>sip:busy@127.0.0.1:`+strconv.Itoa(busy.port)+`</Sip><Sip>`+deaf.URI("deaf")+`</Sip><Sip>`+good.URI("good")+
		`</Sip></Dial></Response>`)
	e.app.twiml("/dialed", `<Response><Hangup/></Response>`)
	d1 := take(t, deaf, softphone.AnswerOptions{NoAnswer: true})
	d2 := take(t, good, softphone.AnswerOptions{Script: softphone.Script{Duration: time.Second}})
	start := time.Now()
	res, _, err := e.call("+15550105000", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	busy.wait(t, 10*time.Second)
	if r := wait(t, d1, 10*time.Second, "deaf callee"); r.res.Answered || r.res.End != sip.EndCanceled {
		t.Errorf("deaf callee: %+v %v", r.res, r.err)
	}
	if r := wait(t, d2, 10*time.Second, "good callee"); !r.res.Answered {
		t.Errorf("good callee: %+v %v", r.res, r.err)
	}
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("the whole dial took %v: the no-answer leg should have rung 2 s", took)
	}
	d := e.app.waitFor("/dialed", 1, 5*time.Second)[0].Params
	if d.Get("DialCallStatus") != "completed" {
		t.Errorf("action %v", d)
	}
	legs, err := e.rest().Api.ListCall(&openapi.ListCallParams{ParentCallSid: ptr(d.Get("CallSid"))})
	if err != nil || len(legs) != 3 {
		t.Fatalf("legs %d %v", len(legs), err)
	}
	// Listed newest first.
	got := []string{*legs[2].Status, *legs[1].Status, *legs[0].Status}
	if want := []string{"busy", "no-answer", "completed"}; !slices.Equal(got, want) {
		t.Errorf("legs in order: %v, want %v", got, want)
	}
	if *legs[0].Sid != d.Get("DialCallSid") {
		t.Errorf("DialCallSid %s, want the last leg %s", d.Get("DialCallSid"), *legs[0].Sid)
	}
}

// Call screening: the callee hears the url's TwiML before the bridge, while
// the caller keeps hearing ringing; the callee accepts with a key in a
// <Gather> and is bridged. A second call whose callee lets the Gather time
// out reaches the <Hangup>: the Dial ends no-answer.
func TestDialScreeningWithGather(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550106000", nil)
	callee := newCallee(t)
	e.serveTone("/prompt.wav", 1400, 500*time.Millisecond)
	e.app.twiml("/voice", `<Response><Dial action="/dialed"><Number url="/screen">`+"+15550106999"+`</Number><Sip url="/screen">`+
		callee.URI("agent")+`</Sip></Dial></Response>`)
	e.app.twiml("/screen", `<Response><Gather numDigits="1" timeout="2" action="/accept"><Play>/prompt.wav</Play></Gather><Hangup/></Response>`)
	e.app.twiml("/accept", `<Response/>`)
	e.app.twiml("/dialed", `<Response><Hangup/></Response>`)

	calleeHeard := &heard{}
	done := take(t, callee, softphone.AnswerOptions{Script: softphone.Script{
		Play: tone(0, 800*time.Millisecond), Digits: "1", Sink: calleeHeard, Duration: 3 * time.Second,
	}})
	res, heard, err := e.call("+15550106000", softphone.Script{Play: tone(600, 4*time.Second)})
	if err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	if r := wait(t, done, 10*time.Second, "callee"); !r.res.Answered {
		t.Fatalf("callee %+v %v", r.res, r.err)
	}
	ch := calleeHeard.all()
	if p := window(ch, 0, 500*time.Millisecond); !dominant(p, 1400) {
		t.Errorf("the callee did not hear the screening prompt")
	}
	if span := toneSpan(ch, 600, time.Second); span == nil || !dominant(span, 600) {
		t.Errorf("the callee was not bridged to the caller")
	}
	// The caller rang while the callee was screened (the prompt is never
	// heard by the caller).
	s := heard.all()
	if p := window(s, 0, 800*time.Millisecond); dsp.GoertzelPower(p, 440, media.SampleRate) < 20*dsp.GoertzelPower(p, 1400, media.SampleRate) {
		t.Errorf("the caller did not hear ringing during the screening")
	}
	acc := e.app.waitFor("/accept", 1, 5*time.Second)[0].Params
	if acc.Get("Digits") != "1" || acc.Get("Direction") != "outbound-dial" {
		t.Errorf("accept %v", acc)
	}
	d := e.app.waitFor("/dialed", 1, 5*time.Second)[0].Params
	if d.Get("DialCallStatus") != "completed" || d.Get("DialCallSid") != acc.Get("CallSid") {
		t.Errorf("dialed %v", d)
	}
	// The <Number> failed: no trunk is configured.
	legs, _ := e.rest().Api.ListCall(&openapi.ListCallParams{ParentCallSid: ptr(d.Get("CallSid"))})
	if len(legs) != 2 {
		t.Errorf("%d legs", len(legs))
	}

	// A callee that does not press: the screening document hangs up.
	done = take(t, callee, softphone.AnswerOptions{Script: softphone.Script{Duration: 6 * time.Second}})
	e.app.twiml("/voice", `<Response><Dial action="/dialed2"><Sip url="/screen">`+callee.URI("agent")+`</Sip></Dial><Say>unused</Say></Response>`)
	e.app.twiml("/dialed2", `<Response><Hangup/></Response>`)
	if res, _, err := e.call("+15550106000", softphone.Script{}); err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	if r := wait(t, done, 10*time.Second, "callee"); !r.res.Answered || r.res.End != sip.EndRemoteHangup {
		t.Errorf("callee %+v %v: want hung up by the screening document", r.res, r.err)
	}
	if d := e.app.waitFor("/dialed2", 1, 5*time.Second)[0].Params; d.Get("DialCallStatus") != "no-answer" || d.Get("DialBridged") != "false" {
		t.Errorf("screened out: %v", d)
	}
}

// hangupOnStar: the caller presses * and leaves the bridge; the callee is
// hung up and the caller goes on with the action's document.
func TestDialHangupOnStar(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550107000", nil)
	callee := newCallee(t)
	e.serveTone("/after.wav", 1400, time.Second)
	e.app.twiml("/voice", `<Response><Dial hangupOnStar="true" action="/dialed"><Sip>`+callee.URI("c")+`</Sip></Dial></Response>`)
	e.app.twiml("/dialed", `<Response><Play>/after.wav</Play><Hangup/></Response>`)
	done := take(t, callee, softphone.AnswerOptions{Script: softphone.Script{Play: tone(1000, 10*time.Second)}})
	res, heard, err := e.call("+15550107000", softphone.Script{Play: tone(0, 1500*time.Millisecond), Digits: "*"})
	if err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	r := wait(t, done, 10*time.Second, "callee")
	if !r.res.Answered || r.res.End != sip.EndRemoteHangup || r.res.Talk > 4*time.Second {
		t.Errorf("callee %+v: want hung up by switchboard after the *", r.res)
	}
	if r.res.Digits != "" {
		t.Errorf("the * reached the callee: %q", r.res.Digits)
	}
	d := e.app.waitFor("/dialed", 1, 5*time.Second)[0].Params
	if d.Get("DialCallStatus") != "completed" || d.Get("DialBridged") != "true" {
		t.Errorf("action %v", d)
	}
	if span := toneSpan(heard.all(), 1400, 500*time.Millisecond); span == nil || !dominant(span, 1400) {
		t.Errorf("the caller did not go on with the action's <Play>")
	}
}

// record="record-from-answer-dual": a two-channel recording of the bridge,
// the caller on the first channel and the callee on the second; the action
// and the recordingStatusCallback carry it.
func TestDialRecordDual(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550108000", nil)
	callee := newCallee(t)
	e.app.twiml("/voice", `<Response><Dial record="record-from-answer-dual" recordingStatusCallback="/rec" action="/dialed"><Sip>`+
		callee.URI("c")+`</Sip></Dial></Response>`)
	e.app.twiml("/dialed", `<Response><Hangup/></Response>`)
	e.app.handle("/rec", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	done := take(t, callee, softphone.AnswerOptions{Script: softphone.Script{Play: tone(1000, 2*time.Second), Duration: 2 * time.Second}})
	if res, _, err := e.call("+15550108000", softphone.Script{Play: tone(600, 3*time.Second)}); err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	wait(t, done, 10*time.Second, "callee")
	d := e.app.waitFor("/dialed", 1, 5*time.Second)[0].Params
	rsid := d.Get("RecordingSid")
	if rsid == "" || !strings.HasSuffix(d.Get("RecordingUrl"), "/Recordings/"+rsid) {
		t.Fatalf("action: %v", d)
	}
	cb := e.app.waitFor("/rec", 1, 5*time.Second)[0].Params
	if cb.Get("RecordingSid") != rsid || cb.Get("RecordingChannels") != "2" || cb.Get("RecordingSource") != "DialVerb" ||
		cb.Get("CallSid") != d.Get("CallSid") || cb.Get("RecordingStatus") != "completed" {
		t.Errorf("recording callback: %v", cb)
	}
	rec, err := e.srv.Store().Recording(context.Background(), testSID, rsid)
	if err != nil || rec.Channels != 2 || rec.Source != "DialVerb" {
		t.Fatalf("recording %+v %v", rec, err)
	}
	f, err := os.Open(filepath.Join(e.dataDir(), rec.File))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	format, pcm, err := wav.ReadAllInterleaved(f)
	if err != nil || format.Channels != 2 {
		t.Fatalf("recording format %+v %v", format, err)
	}
	left, right := make([]int16, len(pcm)/2), make([]int16, len(pcm)/2)
	for i := range left {
		left[i], right[i] = pcm[2*i], pcm[2*i+1]
	}
	if !dominant(voiced(left), 600) || !dominant(voiced(right), 1000) {
		t.Errorf("channels: caller 600 Hz %v, callee 1 kHz %v", dominant(voiced(left), 600), dominant(voiced(right), 1000))
	}
	if dsp.GoertzelPower(left, 1000, media.SampleRate) > dsp.GoertzelPower(left, 600, media.SampleRate)/100 {
		t.Errorf("the callee leaks into the caller's channel")
	}
}

// newBaresip starts baresip answering at once and sending source (see
// startBaresip), retrying when its port was taken meanwhile.
func newBaresip(t *testing.T, source string) (dir string, uri string, out *lockedBuffer) {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Skip("baresip is not installed")
	}
	for attempt := 1; ; attempt++ {
		dir, port, out, ok := startBaresip(t, bin, source)
		if ok {
			return dir, "sip:bob@127.0.0.1:" + strconv.Itoa(port), out
		}
		if attempt == 3 {
			t.Fatalf("baresip did not start:\n%s", out.String())
		}
	}
}

// baresip as the callee of a <Dial><Sip>: each side hears the other, and
// the caller hanging up hangs baresip up.
func TestDialBaresip(t *testing.T) {
	t.Parallel()
	dir, uri, out := newBaresip(t, toneWAV(t, 400, 15*time.Second, 8000))
	e := newEnv(t, server.Options{})
	e.number("+15550109000", nil)
	e.app.twiml("/voice", `<Response><Dial><Sip>`+uri+`</Sip></Dial></Response>`)
	res, heard, err := e.call("+15550109000", softphone.Script{Play: tone(600, 4*time.Second), Duration: 4 * time.Second})
	if err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	if span := toneSpan(heard.all(), 400, time.Second); span == nil || !dominant(span, 400) {
		t.Errorf("the caller did not hear baresip")
	}
	s := baresipHeard(t, dir, out)
	if span := toneSpan(s, 600, time.Second); span == nil || !dominant(span, 600) {
		t.Errorf("baresip did not hear the caller (%d samples)", len(s))
	}
	if !strings.Contains(out.String(), "terminated") && !strings.Contains(out.String(), "closed") {
		t.Logf("baresip output:\n%s", out.String())
	}
}

// answerOnBridge: the caller is not answered until the callee is; the
// callee's early media (a 183 with SDP) reaches the caller meanwhile, and
// its answer is the caller's.
func TestDialAnswerOnBridgeEarlyMedia(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550110000", nil)
	callee := newCallee(t)
	e.app.twiml("/voice", `<Response><Dial answerOnBridge="true" action="/dialed"><Sip>`+callee.URI("c")+`</Sip></Dial></Response>`)
	e.app.twiml("/dialed", `<Response><Hangup/></Response>`)
	done := take(t, callee, softphone.AnswerOptions{Early: tone(800, 1500*time.Millisecond), EarlyFor: 1500 * time.Millisecond,
		Script: softphone.Script{Play: tone(1000, 2*time.Second), Duration: 2 * time.Second}})
	h := &heard{}
	var mu sync.Mutex
	var progress []int
	var answeredAt time.Time
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := e.phone.Call(ctx, softphone.Options{
		URI: "sip:+15550110000@" + e.srv.SIPAddr().String(), From: "+15550001234",
		OnProgress: func(code int, _ string) { mu.Lock(); progress = append(progress, code); mu.Unlock() },
		OnAnswer:   func() { mu.Lock(); answeredAt = time.Now(); mu.Unlock() },
		Script:     softphone.Script{Sink: h},
	})
	if err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	if r := wait(t, done, 10*time.Second, "callee"); !r.res.Answered {
		t.Fatalf("callee %+v %v", r.res, r.err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(progress, 183) {
		t.Errorf("provisional responses %v: want a 183 with the early media", progress)
	}
	if waited := answeredAt.Sub(start); waited < 1200*time.Millisecond {
		t.Errorf("the caller was answered %v after calling: before the callee", waited)
	}
	s := h.all()
	early := window(s, 200*time.Millisecond, 1200*time.Millisecond)
	if !dominant(early, 800) {
		t.Errorf("the caller did not hear the callee's early media before the answer")
	}
	if span := toneSpan(s, 1000, time.Second); span == nil || !dominant(span, 1000) {
		t.Errorf("the caller did not hear the callee after the answer")
	}
	d := e.app.waitFor("/dialed", 1, 5*time.Second)[0].Params
	if d.Get("DialCallStatus") != "completed" {
		t.Errorf("action %v", d)
	}
	// The caller's call ends after the action's <Hangup/>; the leg ended
	// before the action was requested.
	e.waitStatus(d.Get("CallSid"), "completed")
	leg, err := e.rest().Api.FetchCall(d.Get("DialCallSid"), nil)
	if err != nil || *leg.Status != "completed" {
		t.Errorf("leg %+v %v", leg, err)
	}
}

// <Number> goes to the trunk, in E.164, answering the trunk's digest
// challenge with its credentials; the caller hanging up hangs the leg up.
func TestDialNumberThroughTrunk(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	uas := startUAS(t, "sipp_uas_trunk_auth.xml", 1, 0)
	e := newEnvWith(t, server.Options{}, func(c *config.Serve) {
		c.Trunk = fmt.Sprintf("sip:acme:s3cret@127.0.0.1:%d", uas.port)
	})
	e.number("+15550111000", nil)
	e.app.twiml("/voice", `<Response><Dial callerId="+15550111000" action="/dialed"><Number>+1 (415) 555-0100</Number></Dial></Response>`)
	e.app.twiml("/dialed", `<Response><Hangup/></Response>`)
	res, _, err := e.call("+15550111000", softphone.Script{Duration: 1500 * time.Millisecond})
	if err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	uas.wait(t, 10*time.Second)
	d := e.app.waitFor("/dialed", 1, 5*time.Second)[0].Params
	leg, err := e.rest().Api.FetchCall(d.Get("DialCallSid"), nil)
	if err != nil || *leg.To != "+14155550100" || *leg.From != "+15550111000" || *leg.Status != "completed" || d.Get("DialCallStatus") != "completed" {
		t.Errorf("leg %+v %v; action %v", leg, err, d)
	}
	if d.Has("DialSipResponseCode") {
		t.Errorf("a <Number> got SIP details: %v", d)
	}
}

// <Number sendDigits> sends the digits once the callee answers.
func TestDialNumberSendDigits(t *testing.T) {
	t.Parallel()
	callee := newCallee(t)
	e := newEnvWith(t, server.Options{}, func(c *config.Serve) { c.Trunk = "sip:" + callee.Addr().String() })
	e.number("+15550112000", nil)
	e.app.twiml("/voice", `<Response><Dial><Number sendDigits="1w2#">4155550123</Number></Dial></Response>`)
	done := take(t, callee, softphone.AnswerOptions{Script: softphone.Script{Duration: 3 * time.Second}})
	if res, _, err := e.call("+15550112000", softphone.Script{}); err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	r := wait(t, done, 10*time.Second, "callee")
	if r.res.Digits != "12#" || r.res.To.User != "+14155550123" {
		t.Errorf("callee got digits %q, called as %+v", r.res.Digits, r.res.To)
	}
}

// Bad input: a SIP URI over 255 characters is reported (13243) and not
// dialled, eleven nouns are reported (12200) and the first ten rung; a host that refuses the
// connection fails at once with warning 32011, TLS too (not offered), and a
// far end that never answers the INVITE ends no-answer at the Dial's
// timeout. The caller's call ends cleanly each time.
func TestDialBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	closed := freeTCPUDPPort(t)
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := silent.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	eleven := strings.Repeat("<Sip>sip:a@127.0.0.1:"+strconv.Itoa(closed)+";transport=tcp</Sip>", 11)
	for i, c := range []struct {
		name   string
		dial   string
		status string // DialCallStatus
		code   int    // a notification of the call or its leg
	}{
		{"long URI", `<Dial action="/dialed"><Sip>sip:` + strings.Repeat("a", 250) + `@example.com</Sip></Dial>`, "failed", 13243},
		{"eleven nouns", `<Dial action="/dialed">` + eleven + `</Dial>`, "failed", 12200},
		{"connection refused", `<Dial action="/dialed"><Sip>sip:a@127.0.0.1:` + strconv.Itoa(closed) + `;transport=tcp</Sip></Dial>`, "failed", 32011},
		{"tls", `<Dial action="/dialed"><Sip>sip:a@example.com;transport=tls</Sip></Dial>`, "failed", 32011},
		{"never answers", `<Dial action="/dialed" timeout="2"><Sip>sip:a@` + silent.LocalAddr().String() + `</Sip></Dial>`, "no-answer", 0},
	} {
		num := "+1555011300" + strconv.Itoa(i)
		path := "/bad" + strconv.Itoa(i)
		e.number(num, func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url(path) })
		e.app.twiml(path, `<Response>`+c.dial+`<Hangup/></Response>`)
		e.app.twiml("/dialed", `<Response><Hangup/></Response>`)
		start := time.Now()
		res, _, err := e.call(num, softphone.Script{})
		if err != nil || !res.Answered {
			t.Fatalf("%s: caller %+v %v", c.name, res, err)
		}
		took := time.Since(start)
		d := e.app.waitFor("/dialed", i+1, 5*time.Second)
		p := d[i].Params
		if p.Get("DialCallStatus") != c.status {
			t.Errorf("%s: action %v", c.name, p)
		}
		legs, err := e.rest().Api.ListCall(&openapi.ListCallParams{ParentCallSid: ptr(p.Get("CallSid"))})
		want := 1
		switch c.name {
		case "long URI":
			want = 0
		case "eleven nouns":
			want = 10 // the first ten are rung
		}
		if err != nil || len(legs) != want {
			t.Errorf("%s: %d legs, want %d (%v)", c.name, len(legs), want, err)
		}
		if c.name == "never answers" && (took < 2*time.Second || took > 6*time.Second) {
			t.Errorf("%s: took %v, want the 2 s timeout", c.name, took)
		}
		if c.code != 0 {
			found := false
			for _, nt := range e.notifications() {
				found = found || nt.ErrorCode == c.code
			}
			if !found {
				t.Errorf("%s: no notification %d", c.name, c.code)
			}
		}
	}
}

// A PCMU caller bridged to a PCMA callee (SIPp echoing its RTP) hears its
// own voice back through both conversions; when the callee holds the call
// (re-INVITE sendonly, answered recvonly) nothing is sent to it, so the
// echo stops, and it resumes when the callee takes the call off hold.
func TestDialPCMACalleeAndHold(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	uas := startUASWith(t, "sipp_uas_pcma_hold.xml", 1, 0, "-rtp_echo")
	e := newEnv(t, server.Options{})
	e.number("+15550114000", nil)
	e.app.twiml("/voice", `<Response><Dial><Sip>sip:pcma@127.0.0.1:`+strconv.Itoa(uas.port)+`</Sip></Dial></Response>`)
	res, heard, err := e.call("+15550114000", softphone.Script{Play: tone(600, 10*time.Second)})
	if err != nil || !res.Answered {
		t.Fatalf("caller: %+v %v", res, err)
	}
	uas.wait(t, 10*time.Second)
	if res.Talk < 5*time.Second || res.Talk > 8*time.Second {
		t.Errorf("the call lasted %v, want the callee's 6 s", res.Talk)
	}
	s := heard.all()
	level := func(from, to time.Duration) float64 {
		return dsp.Level(window(s, from, to))
	}
	before, held, after := level(500*time.Millisecond, 1500*time.Millisecond), level(2600*time.Millisecond, 3400*time.Millisecond),
		level(4600*time.Millisecond, 5500*time.Millisecond)
	t.Logf("echo level: before hold %.1f dBFS, on hold %.1f, after %.1f", before, held, after)
	if before < -16 || after < -16 || held > -40 {
		t.Errorf("echo: %.1f dBFS before the hold, %.1f on hold, %.1f after: want the tone, silence, the tone", before, held, after)
	}
	if !dominant(window(s, 500*time.Millisecond, 1500*time.Millisecond), 600) {
		t.Errorf("the echo is not the caller's 600 Hz")
	}
}

// A caller sending its digits as SIP INFO over PCMA (SIPp) is bridged to a
// PCMU softphone: the digits reach the callee as RFC 4733 events.
func TestDialRelaysInfoDigits(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	callee := newCallee(t)
	e.app.twiml("/voice", `<Response><Dial><Sip>`+callee.URI("c")+`</Sip></Dial></Response>`)
	done := take(t, callee, softphone.AnswerOptions{Script: softphone.Script{Duration: 4 * time.Second}})
	scenario, _ := filepath.Abs("testdata/sipp_info.xml")
	runSIPp(t, e, "-sf", scenario, "-s", "support", "-m", "1")
	r := wait(t, done, 10*time.Second, "callee")
	if !r.res.Answered || r.res.Digits != "42#" {
		t.Errorf("callee: %+v %v: want the digits 42#", r.res, r.err)
	}
}

// The caller holds the call (SIPp re-INVITEs a=sendonly, answered
// recvonly): the callee's voice is no longer sent to it, so the caller's
// echo of it stops, and resumes when the caller takes the call off hold.
// The bridge stays up throughout.
func TestDialCallerHold(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	callee := newCallee(t)
	e.app.twiml("/voice", `<Response><Dial><Sip>`+callee.URI("c")+`</Sip></Dial></Response>`)
	h := &heard{}
	done := take(t, callee, softphone.AnswerOptions{Script: softphone.Script{Play: tone(1000, 10*time.Second), Sink: h}})
	scenario, _ := filepath.Abs("testdata/sipp_uac_hold.xml")
	runSIPp(t, e, "-sf", scenario, "-s", "support", "-m", "1", "-rtp_echo")
	r := wait(t, done, 10*time.Second, "callee")
	if !r.res.Answered || r.res.End != sip.EndRemoteHangup || r.res.Talk < 5*time.Second {
		t.Errorf("callee %+v", r.res)
	}
	s := h.all()
	level := func(from, to time.Duration) float64 { return dsp.Level(window(s, from, to)) }
	before, held, after := level(500*time.Millisecond, 1500*time.Millisecond), level(2600*time.Millisecond, 3400*time.Millisecond),
		level(4600*time.Millisecond, 5500*time.Millisecond)
	t.Logf("echo heard by the callee: before hold %.1f dBFS, on hold %.1f, after %.1f", before, held, after)
	if before < -16 || after < -16 || held > -40 {
		t.Errorf("echo: %.1f dBFS before the hold, %.1f on hold, %.1f after: want the tone, silence, the tone", before, held, after)
	}
}
