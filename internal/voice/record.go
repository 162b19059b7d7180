package voice

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/recording"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// beep is what <Record playBeep="true"> plays before recording: a 0.5 s
// 1 kHz tone at -12 dBFS.
var beep = dsp.ToneSamples([]float64{1000}, -12, 500*time.Millisecond)

// silencePoll is how often <Record> checks for its silence timeout.
const silencePoll = 100 * time.Millisecond

// recordingAttempts is how often a recording status callback is tried: it
// must not be lost, and never holds up the call (the outbox retries it).
const recordingAttempts = 4

// record runs a <Record> (https://www.twilio.com/docs/voice/twiml/record):
// a beep, then the caller's audio is written to disk until a key in
// finishOnKey, timeout seconds of silence, maxLength, or the caller hangs
// up. The action URL then gets RecordingUrl, RecordingDuration, RecordingSid
// and Digits ("hangup" when the caller hung up; the call ends whatever the
// action answers). A recording with nothing in it (after trim-silence) is
// "absent": no action request, and execution goes on with the next verb, as
// on Twilio.
func (r *run) record(ctx context.Context, v *twiml.Record) (*webhook.Response, *twiml.Response, error) {
	if err := r.answer(ctx); err != nil {
		return nil, nil, err
	}
	if v.Transcribe {
		r.notify(ctx, logWarning, errcode.RecordInvalidTranscribe, "Record: transcription is not available (no speech engine); recording without it", nil)
	}
	if v.PlayBeep {
		if err := r.playPCM(ctx, beep, 1); err != nil {
			return nil, nil, errHangup
		}
	}
	r.ear.flush()
	r.ear.collect(true)
	defer r.ear.collect(false)
	r.ear.listen()
	defer r.ear.unlisten()

	rsid := sid.New("RE")
	rel := filepath.Join("recordings", r.account.SID, rsid+".wav")
	start := r.in.cfg.Clock.Now().UTC()
	rec, err := recording.Start(filepath.Join(r.in.cfg.DataDir, rel))
	if err != nil {
		r.notify(ctx, logError, errcode.RecordLengthOutOfRange, "Record: cannot start recording: "+err.Error(), nil)
		return nil, nil, nil
	}
	row, err := r.in.cfg.Store.CreateRecording(context.WithoutCancel(ctx), store.Recording{
		SID: rsid, AccountSID: r.account.SID, CallSID: r.sid, Source: store.SourceRecordVerb,
		Status: store.RecordingInProgress, Channels: 1, Track: "inbound", StartTime: start, File: rel,
	})
	if err != nil {
		rec.Stop(false)
		os.Remove(filepath.Join(r.in.cfg.DataDir, rel))
		r.notify(ctx, logError, errcode.RecordLengthOutOfRange, "Record: cannot store the recording: "+err.Error(), nil)
		return nil, nil, nil
	}
	tap := &inTap{rec}
	r.leg.Media().AddTap(tap)
	r.recordingCallback(v, row, "in-progress")

	digits := r.waitRecording(ctx, v, rec)
	r.leg.Media().RemoveTap(tap)
	res, werr := rec.Stop(v.Trim != "do-not-trim")

	status, code := store.RecordingCompleted, 0
	switch {
	case werr != nil:
		status, code = store.RecordingFailed, errcode.RecordLengthOutOfRange
		r.notify(ctx, logError, code, "Record: "+werr.Error(), nil)
	case res.Samples == 0:
		status = store.RecordingAbsent
	}
	row, err = r.in.cfg.Store.UpdateRecording(context.WithoutCancel(ctx), row.AccountSID, row.SID, func(x *store.Recording) error {
		x.Status, x.Duration, x.ErrorCode = status, res.Duration(), code
		return nil
	})
	if err != nil {
		r.log.Error("cannot finish the recording record", "recording", rsid, "err", err)
	}
	event := "completed"
	if status != store.RecordingCompleted {
		event = "absent"
	}
	r.recordingCallback(v, row, event)

	if status != store.RecordingCompleted {
		if r.ended() || ctx.Err() != nil {
			return nil, nil, errHangup
		}
		return nil, nil, nil // nothing recorded: the next verb runs
	}
	if ctx.Err() != nil && !r.ended() {
		// A command interrupted the recording: it is kept, its status
		// callback sent, and no action is requested, as on Twilio.
		return nil, nil, errHangup
	}
	params := r.params()
	params.Set("RecordingUrl", r.recordingURL(row))
	params.Set("RecordingDuration", strconv.Itoa(durationSeconds(res.Duration())))
	params.Set("RecordingSid", row.SID)
	params.Set("Digits", digits)
	action := v.Action
	if action == "" {
		action = r.docURL
	}
	method := v.Method
	if method == "" {
		method = http.MethodPost
	}
	if r.ended() {
		// The caller hung up: the action is still told, and what it answers
		// is not run.
		r.fetchAfterHangup(ctx, action, method, params)
		return nil, nil, errHangup
	}
	return r.fetchNext(ctx, action, method, params)
}

