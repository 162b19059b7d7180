package voice

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// talk is n frames of the caller's voice.
func talk(n int) []int16 { return toneSamples(toneCaller, n*media.FrameSamples, 8000) }

// startRecording plays the beep (if any) and waits for <Record> to listen
// (its tap, its maxLength timer and its silence poll).
func startRecording(t *testing.T, h *harness, ic *inboundCall, beep bool) {
	t.Helper()
	if beep {
		ic.m.waitPlaying(t, 1)
		ic.m.playOut(t, 40)
	}
	waitFor(t, "the recorder's tap", func() bool { return ic.m.tapCount() == 1 })
	h.waitTimers(3)
}

// recordingOf returns the call's only recording.
func recordingOf(t *testing.T, h *harness, sid string) store.Recording {
	t.Helper()
	recs := h.st.recordings(sid)
	if len(recs) != 1 {
		t.Fatalf("%d recordings", len(recs))
	}
	return recs[0]
}

func TestRecordFinishOnKey(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/r", thanks)
	ic := h.runDoc(`<Response><Record action="/r" maxLength="10" transcribe="true" ` +
		`recordingStatusCallback="/rs" recordingStatusCallbackEvent="in-progress completed"/><Say>never</Say></Response>`)
	startRecording(t, h, ic, true)
	if got := toneFrames(ic.m.heardPCM(), toneBeep); got != 25 {
		t.Errorf("heard %d frames of the beep, want 25", got)
	}
	ic.m.say(talk(50))
	ic.m.tickN(50)
	ic.m.press(t, "#")
	r := h.waitRequest("/r")
	ic.finish(100)

	sid := ic.sid()
	rec := recordingOf(t, h, sid)
	wantURL := "https://sb.test/2010-04-01/Accounts/" + h.acct.SID + "/Recordings/" + rec.SID
	for k, v := range map[string]string{
		"RecordingUrl": wantURL, "RecordingSid": rec.SID, "RecordingDuration": "1", "Digits": "#",
		"CallSid": sid, "CallStatus": "in-progress",
	} {
		if got := r.Params.Get(k); got != v {
			t.Errorf("action %s = %q, want %q", k, got, v)
		}
	}
	if !strings.HasPrefix(rec.SID, "RE") || rec.Status != store.RecordingCompleted || rec.Duration != time.Second ||
		rec.Source != store.SourceRecordVerb || rec.Track != "inbound" || rec.Channels != 1 {
		t.Errorf("recording %+v", rec)
	}
	pcm := readRecording(t, filepath.Join(h.dataDir, rec.File))
	if len(pcm) != 8000 || toneFrames(pcm, toneCaller) != 50 {
		t.Errorf("file: %d samples, %d frames of the caller's voice; want 8000, 50", len(pcm), toneFrames(pcm, toneCaller))
	}
	if toneFrames(pcm, toneBeep) != 0 {
		t.Error("the beep is in the recording")
	}
	if got := h.st.codes(sid); !slices.Equal(got, []int{13614}) {
		t.Errorf("notifications %v, want the transcription warning", got)
	}
	if got := h.tts.texts(); !slices.Equal(got, []string{"thanks"}) {
		t.Errorf("spoke %q", got)
	}

	var events []string
	for _, cb := range h.st.callbacksOf(sid) {
		if cb.URL != h.url("/rs") {
			continue
		}
		events = append(events, cb.p.Get("RecordingStatus"))
		if cb.p.Get("RecordingSid") != rec.SID || cb.p.Get("RecordingUrl") != wantURL || cb.p.Get("RecordingSource") != store.SourceRecordVerb {
			t.Errorf("recording callback %v", cb.p)
		}
		if cb.p.Get("RecordingStatus") == "completed" && cb.p.Get("RecordingDuration") != "1" {
			t.Errorf("completed callback duration %s", cb.p.Get("RecordingDuration"))
		}
	}
	if !slices.Equal(events, []string{"in-progress", "completed"}) {
		t.Errorf("recording callbacks %v", events)
	}
}

