package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
	"github.com/switchboard-voice/switchboard/internal/recording"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/softphone"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// sequence plays silence and tones one after another.
type sequence []media.Source

func (s *sequence) ReadFrame(f []int16) error {
	for len(*s) > 0 {
		err := (*s)[0].ReadFrame(f)
		if err == nil {
			return nil
		}
		*s = (*s)[1:]
	}
	return io.EOF
}

func tone(freq float64, d time.Duration) media.Source {
	return dsp.ToneSource([]float64{freq}, -12, d)
}

// recordingFile reads the recording's WAV file from the server's data dir.
func (e *env) recordingFile(rsid string) []int16 {
	e.t.Helper()
	rec, err := e.srv.Store().Recording(context.Background(), testSID, rsid)
	if err != nil {
		e.t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(e.dataDir(), rec.File))
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	format, s, err := wav.ReadAll(f)
	if err != nil {
		e.t.Fatal(err)
	}
	if format.SampleRate != 8000 || format.Channels != 1 || format.BitsPerSample != 16 {
		e.t.Fatalf("recording format %v, want 8 kHz 16-bit mono", format)
	}
	return s
}

func TestRecordEndsOnSilence(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response><Record action="/done" timeout="2" maxLength="20" recordingStatusCallback="/rec-status" recordingStatusCallbackEvent="in-progress completed"/></Response>`)
	e.app.twiml("/done", `<Response><Hangup/></Response>`)
	e.app.handle("/rec-status", func(w http.ResponseWriter, r *http.Request) {})
	// Silence over the beep, 2 s of 1 kHz, then silence: the recording ends
	// after 2 s of it and is trimmed to the tone.
	play := sequence{silence(800 * time.Millisecond), tone(1000, 2*time.Second), silence(5 * time.Second)}
	res, h, err := e.call("support", softphone.Script{Play: &play, Duration: 15 * time.Second})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	// The beep was heard first.
	if b := voiced(h.all()); len(b) < 3000 || !dominant(b[:3000], 1000) {
		t.Error("no beep heard before recording")
	}
	done := e.app.waitFor("/done", 1, 3*time.Second)[0]
	rsid := done.Params.Get("RecordingSid")
	if !strings.HasPrefix(rsid, "RE") || done.Params.Get("RecordingDuration") != "2" || done.Params.Get("Digits") != "" {
		t.Errorf("action params %v", done.Params)
	}
	if u := done.Params.Get("RecordingUrl"); u != "http://127.0.0.1/2010-04-01/Accounts/"+testSID+"/Recordings/"+rsid {
		t.Errorf("RecordingUrl %q", u)
	}
	if res.Talk > 7*time.Second {
		t.Errorf("the silence timeout did not end the recording: call lasted %v", res.Talk)
	}
	s := e.recordingFile(rsid)
	if d := time.Duration(len(s)) * time.Second / media.SampleRate; d < 1900*time.Millisecond || d > 2400*time.Millisecond {
		t.Errorf("trimmed recording lasts %v, want the 2 s tone", d)
	}
	mid := s[800 : len(s)-800]
	if !dominant(mid, 1000) {
		t.Error("recording does not hold the 1 kHz tone")
	}
	if lvl := dsp.Level(mid); math.Abs(lvl-(-12)) > 1 {
		t.Errorf("recorded level %.1f dBFS, sent -12", lvl)
	}
	rec, _ := e.srv.Store().Recording(context.Background(), testSID, rsid)
	if rec.Status != store.RecordingCompleted || rec.CallSID != e.finalCall().SID || rec.Source != "RecordVerb" {
		t.Errorf("recording row %+v", rec)
	}
	// Listed and downloaded through the REST API, as a Twilio app would.
	recs, err := e.rest().Api.ListRecording(&openapi.ListRecordingParams{})
	if err != nil || len(recs) != 1 || recs[0].Sid == nil || *recs[0].Sid != rsid || recs[0].Duration == nil || *recs[0].Duration != "2" {
		t.Fatalf("ListRecording: %+v %v", recs, err)
	}
	media := e.download(done.Params.Get("RecordingUrl"))
	if _, dl, err := wav.ReadAll(bytes.NewReader(media)); err != nil || len(dl) != len(s) {
		t.Errorf("downloaded recording: %d samples, %v; the file has %d", len(dl), err, len(s))
	}
	cbs := e.app.waitFor("/rec-status", 2, 3*time.Second)
	if cbs[0].Params.Get("RecordingStatus") != "in-progress" || cbs[1].Params.Get("RecordingStatus") != "completed" ||
		cbs[1].Params.Get("RecordingDuration") != "2" || !cbs[1].Valid {
		t.Errorf("recording status callbacks: %v / %v", cbs[0].Params, cbs[1].Params)
	}
}

func TestRecordFinishOnKeyMaxLengthAndHangup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		record     string
		script     softphone.Script
		wantDigits string
		wantLen    time.Duration
	}{
		{
			name:       "finishOnKey",
			record:     `<Record action="/done" playBeep="false" finishOnKey="#" trim="do-not-trim"/>`,
			script:     softphone.Script{Play: tone(700, 1500*time.Millisecond), Digits: "#", Duration: 10 * time.Second},
			wantDigits: "#", wantLen: 1500 * time.Millisecond,
		},
		{
			name:       "maxLength",
			record:     `<Record action="/done" playBeep="false" maxLength="2" timeout="0"/>`,
			script:     softphone.Script{Play: tone(700, 8*time.Second), Duration: 10 * time.Second},
			wantDigits: "", wantLen: 2 * time.Second,
		},
		{
			name:       "hangup",
			record:     `<Record action="/done" playBeep="false"/>`,
			script:     softphone.Script{Play: tone(700, 8*time.Second), Duration: 1500 * time.Millisecond},
			wantDigits: "hangup", wantLen: 1500 * time.Millisecond,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, server.Options{})
			e.number("support", nil)
			e.app.twiml("/voice", `<Response>`+tc.record+`</Response>`)
			e.app.twiml("/done", `<Response><Hangup/></Response>`)
			res, _, err := e.call("support", tc.script)
			if err != nil || !res.Answered {
				t.Fatalf("%+v %v", res, err)
			}
			done := e.app.waitFor("/done", 1, 3*time.Second)[0]
			if d := done.Params.Get("Digits"); d != tc.wantDigits {
				t.Errorf("Digits = %q, want %q", d, tc.wantDigits)
			}
			s := e.recordingFile(done.Params.Get("RecordingSid"))
			got := time.Duration(len(s)) * time.Second / media.SampleRate
			if got < tc.wantLen-300*time.Millisecond || got > tc.wantLen+300*time.Millisecond {
				t.Errorf("recording lasts %v, want about %v", got, tc.wantLen)
			}
			if n, _ := strconv.Atoi(done.Params.Get("RecordingDuration")); time.Duration(n)*time.Second-got > time.Second || got-time.Duration(n)*time.Second > time.Second {
				t.Errorf("RecordingDuration %d for a %v file", n, got)
			}
			if !dominant(voiced(s), 700) {
				t.Error("recording does not hold the 700 Hz tone")
			}
			if call := e.finalCall(); call.Status != store.CallCompleted {
				t.Errorf("call %+v", call)
			}
		})
	}
}

func TestRecordSilenceIsAbsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response><Record action="/done" playBeep="false" timeout="1" recordingStatusCallback="/rec-status" recordingStatusCallbackEvent="absent"/><Play>/after.wav</Play></Response>`)
	e.app.handle("/rec-status", func(w http.ResponseWriter, r *http.Request) {})
	tone := toneWAV(t, 900, time.Second, 8000)
	e.app.handle("/after.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		http.ServeFile(w, r, tone)
	})
	res, h, err := e.call("support", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	if n := len(e.app.got("/done")); n != 0 {
		t.Errorf("action requested for an empty recording")
	}
	if !dominant(voiced(h.all()), 900) {
		t.Error("the verb after an empty <Record> did not run")
	}
	cb := e.app.waitFor("/rec-status", 1, 3*time.Second)[0]
	if cb.Params.Get("RecordingStatus") != "absent" {
		t.Errorf("absent callback %v", cb.Params)
	}
	recs, _, _ := e.srv.Store().ListRecordings(context.Background(), store.RecordingFilter{AccountSID: testSID}, store.Page{Size: 5})
	if len(recs) != 1 || recs[0].Status != store.RecordingAbsent {
		t.Errorf("recording rows %+v", recs)
	}
}

