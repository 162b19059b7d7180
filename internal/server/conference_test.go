package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"
	insights "github.com/twilio/twilio-go/rest/insights/v1"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/sip"
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
		e.waitInRoom("room1", i+1) // callers arrive one after the other
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

// eventually waits until cond holds (10 s at most), checking it every
// 20 ms: the one poll of these tests, for state seen only through the store
// or the REST API, or in requests to the app that waitFor cannot count.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}

// waitInRoom waits until n participants are connected to the live room
// name: a caller has joined before the next arrives.
func (e *env) waitInRoom(name string, n int) {
	e.t.Helper()
	eventually(e.t, fmt.Sprintf("%d in room %s", n, name), func() bool {
		c, err := e.srv.Store().LiveConference(context.Background(), testSID, name)
		if err != nil {
			return false
		}
		ps, _, err := e.srv.Store().ListParticipants(context.Background(),
			store.ParticipantFilter{AccountSID: testSID, ConferenceSID: c.SID, Current: true}, store.Page{Size: 300})
		return err == nil && len(ps) == n
	})
}

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
	e.waitInRoom("board", 1)
	mch := e.callInto(t, "+15550121001", "+15550000002", softphone.Script{Play: tone(800, 6*time.Second), Sink: m})
	e.waitInRoom("board", 2)
	time.Sleep(1500 * time.Millisecond) // the window the attendees' waiting is heard in, not a synchronisation
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

// Bad input and limits: a label already in the room (16025) and a full
// room (maxParticipants) keep the caller out with a notification, and it
// goes on with the next verb; a label over 128 characters is reported
// (16023) when the document is parsed.
func TestConferenceRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550122000", nil)
	e.serveTone("/next.wav", 1400, time.Second)
	e.app.twiml("/voice", `<Response><Dial><Conference participantLabel="agent" maxParticipants="2">small</Conference></Dial><Play>/next.wav</Play></Response>`)
	first := e.callInto(t, "+15550122000", "+15550000011", softphone.Script{Duration: 4 * time.Second})
	e.waitInRoom("small", 1)
	// Same label: refused, the caller hears the next verb.
	res, h, err := e.call("+15550122000", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("second caller %+v %v", res, err)
	}
	if span := toneSpan(h.all(), 1400, 500*time.Millisecond); span == nil || !dominant(span, 1400) {
		t.Errorf("the refused caller did not go on with the next verb")
	}
	// Without a label the room fills up at two: the third is refused.
	e.app.twiml("/voice", `<Response><Dial><Conference maxParticipants="2">small</Conference></Dial><Play>/next.wav</Play></Response>`)
	second := e.callInto(t, "+15550122000", "+15550000012", softphone.Script{Duration: 2 * time.Second})
	e.waitInRoom("small", 2)
	res, h, err = e.call("+15550122000", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("third caller %+v %v", res, err)
	}
	if span := toneSpan(h.all(), 1400, 500*time.Millisecond); span == nil || !dominant(span, 1400) {
		t.Errorf("the caller of a full room did not go on with the next verb")
	}
	wait(t, first, 10*time.Second, "first")
	wait(t, second, 10*time.Second, "second")
	var codes []int
	for _, n := range e.notifications() {
		codes = append(codes, n.ErrorCode)
	}
	if !slices.Contains(codes, 16025) || !slices.Contains(codes, 16020) {
		t.Errorf("notifications %v, want 16025 and 16020", codes)
	}
	// A label over 128 characters is reported when the document is parsed
	// (the caller joins without it).
	e.app.twiml("/voice", `<Response><Dial><Conference participantLabel="`+strings.Repeat("x", 129)+`">small</Conference></Dial></Response>`)
	if res, _, err := e.call("+15550122000", softphone.Script{Duration: time.Second}); err != nil || !res.Answered {
		t.Fatalf("caller %+v %v", res, err)
	}
	found := false
	for _, n := range e.notifications() {
		found = found || n.ErrorCode == 16023
	}
	if !found {
		t.Errorf("no notification 16023 for a label over 128 characters")
	}
}