func TestRecordMaxLength(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/r", thanks)
	ic := h.runDoc(`<Response><Record action="/r" maxLength="1" timeout="0" playBeep="false" trim="do-not-trim"/></Response>`)
	startRecording(t, h, ic, false)
	ic.m.say(talk(80))
	ic.m.tickN(49) // 0.98 s of the fake clock: the maxLength timer has not fired
	if len(h.app.requestsTo("/r")) != 0 {
		t.Fatal("the recording ended before maxLength")
	}
	ic.m.tick() // 1 s
	r := h.waitRequest("/r")
	ic.finish(100)
	if r.Params.Get("Digits") != "" || r.Params.Get("RecordingDuration") != "1" {
		t.Errorf("action Digits=%q RecordingDuration=%q", r.Params.Get("Digits"), r.Params.Get("RecordingDuration"))
	}
	rec := recordingOf(t, h, ic.sid())
	if rec.Duration != time.Second {
		t.Errorf("duration %v, want 1 s", rec.Duration)
	}
	if pcm := readRecording(t, filepath.Join(h.dataDir, rec.File)); len(pcm) != 8000 {
		t.Errorf("%d samples recorded, want 8000", len(pcm))
	}
}

func TestRecordSilenceTimeout(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/r", thanks)
	ic := h.runDoc(`<Response><Record action="/r" timeout="1" playBeep="false"/></Response>`)
	startRecording(t, h, ic, false)
	start := h.clk.Now()
	ic.m.say(talk(40))
	ic.m.tickUntil(t, "the action", 1000, func() bool { return len(h.app.requestsTo("/r")) > 0 })
	r := h.waitRequest("/r")
	ic.finish(100)
	if r.Params.Get("Digits") != "" || r.Params.Get("RecordingDuration") != "1" {
		t.Errorf("action Digits=%q RecordingDuration=%q", r.Params.Get("Digits"), r.Params.Get("RecordingDuration"))
	}
	if d := r.At.Sub(start); d < 1800*time.Millisecond || d > 3*time.Second {
		t.Errorf("the recording ended %v after it started, want after 0.8 s of voice and 1 s of silence", d)
	}
	// trim-silence keeps the voice and the words' quiet ends.
	if rec := recordingOf(t, h, ic.sid()); rec.Duration < 800*time.Millisecond || rec.Duration > time.Second {
		t.Errorf("duration %v", rec.Duration)
	}
}

func TestRecordAbsent(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/r", thanks)
	ic := h.runDoc(`<Response><Record action="/r" timeout="1" playBeep="false" recordingStatusCallback="/rs" recordingStatusCallbackEvent="absent"/><Say>next</Say></Response>`)
	startRecording(t, h, ic, false)
	ic.m.tickUntil(t, "the next verb", 1000, func() bool { return ic.m.playCount() > 0 })
	ic.finish(100)
	if n := len(h.app.requestsTo("/r")); n != 0 {
		t.Errorf("%d action requests for an empty recording", n)
	}
	if got := h.tts.texts(); !slices.Equal(got, []string{"next"}) {
		t.Errorf("spoke %q: an absent recording goes on with the next verb", got)
	}
	sid := ic.sid()
	if rec := recordingOf(t, h, sid); rec.Status != store.RecordingAbsent {
		t.Errorf("recording status %s", rec.Status)
	}
	var n int
	for _, cb := range h.st.callbacksOf(sid) {
		if cb.URL == h.url("/rs") && cb.p.Get("RecordingStatus") == "absent" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d absent callbacks", n)
	}
}

func TestRecordCallerHangsUp(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/r", `<Response><Say>never</Say></Response>`)
	ic := h.runDoc(`<Response><Record action="/r" playBeep="false"/><Say>never either</Say></Response>`)
	startRecording(t, h, ic, false)
	ic.m.say(talk(50))
	ic.m.tickN(50)
	ic.leg.remoteHangup()
	ic.wait()
	r := h.waitRequest("/r")
	if r.Params.Get("Digits") != "hangup" || r.Params.Get("RecordingDuration") != "1" {
		t.Errorf("action Digits=%q RecordingDuration=%q", r.Params.Get("Digits"), r.Params.Get("RecordingDuration"))
	}
	if got := h.tts.texts(); len(got) != 0 {
		t.Errorf("spoke %q after the caller hung up", got)
	}
	if rec := recordingOf(t, h, ic.sid()); rec.Status != store.RecordingCompleted || rec.Duration != time.Second {
		t.Errorf("recording %s %v", rec.Status, rec.Duration)
	}
	if c := ic.record(); c.Status != store.CallCompleted {
		t.Errorf("call %s", c.Status)
	}
}