// A recording in progress when the process died is repaired and finished at
// the next start.
func TestRestartRepairsRecordings(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	cfg := testConfig(data)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	srv, err := server.New(ctx, cfg, log, io.Discard, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rsid := sid.New("RE")
	rel := filepath.Join("recordings", testSID, rsid+".wav")
	if _, err := srv.Store().CreateRecording(ctx, store.Recording{
		SID: rsid, AccountSID: testSID, CallSID: sid.New("CA"), Source: store.SourceRecordVerb,
		Status: store.RecordingInProgress, Track: "inbound", StartTime: time.Now(), File: rel,
	}); err != nil {
		t.Fatal(err)
	}
	stopServer(srv)

	// The recorder wrote 3 s, its header last rewritten after 1 s: what a
	// crash leaves.
	rec, err := recording.Start(filepath.Join(data, rel))
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, media.FrameSamples)
	src := tone(500, 3*time.Second)
	for src.ReadFrame(frame) == nil {
		rec.WriteFrame(frame)
		time.Sleep(time.Millisecond)
	}
	time.Sleep(1200 * time.Millisecond)
	crashed, err := os.ReadFile(filepath.Join(data, rel))
	if err != nil {
		t.Fatal(err)
	}
	rec.Stop(false)
	// Cut the header's sizes back, as if the last Flush had not happened.
	if err := os.WriteFile(filepath.Join(data, rel), append(crashed[:44:44], crashed[44:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(filepath.Join(data, rel), os.O_RDWR, 0)
	f.WriteAt([]byte{0xf0, 0xff, 0xff, 0x7f}, 40) // a placeholder data size
	f.Close()

	srv, err = server.New(ctx, cfg, log, io.Discard, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer stopServer(srv)
	got, err := srv.Store().Recording(ctx, testSID, rsid)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.RecordingCompleted || got.Duration < 2900*time.Millisecond || got.Duration > 3100*time.Millisecond {
		t.Errorf("after restart: %+v, want completed, 3 s", got)
	}
	f, _ = os.Open(filepath.Join(data, rel))
	defer f.Close()
	if _, s, err := wav.ReadAll(f); err != nil || len(s) != 3*media.SampleRate {
		t.Errorf("repaired file: %d samples, %v", len(s), err)
	}
}

// A recordingStatusCallback that fails is retried in the background; the call
// goes on meanwhile.
func TestFailingRecordingCallbackIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response><Record action="/done" playBeep="false" maxLength="1" timeout="0" recordingStatusCallback="/broken"/></Response>`)
	e.app.twiml("/done", `<Response><Hangup/></Response>`)
	e.app.handle("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) })
	start := time.Now()
	res, _, err := e.call("support", softphone.Script{Play: tone(600, 3*time.Second), Duration: 10 * time.Second})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("the failing callback held the call up: %v", el)
	}
	if got := e.app.waitFor("/broken", 2, 5*time.Second); got[0].Params.Get("RecordingStatus") != "completed" ||
		got[1].Params.Get("RecordingSid") != got[0].Params.Get("RecordingSid") {
		t.Errorf("retries: %v / %v", got[0].Params, got[1].Params)
	}
}

// download GETs a media URL handed out by the server (its public URL is
// http://127.0.0.1, without the port) with the account's credentials.
func (e *env) download(u string) []byte {
	e.t.Helper()
	u = strings.Replace(u, "http://127.0.0.1/", "http://"+e.srv.HTTPAddr().String()+"/", 1)
	req, _ := http.NewRequest("GET", u, nil)
	req.SetBasicAuth(testSID, testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/x-wav" {
		e.t.Fatalf("GET %s: %d %s", u, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return body
}