// A coach (the coach attribute) is heard by the coached participant only;
// it hears everyone. record="record-from-start" records the room from its
// start: the recording holds the participants, never the wait music.
func TestConferenceCoachAndRecording(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550123000", func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url("/room") })
	e.number("+15550123001", func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url("/coach") })
	e.app.twiml("/room", `<Response><Dial><Conference beep="false" record="record-from-start" recordingStatusCallback="/rec" eventCallbackUrl="/event">desk</Conference></Dial></Response>`)
	e.app.handle("/rec", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	e.app.handle("/event", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	customer, agent, coach := &heard{}, &heard{}, &heard{}
	cch := e.callInto(t, "+15550123000", "+15550000021", softphone.Script{Play: tone(500, 6*time.Second), Duration: 6 * time.Second, Sink: customer})
	e.waitInRoom("desk", 1)
	ach := e.callInto(t, "+15550123000", "+15550000022", softphone.Script{Play: tone(800, 6*time.Second), Duration: 5 * time.Second, Sink: agent})
	// The coach coaches the agent: it needs the agent's call SID.
	var agentSID string
	e.waitInRoom("desk", 2)
	calls, _, _ := e.srv.Store().ListCalls(context.Background(), store.CallFilter{AccountSID: testSID, From: "+15550000022"}, store.Page{Size: 1})
	if len(calls) == 1 {
		agentSID = calls[0].SID
	}
	e.app.twiml("/coach", `<Response><Dial><Conference beep="false" coach="`+agentSID+`">desk</Conference></Dial></Response>`)
	kch := e.callInto(t, "+15550123001", "+15550000023", softphone.Script{Play: tone(1300, 3*time.Second), Duration: 3 * time.Second, Sink: coach})
	for _, ch := range []<-chan softphone.Result{kch, ach, cch} {
		if r := wait(t, ch, 20*time.Second, "a caller"); !r.Answered {
			t.Errorf("caller %+v", r)
		}
	}
	if span := toneSpan(agent.all(), 1300, time.Second); span == nil || dsp.GoertzelPower(span, 1300, media.SampleRate) < 100*dsp.GoertzelPower(span, 2000, media.SampleRate) {
		t.Errorf("the agent did not hear the coach")
	}
	if p13, p8 := dsp.GoertzelPower(customer.all(), 1300, media.SampleRate), dsp.GoertzelPower(customer.all(), 800, media.SampleRate); p13*100 > p8 {
		t.Errorf("the customer heard the coach: 1300 Hz %.3g, the agent 800 Hz %.3g", p13, p8)
	}
	if span := toneSpan(coach.all(), 500, time.Second); span == nil || dsp.GoertzelPower(span, 800, media.SampleRate) < dsp.GoertzelPower(span, 2000, media.SampleRate)*100 {
		t.Errorf("the coach does not hear both the customer and the agent")
	}
	cb := e.app.waitFor("/rec", 1, 10*time.Second)[0].Params
	if cb.Get("RecordingSource") != "Conference" || cb.Get("ConferenceSid") == "" || cb.Get("RecordingStatus") != "completed" {
		t.Fatalf("recording callback %v", cb)
	}
	// The deprecated eventCallbackUrl hears of the recording's end too.
	ev := e.app.waitFor("/event", 1, 10*time.Second)[0].Params
	if ev.Get("StatusCallbackEvent") != "conference-record-end" || ev.Get("RecordingSid") != cb.Get("RecordingSid") ||
		ev.Get("ConferenceSid") != cb.Get("ConferenceSid") || ev.Get("FriendlyName") != "desk" || ev.Get("RecordingUrl") == "" {
		t.Errorf("eventCallbackUrl request %v", ev)
	}
	s := e.recordingFile(cb.Get("RecordingSid"))
	if len(s) < 3*media.SampleRate {
		t.Fatalf("recording of %d samples", len(s))
	}
	p5, p8 := dsp.GoertzelPower(s, 500, media.SampleRate), dsp.GoertzelPower(s, 800, media.SampleRate)
	if p5 < 100*dsp.GoertzelPower(s, 2000, media.SampleRate) || p8 < 100*dsp.GoertzelPower(s, 2000, media.SampleRate) {
		t.Errorf("the recording lacks a participant: 500 Hz %.3g, 800 Hz %.3g", p5, p8)
	}
	// Recorded from the start: the first second holds both, not music.
	if head := window(s, 0, time.Second); !(dsp.GoertzelPower(head, 500, media.SampleRate) > 0 && dsp.GoertzelPower(head, 800, media.SampleRate) > 0) {
		t.Errorf("the recording does not start with the conference")
	}
}

// answeredAt records when a caller's call was answered.
type answeredAt struct {
	mu sync.Mutex
	at time.Time
}

func (a *answeredAt) set()           { a.mu.Lock(); a.at = time.Now(); a.mu.Unlock() }
func (a *answeredAt) get() time.Time { a.mu.Lock(); defer a.mu.Unlock(); return a.at }

// since returns the samples s holds between two wall-clock times, s having
// started at start.
func since(s []int16, start, from, to time.Time) []int16 {
	return window(s, from.Sub(start), to.Sub(start))
}

// A room steered with twilio-go: participants listed, muted (no longer
// heard), held (hearing the hold music, not mixed), one dialled in by
// Create Participant and kicked, the conference ended through the API; then
// the whole history read back with InsightsV1, departed participants and
// their mute and hold events included.
func TestConferenceThroughTwilioGo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550124000", nil)
	e.app.twiml("/voice", `<Response><Dial><Conference beep="false" statusCallback="/conf" statusCallbackEvent="start end join leave mute hold">api-room</Conference></Dial></Response>`)
	e.app.handle("/conf", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	rest := e.rest()
	var aAt, bAt answeredAt
	a, b := &heard{}, &heard{}
	call := func(from string, f float64, h *heard, at *answeredAt) <-chan softphone.Result {
		ch := make(chan softphone.Result, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			res, err := e.phone.Call(ctx, softphone.Options{
				URI: "sip:+15550124000@" + e.srv.SIPAddr().String(), From: from, OnAnswer: at.set,
				Script: softphone.Script{Play: tone(f, 30*time.Second), Sink: h},
			})
			if err != nil {
				t.Logf("%s: %v", from, err)
			}
			ch <- res
		}()
		return ch
	}
	ach := call("+15550000031", 500, a, &aAt)
	bch := call("+15550000032", 800, b, &bAt)

	var conf openapi.ApiV2010Conference
	var parts []openapi.ApiV2010Participant
	eventually(t, "two participants listed", func() bool {
		confs, err := rest.Api.ListConference(&openapi.ListConferenceParams{FriendlyName: ptr("api-room"), Status: ptr("in-progress")})
		if err != nil || len(confs) != 1 {
			return false
		}
		conf = confs[0]
		parts, err = rest.Api.ListParticipant(*conf.Sid, nil)
		return err == nil && len(parts) == 2
	})
	sidOf := map[string]string{}
	for _, p := range parts {
		c, err := rest.Api.FetchCall(*p.CallSid, nil)
		if err != nil {
			t.Fatal(err)
		}
		sidOf[*c.From] = *p.CallSid
	}
	aSID, bSID := sidOf["+15550000031"], sidOf["+15550000032"]
	time.Sleep(time.Second) // an audio window: B hears A before the mute

	// Mute A: B stops hearing it.
	tMute := time.Now()
	if p, err := rest.Api.UpdateParticipant(*conf.Sid, aSID, (&openapi.UpdateParticipantParams{}).SetMuted(true)); err != nil || !*p.Muted {
		t.Fatalf("mute: %+v %v", p, err)
	}
	time.Sleep(1500 * time.Millisecond) // an audio window: what B hears with A muted
	// Hold B: it hears the hold music and A no longer hears it.
	tHold := time.Now()
	if p, err := rest.Api.UpdateParticipant(*conf.Sid, bSID, (&openapi.UpdateParticipantParams{}).SetHold(true)); err != nil || !*p.Hold {
		t.Fatalf("hold: %+v %v", p, err)
	}
	time.Sleep(1500 * time.Millisecond) // an audio window: B on hold
	tUnhold := time.Now()
	if _, err := rest.Api.UpdateParticipant(*conf.Sid, bSID, (&openapi.UpdateParticipantParams{}).SetHold(false)); err != nil {
		t.Fatal(err)
	}
	if muted, err := rest.Api.ListParticipant(*conf.Sid, &openapi.ListParticipantParams{Muted: ptrBool(true)}); err != nil || len(muted) != 1 || *muted[0].CallSid != aSID {
		t.Errorf("muted participants %v %v", muted, err)
	}

	// Dial C in, then kick it.
	callee := newCallee(t)
	c := &heard{}
	cch := take(t, callee, softphone.AnswerOptions{Script: softphone.Script{Play: tone(1300, 20*time.Second), Sink: c}})
	added, err := rest.Api.CreateParticipant(*conf.Sid, &openapi.CreateParticipantParams{From: ptr("+15550124000"), To: ptr(callee.URI("carol")), Beep: ptr("false")})
	if err != nil || added.CallSid == nil {
		t.Fatalf("create participant: %+v %v", added, err)
	}
	eventually(t, "the participant dialled in", func() bool {
		parts, err = rest.Api.ListParticipant(*conf.Sid, nil)
		return err == nil && len(parts) == 3
	})
	time.Sleep(time.Second) // an audio window: carol hears the room before she is kicked
	if err := rest.Api.DeleteParticipant(*conf.Sid, *added.CallSid, nil); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, cch, 10*time.Second, "carol"); !r.res.Answered || r.res.End != sip.EndRemoteHangup {
		t.Errorf("carol: %+v %v", r.res, r.err)
	}
	if span := toneSpan(c.all(), 800, 500*time.Millisecond); span == nil || dsp.GoertzelPower(span, 800, media.SampleRate) < 100*dsp.GoertzelPower(span, 2000, media.SampleRate) {
		t.Errorf("carol did not hear the room")
	}

	// End the conference: A and B are let go.
	if _, err := rest.Api.UpdateConference(*conf.Sid, &openapi.UpdateConferenceParams{Status: ptr("completed")}); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan softphone.Result{ach, bch} {
		if r := wait(t, ch, 10*time.Second, "a caller"); !r.Answered || r.End != sip.EndRemoteHangup {
			t.Errorf("caller %+v", r)
		}
	}
	got, err := rest.Api.FetchConference(*conf.Sid, nil)
	if err != nil || *got.Status != "completed" || got.ReasonConferenceEnded == nil || *got.ReasonConferenceEnded != "conference-ended-via-api" {
		t.Errorf("conference after the end: %+v %v", got, err)
	}
	if now, err := rest.Api.ListParticipant(*conf.Sid, nil); err != nil || len(now) != 0 {
		t.Errorf("current participants after the end: %d %v", len(now), err)
	}

	// What each heard.
	as, bs := a.all(), b.all()
	at, bt := aAt.get(), bAt.get()
	if s := since(bs, bt, tMute.Add(-time.Second), tMute); !dominant(s, 500) {
		t.Errorf("B did not hear A before the mute")
	}
	if s := since(bs, bt, tMute.Add(400*time.Millisecond), tHold); dsp.GoertzelPower(s, 500, media.SampleRate) > 1e-3*dsp.GoertzelPower(since(bs, bt, tMute.Add(-time.Second), tMute), 500, media.SampleRate) {
		t.Errorf("B still heard A after the mute")
	}
	onHold := since(bs, bt, tHold.Add(400*time.Millisecond), tUnhold)
	if dsp.Level(onHold) < -40 || dominant(onHold, 500) {
		t.Errorf("B on hold: %.1f dBFS, A's tone dominant %v: want the hold music", dsp.Level(onHold), dominant(onHold, 500))
	}
	if s := since(as, at, tHold.Add(400*time.Millisecond), tUnhold); dsp.Level(s) > -50 {
		t.Errorf("A heard %.1f dBFS while the only other participant was on hold", dsp.Level(s))
	}
	if s := since(as, at, tUnhold.Add(400*time.Millisecond), tUnhold.Add(1400*time.Millisecond)); !dominant(s, 800) {
		t.Errorf("A did not hear B after the hold")
	}

	// The history, with Insights.
	ic, err := rest.InsightsV1.FetchConference(*conf.Sid)
	if err != nil {
		t.Fatal(err)
	}
	if *ic.UniqueParticipants != 3 || *ic.MaxConcurrentParticipants != 3 || *ic.Status != "completed" {
		t.Errorf("insights conference: unique %v, max %v, status %v", *ic.UniqueParticipants, *ic.MaxConcurrentParticipants, *ic.Status)
	}
	ips, err := rest.InsightsV1.ListConferenceParticipant(*conf.Sid, nil)
	if err != nil || len(ips) != 3 {
		t.Fatalf("insights participants %d %v", len(ips), err)
	}
	events := map[string]string{}
	for _, p := range ips {
		if p.JoinTime == nil || p.LeaveTime == nil {
			t.Errorf("participant %s: join %v leave %v", *p.CallSid, p.JoinTime, p.LeaveTime)
		}
		if p.Events != nil {
			b, _ := json.Marshal(*p.Events)
			events[*p.CallSid] = string(b)
		}
	}
	if !strings.Contains(events[aSID], "mute") || !strings.Contains(events[bSID], "hold") {
		t.Errorf("insights events: A %s, B %s", events[aSID], events[bSID])
	}
	cbs := e.app.waitFor("/conf", 11, 5*time.Second) // 3 joins, start, mute, hold, unhold, 3 leaves, end
	var names []string
	for _, cb := range cbs {
		names = append(names, cb.Params.Get("StatusCallbackEvent"))
	}
	for _, want := range []string{"participant-mute", "participant-hold", "participant-unhold", "conference-end"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s callback in %v", want, names)
		}
	}
}