// waitRecording waits for the end of a recording and returns the Digits
// parameter: the key that ended it, "hangup", or "" (silence, maxLength).
func (r *run) waitRecording(ctx context.Context, v *twiml.Record, rec *recording.Recorder) string {
	maxLen := r.in.cfg.Clock.NewTimer(secs(v.MaxLength))
	defer maxLen.Stop()
	poll := r.in.cfg.Clock.NewTicker(silencePoll)
	defer poll.Stop()
	timeout := secs(v.Timeout)
	for {
		select {
		case d := <-r.ear.digits:
			if strings.IndexByte(v.FinishOnKey, d) >= 0 {
				return string(d)
			}
		case <-maxLen.C():
			return ""
		case <-poll.C():
			if rec.Failed() {
				return ""
			}
			if timeout > 0 && rec.SilentFor() >= timeout {
				return ""
			}
		case <-ctx.Done(): // the call ended, or a command interrupted it
			return "hangup"
		}
	}
}

// fetchAfterHangup tells an action URL about a recording after the caller
// hung up; the answer is not run.
func (r *run) fetchAfterHangup(ctx context.Context, action, method string, params url.Values) {
	target, err := webhook.Resolve(r.docURL, action)
	if err != nil {
		r.notify(ctx, logError, errcode.InvalidURL, "invalid URL "+action+": "+err.Error(), nil)
		return
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if _, err := r.in.cfg.Webhooks.Fetch(fctx, r.request(target, method, params)); err != nil {
		if werr, ok := err.(*webhook.Error); ok {
			r.notify(ctx, logError, werr.Code, werr.Message(), werr)
		}
	}
}

// recordingURL is where the recording's media is served (without extension:
// .wav is the default, as on Twilio).
func (r *run) recordingURL(rec store.Recording) string {
	return r.in.cfg.PublicURL + "/2010-04-01/Accounts/" + rec.AccountSID + "/Recordings/" + rec.SID
}

// recordingCallback sends the recordingStatusCallback for event (in-progress,
// completed or absent) if the verb asked for it.
func (r *run) recordingCallback(v *twiml.Record, rec store.Recording, event string) {
	if v.RecordingStatusCallback == "" {
		return
	}
	target, err := webhook.Resolve(r.docURL, v.RecordingStatusCallback)
	if err != nil {
		return
	}
	r.sendRecordingCallback(target, v.RecordingStatusCallbackMethod, v.RecordingStatusCallbackEvent, rec, event)
}

// sendRecordingCallback enqueues a recording status callback for event if
// events (default: completed) includes it, retried on failure, never
// blocking the call.
func (r *run) sendRecordingCallback(target, method string, events []string, rec store.Recording, event string) {
	if target == "" {
		return
	}
	if len(events) == 0 {
		events = []string{"completed"}
	}
	if !slices.Contains(events, event) {
		return
	}
	p := url.Values{}
	p.Set("AccountSid", rec.AccountSID)
	p.Set("CallSid", rec.CallSID)
	p.Set("RecordingSid", rec.SID)
	p.Set("RecordingUrl", r.recordingURL(rec))
	p.Set("RecordingStatus", string(rec.Status))
	p.Set("RecordingDuration", strconv.Itoa(durationSeconds(rec.Duration)))
	p.Set("RecordingChannels", strconv.Itoa(rec.Channels))
	p.Set("RecordingStartTime", webhook.FormatTimestamp(rec.StartTime))
	p.Set("RecordingSource", rec.Source)
	p.Set("RecordingTrack", rec.Track)
	if rec.ErrorCode != 0 {
		p.Set("ErrorCode", strconv.Itoa(rec.ErrorCode))
	}
	if method == "" {
		method = http.MethodPost
	}
	r.queueCallback(context.Background(), rec.SID, "recording-"+event, store.Callback{
		URL: target, Method: method, Params: p.Encode(), MaxAttempts: recordingAttempts,
	})
}

// durationSeconds rounds a recording's length to whole seconds, as Twilio's
// RecordingDuration gives it.
func durationSeconds(d time.Duration) int {
	return int(d.Round(time.Second) / time.Second)
}