// Speaker events: a participant speaking (espeak-ng speech) gets
// participant-speech-start then -stop; one only hearing the hold music
// before the start and silence after gets none.
func TestConferenceSpeakerEvents(t *testing.T) {
	t.Parallel()
	needEspeak(t)
	speech := filepath.Join(t.TempDir(), "speech.wav")
	if out, err := exec.Command("espeak-ng", "-w", speech, "Good morning everyone. Let us start the weekly review. First item on the agenda.").CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v %s", err, out)
	}
	e := newEnv(t, server.Options{})
	e.number("+15550125000", nil)
	e.app.twiml("/voice", `<Response><Dial><Conference beep="false" statusCallback="/conf" statusCallbackEvent="speaker">talk</Conference></Dial></Response>`)
	e.app.handle("/conf", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	quiet := e.callInto(t, "+15550125000", "+15550000041", softphone.Script{Duration: 9 * time.Second})
	e.waitInRoom("talk", 1)
	talker := e.callInto(t, "+15550125000", "+15550000042", softphone.Script{PlayFile: speech, Duration: 8 * time.Second})
	wait(t, talker, 20*time.Second, "talker")
	wait(t, quiet, 20*time.Second, "quiet")
	cbs := e.app.waitFor("/conf", 2, 5*time.Second)
	calls, _, _ := e.srv.Store().ListCalls(context.Background(), store.CallFilter{AccountSID: testSID, From: "+15550000042"}, store.Page{Size: 1})
	if len(calls) != 1 {
		t.Fatal("no talker call")
	}
	var got []string
	for _, cb := range cbs {
		p := cb.Params
		got = append(got, p.Get("StatusCallbackEvent"))
		if p.Get("CallSid") != calls[0].SID {
			t.Errorf("speaker event for the quiet participant: %v", p)
		}
	}
	if len(got) < 2 || got[0] != "participant-speech-start" || got[len(got)-1] != "participant-speech-stop" {
		t.Errorf("speaker events %v", got)
	}
}

// Seed 003's scenario: a customer calls; an agent is dialled in; a
// supervisor is dialled in to coach the agent, then leaves; the agent puts
// the customer on hold and leaves; the supervisor is dialled in again and
// takes the call. Once the room has ended, Insights gives every
// participant, departed ones included: 3 unique, at most 3 at once, 4 joins.
func TestConferenceSeed003History(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550126000", nil)
	e.app.twiml("/voice", `<Response><Dial><Conference beep="false" endConferenceOnExit="true">support-123</Conference></Dial></Response>`)
	rest := e.rest()
	customer := e.callInto(t, "+15550126000", "+15550000051", softphone.Script{Play: tone(500, 20*time.Second), Duration: 9 * time.Second})
	var conf string
	eventually(t, "the conference", func() bool {
		cs, err := rest.Api.ListConference(&openapi.ListConferenceParams{FriendlyName: ptr("support-123")})
		if err == nil && len(cs) == 1 {
			conf = *cs[0].Sid
		}
		return conf != ""
	})
	agentPhone, supPhone := newCallee(t), newCallee(t)
	dialIn := func(phone *softphone.Phone, user string, params *openapi.CreateParticipantParams, d time.Duration) (string, <-chan calleeResult) {
		ch := take(t, phone, softphone.AnswerOptions{Script: softphone.Script{Play: tone(800, 20*time.Second), Duration: d}})
		params.From, params.To, params.Beep = ptr("+15550126000"), ptr(phone.URI(user)), ptr("false")
		p, err := rest.Api.CreateParticipant(conf, params)
		if err != nil {
			t.Fatalf("create participant %s: %v", user, err)
		}
		return *p.CallSid, ch
	}
	waitCount := func(n int) {
		t.Helper()
		eventually(t, fmt.Sprintf("%d participants", n), func() bool {
			ps, err := rest.Api.ListParticipant(conf, nil)
			return err == nil && len(ps) == n
		})
	}
	agent, agentDone := dialIn(agentPhone, "agent", &openapi.CreateParticipantParams{}, 20*time.Second)
	waitCount(2)
	sup, supDone := dialIn(supPhone, "supervisor", &openapi.CreateParticipantParams{Coaching: ptrBool(true), CallSidToCoach: &agent}, 20*time.Second)
	waitCount(3)
	if err := rest.Api.DeleteParticipant(conf, sup, nil); err != nil { // the supervisor stops monitoring
		t.Fatal(err)
	}
	wait(t, supDone, 10*time.Second, "supervisor's first call")
	waitCount(2)
	customerSID := ""
	ps, _ := rest.Api.ListParticipant(conf, nil)
	for _, p := range ps {
		if *p.CallSid != agent {
			customerSID = *p.CallSid
		}
	}
	if _, err := rest.Api.UpdateParticipant(conf, customerSID, (&openapi.UpdateParticipantParams{}).SetHold(true)); err != nil {
		t.Fatal(err)
	}
	if err := rest.Api.DeleteParticipant(conf, agent, nil); err != nil { // the agent transfers and leaves
		t.Fatal(err)
	}
	wait(t, agentDone, 10*time.Second, "agent")
	waitCount(1)
	_, supDone = dialIn(supPhone, "supervisor", &openapi.CreateParticipantParams{}, 2*time.Second)
	waitCount(2)
	if _, err := rest.Api.UpdateParticipant(conf, customerSID, (&openapi.UpdateParticipantParams{}).SetHold(false)); err != nil {
		t.Fatal(err)
	}
	wait(t, supDone, 10*time.Second, "supervisor's second call")
	wait(t, customer, 20*time.Second, "customer")

	var ic *insights.InsightsV1Conference
	eventually(t, "the conference completed", func() bool {
		c, err := rest.InsightsV1.FetchConference(conf)
		if err == nil && *c.Status == "completed" {
			ic = c
		}
		return ic != nil
	})
	if *ic.UniqueParticipants != 3 || *ic.MaxConcurrentParticipants != 3 {
		t.Errorf("unique %d, max concurrent %d: want 3 and 3", *ic.UniqueParticipants, *ic.MaxConcurrentParticipants)
	}
	ips, err := rest.InsightsV1.ListConferenceParticipant(conf, nil)
	if err != nil || len(ips) != 4 {
		t.Fatalf("insights participants: %d %v", len(ips), err)
	}
	for _, p := range ips {
		if p.JoinTime == nil || p.LeaveTime == nil || p.From == nil || p.To == nil || p.CallDirection == nil {
			t.Errorf("participant %+v", p)
		}
	}
	// The v2010 API, as Twilio's, has nobody left to list.
	if ps, err := rest.Api.ListParticipant(conf, nil); err != nil || len(ps) != 0 {
		t.Errorf("v2010 participants after the end: %d %v", len(ps), err)
	}
}

// Create Participant on a name with no live room creates the room at once,
// so the participant it returns names its conference; Record=true records
// the participant's call while it is in the room, with its own recording
// status callback. A room created for a callee who declines is closed when
// that call ends, without a conference-start.
func TestConferenceCreateParticipantNewRoom(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.app.handle("/prec", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	rest := e.rest()
	callee := newCallee(t)
	done := take(t, callee, softphone.AnswerOptions{Script: softphone.Script{Play: tone(800, 3*time.Second), Duration: 2 * time.Second}})
	p, err := rest.Api.CreateParticipant("fresh-room", &openapi.CreateParticipantParams{
		From: ptr("+15550127000"), To: ptr(callee.URI("alice")), Beep: ptr("false"), WaitUrl: ptr(""),
		Record: ptrBool(true), RecordingStatusCallback: ptr(e.app.url("/prec")),
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.ConferenceSid == nil || !strings.HasPrefix(*p.ConferenceSid, "CF") {
		t.Fatalf("the new participant names no conference: %+v", p)
	}
	c, err := rest.Api.FetchConference(*p.ConferenceSid, nil)
	if err != nil || *c.FriendlyName != "fresh-room" {
		t.Fatalf("conference %s: %+v %v", *p.ConferenceSid, c, err)
	}
	wait(t, done, 20*time.Second, "the callee")
	cb := e.app.waitFor("/prec", 1, 10*time.Second)[0].Params
	if cb.Get("CallSid") != *p.CallSid || cb.Get("RecordingStatus") != "completed" || cb.Get("RecordingSource") != "DialVerb" {
		t.Fatalf("participant recording callback %v", cb)
	}
	if s := e.recordingFile(cb.Get("RecordingSid")); dsp.GoertzelPower(s, 800, media.SampleRate) < 100*dsp.GoertzelPower(s, 2000, media.SampleRate) {
		t.Errorf("the participant's recording (%d samples) lacks what it said", len(s))
	}

	// A callee who declines: the room made for it closes.
	decline := take(t, callee, softphone.AnswerOptions{Reject: 603})
	p, err = rest.Api.CreateParticipant("declined-room", &openapi.CreateParticipantParams{
		From: ptr("+15550127000"), To: ptr(callee.URI("bob")), Beep: ptr("false"),
	})
	if err != nil || p.ConferenceSid == nil {
		t.Fatalf("create participant: %+v %v", p, err)
	}
	wait(t, decline, 20*time.Second, "the declining callee")
	eventually(t, "the declined room closed", func() bool {
		c, err := rest.Api.FetchConference(*p.ConferenceSid, nil)
		return err == nil && *c.Status == "completed"
	})
	if cs, err := rest.Api.ListConference(&openapi.ListConferenceParams{FriendlyName: ptr("declined-room"), Status: ptr("in-progress")}); err != nil || len(cs) != 0 {
		t.Errorf("live rooms named declined-room: %d %v", len(cs), err)
	}
}

// Bad input: the <Dial> of a waitUrl's document is refused with a warning
// (13233) and the caller hears the rest of it; an unknown jitterBufferSize is reported when parsed; updating a
// participant of an ended room gets Twilio's error.
func TestConferenceBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550127000", nil)
	e.serveTone("/music.wav", 1400, time.Second)
	e.app.twiml("/wait", `<Response><Play>/music.wav</Play><Dial>+15550100999</Dial></Response>`)
	e.app.twiml("/voice", `<Response><Dial><Conference waitUrl="/wait" jitterBufferSize="huge">bad</Conference></Dial></Response>`)
	h := &heard{}
	ch := e.callInto(t, "+15550127000", "+15550000061", softphone.Script{Duration: 2 * time.Second, Sink: h})
	wait(t, ch, 10*time.Second, "caller")
	if span := toneSpan(h.all(), 1400, 500*time.Millisecond); span == nil || !dominant(span, 1400) {
		t.Errorf("the waiting caller did not hear the waitUrl's <Play>")
	}
	var codes []int
	for _, n := range e.notifications() {
		codes = append(codes, n.ErrorCode)
	}
	if !slices.Contains(codes, 13233) || !slices.Contains(codes, 16002) {
		t.Errorf("notifications %v: want 13233 (the <Dial> in the waitUrl) and 16002 (jitterBufferSize)", codes)
	}
	rest := e.rest()
	cs, err := rest.Api.ListConference(&openapi.ListConferenceParams{FriendlyName: ptr("bad")})
	if err != nil || len(cs) != 1 {
		t.Fatalf("conferences %v %v", cs, err)
	}
	eventually(t, "the room completed", func() bool {
		c, err := rest.Api.FetchConference(*cs[0].Sid, nil)
		return err == nil && *c.Status == "completed"
	})
	_, err = rest.Api.UpdateParticipant(*cs[0].Sid, "CA00000000000000000000000000000000", (&openapi.UpdateParticipantParams{}).SetMuted(true))
	if err == nil || !strings.Contains(err.Error(), "20404") && !strings.Contains(err.Error(), "16022") {
		t.Errorf("update on an ended room: %v", err)
	}
	if _, err := rest.Api.UpdateConference(*cs[0].Sid, &openapi.UpdateConferenceParams{Status: ptr("completed")}); err == nil || !strings.Contains(err.Error(), "16022") {
		t.Errorf("ending an ended room: %v", err)
	}
}

// SIPp as an independent participant: it echoes what it hears, so a
// softphone in the room with it hears its own voice come back through the
// mix (the softphone's voice reached SIPp, and SIPp's reached the
// softphone).
func TestConferenceWithSIPp(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	e := newEnv(t, server.Options{})
	e.number("room", nil)
	e.app.twiml("/voice", `<Response><Dial><Conference beep="false">sipp-room</Conference></Dial></Response>`)
	h := &heard{}
	ch := e.callInto(t, "room", "+15550000071", softphone.Script{Play: tone(600, 8*time.Second), Duration: 6 * time.Second, Sink: h})
	e.waitInRoom("sipp-room", 1)
	scenario, _ := filepath.Abs("testdata/sipp_uac_echo.xml")
	runSIPp(t, e, "-sf", scenario, "-s", "room", "-m", "1", "-rtp_echo")
	wait(t, ch, 10*time.Second, "softphone")
	if span := toneSpan(h.all(), 600, time.Second); span == nil || dsp.Level(span) < -20 || !dominant(span, 600) {
		t.Errorf("the softphone did not hear its voice echoed by SIPp through the room")
	}
}

// A live room's recording started through the API (beyond Twilio), paused,
// resumed and stopped with twilio-go: the file holds the room's mix for the
// time it ran, the pause skipped.
func TestConferenceRecordingThroughAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550128000", nil)
	e.app.twiml("/voice", `<Response><Dial><Conference beep="false" trim="do-not-trim">rec-room</Conference></Dial></Response>`)
	a := e.callInto(t, "+15550128000", "+15550000081", softphone.Script{Play: tone(500, 9*time.Second), Duration: 8 * time.Second})
	b := e.callInto(t, "+15550128000", "+15550000082", softphone.Script{Play: tone(800, 9*time.Second), Duration: 8 * time.Second})
	rest := e.rest()
	var conf string
	eventually(t, "the conference started", func() bool {
		cs, err := rest.Api.ListConference(&openapi.ListConferenceParams{FriendlyName: ptr("rec-room"), Status: ptr("in-progress")})
		if err == nil && len(cs) == 1 {
			conf = *cs[0].Sid
		}
		return conf != ""
	})
	req, _ := http.NewRequest(http.MethodPost, "http://"+e.srv.HTTPAddr().String()+"/2010-04-01/Accounts/"+testSID+"/Conferences/"+conf+"/Recordings.json", nil)
	req.SetBasicAuth(testSID, testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var started struct {
		Sid    string `json:"sid"`
		Status string `json:"status"`
	}
	json.NewDecoder(resp.Body).Decode(&started)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || started.Status != "in-progress" {
		t.Fatalf("start: %d %+v", resp.StatusCode, started)
	}
	time.Sleep(time.Second) // audio windows: 1 s recorded, 1 s paused, 1 s recorded
	for _, st := range []string{"paused", "in-progress"} {
		p, err := rest.Api.UpdateConferenceRecording(conf, started.Sid, &openapi.UpdateConferenceRecordingParams{Status: ptr(st)})
		if err != nil || *p.Status != st {
			t.Fatalf("%s: %+v %v", st, p, err)
		}
		time.Sleep(time.Second)
	}
	if _, err := rest.Api.UpdateConferenceRecording(conf, started.Sid, &openapi.UpdateConferenceRecordingParams{Status: ptr("stopped")}); err != nil {
		t.Fatal(err)
	}
	rec, err := rest.Api.FetchConferenceRecording(conf, started.Sid, nil)
	if err != nil || *rec.Status != "completed" || *rec.Source != "Conference" {
		t.Fatalf("recording %+v %v", rec, err)
	}
	s := e.recordingFile(started.Sid)
	if d := time.Duration(len(s)) * time.Second / media.SampleRate; d < 1500*time.Millisecond || d > 2600*time.Millisecond {
		t.Errorf("recorded %v: want about 2 s (3 s less the 1 s pause)", d)
	}
	if p5, p8 := dsp.GoertzelPower(s, 500, media.SampleRate), dsp.GoertzelPower(s, 800, media.SampleRate); p5 < 100*dsp.GoertzelPower(s, 2000, media.SampleRate) || p8 < 100*dsp.GoertzelPower(s, 2000, media.SampleRate) {
		t.Errorf("the recording lacks a participant")
	}
	wait(t, a, 15*time.Second, "a")
	wait(t, b, 15*time.Second, "b")
}

// A server stopped while a room is live ends the room and stops promptly.
func TestConferenceShutdown(t *testing.T) {
	t.Parallel()
	e, stop := startEnv(t, server.Options{}, nil)
	e.number("+15550129000", nil)
	e.app.twiml("/voice", `<Response><Dial><Conference beep="false">closing</Conference></Dial></Response>`)
	a := e.callInto(t, "+15550129000", "+15550000091", softphone.Script{Duration: 20 * time.Second})
	b := e.callInto(t, "+15550129000", "+15550000092", softphone.Script{Duration: 20 * time.Second})
	e.waitInRoom("closing", 2)
	start := time.Now()
	stop()
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the server took %v to stop with a live room", took)
	}
	wait(t, a, 10*time.Second, "a")
	wait(t, b, 10*time.Second, "b")
}
