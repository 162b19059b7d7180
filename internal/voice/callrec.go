package voice

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/recording"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// Errors of the live-call operations the REST API calls.
var (
	// ErrCallNotFound: no call with that SID is running on this node.
	ErrCallNotFound = errors.New("voice: call not in progress here")
	// ErrCallNotAnswered: the call has not been answered yet.
	ErrCallNotAnswered = errors.New("voice: call not answered")
	// ErrRecordingNotFound: no such recording of that call is running.
	ErrRecordingNotFound = errors.New("voice: recording not running")
	// ErrRecordingState: the status change is not possible from the
	// recording's status.
	ErrRecordingState = errors.New("voice: invalid recording status change")
)

// CallRecordingOptions are the parameters of a recording started by the REST
// API on a live call (POST .../Calls/{CallSid}/Recordings.json).
type CallRecordingOptions struct {
	StatusCallback       string
	StatusCallbackMethod string
	// StatusCallbackEvent lists the events to report: in-progress,
	// completed, absent (default completed).
	StatusCallbackEvent []string
	// Trim is trim-silence or do-not-trim (the default for the API).
	Trim string
	// Track is what is recorded, mixed in one mono channel: both (the
	// default: the caller and what the call plays to them), inbound (the
	// caller) or outbound (what the call plays).
	Track string
	// Channels is 1 (the tracks mixed) or 2 (dual: the far end on the first
	// channel, what it hears on the second).
	Channels int
}

// callRecording is one REST-started recording of a live call: the tracks
// asked for, mixed to mono.
type callRecording struct {
	rec  *recording.Recorder
	tap  media.Tap
	row  store.Recording
	opts CallRecordingOptions
}

// liveRun finds the running call.
func (in *Interpreter) liveRun(accountSID, callSID string) (*run, error) {
	in.mu.Lock()
	r := in.live[callSID]
	in.mu.Unlock()
	if r == nil || r.account.SID != accountSID {
		return nil, ErrCallNotFound
	}
	return r, nil
}

// StartCallRecording starts recording a call in progress, as Twilio's Call
// Recording resource does.
func (in *Interpreter) StartCallRecording(ctx context.Context, accountSID, callSID string, o CallRecordingOptions) (store.Recording, error) {
	r, err := in.liveRun(accountSID, callSID)
	if err != nil {
		return store.Recording{}, err
	}
	cr, err := r.startCallRecording(ctx, o, store.SourceStartCallRecording)
	if err != nil {
		return store.Recording{}, err
	}
	return cr.row, nil
}

// startCallRecording starts recording the call's audio from now on, both
// ways or one, through a tap on its media (so it holds what the leg really
// heard, whoever plays to it). Any goroutine may call it.
func (r *run) startCallRecording(ctx context.Context, o CallRecordingOptions, source string) (*callRecording, error) {
	in := r.in
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.media == nil {
		return nil, ErrCallNotAnswered
	}
	track := o.Track
	switch track {
	case "inbound", "outbound":
	default:
		track = "both"
	}
	rsid := sid.New("RE")
	rel := filepath.Join("recordings", r.account.SID, rsid+".wav")
	start, channels := recording.Start, 1
	if o.Channels == 2 {
		start, channels = recording.StartStereo, 2
	}
	rec, err := start(filepath.Join(in.cfg.DataDir, rel))
	if err != nil {
		return nil, fmt.Errorf("start call recording: %w", err)
	}
	row, err := in.cfg.Store.CreateRecording(ctx, store.Recording{
		SID: rsid, AccountSID: r.account.SID, CallSID: r.sid, Source: source,
		Status: store.RecordingInProgress, Channels: channels, Track: track,
		StartTime: in.cfg.Clock.Now().UTC(), File: rel,
	})
	if err != nil {
		rec.Stop(false)
		os.Remove(filepath.Join(in.cfg.DataDir, rel))
		return nil, fmt.Errorf("start call recording: %w", err)
	}
	var tap media.Tap = &mixTap{rec: rec, in: track != "outbound", out: track != "inbound"}
	if channels == 2 {
		tap = &stereoTap{rec: rec}
	}
	cr := &callRecording{rec: rec, tap: tap, row: row, opts: o}
	if r.callRecs == nil {
		r.callRecs = map[string]*callRecording{}
	}
	r.callRecs[rsid] = cr
	r.media.AddTap(cr.tap)
	r.callRecordingCallback(cr, "in-progress")
	return cr, nil
}

// UpdateCallRecording pauses (paused), resumes (in-progress) or stops
// (stopped) a REST-started recording of a live call.
func (in *Interpreter) UpdateCallRecording(ctx context.Context, accountSID, callSID, recordingSID string, status store.RecordingStatus) (store.Recording, error) {
	r, err := in.liveRun(accountSID, callSID)
	if err != nil {
		return store.Recording{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cr := r.callRecs[recordingSID]
	if cr == nil || r.media == nil {
		return store.Recording{}, ErrRecordingNotFound
	}
	switch {
	case status == store.RecordingStopped:
		return r.stopCallRecording(ctx, cr), nil
	case status == store.RecordingPaused && cr.row.Status == store.RecordingInProgress:
		r.media.RemoveTap(cr.tap)
	case status == store.RecordingInProgress && cr.row.Status == store.RecordingPaused:
		r.media.AddTap(cr.tap)
	case status == cr.row.Status:
		return cr.row, nil
	default:
		return cr.row, ErrRecordingState
	}
	row, err := in.cfg.Store.UpdateRecording(ctx, accountSID, recordingSID, func(x *store.Recording) error {
		x.Status = status
		return nil
	})
	if err != nil {
		return cr.row, fmt.Errorf("update call recording: %w", err)
	}
	cr.row = row
	return row, nil
}

// stopCallRecording finishes a call recording; r.mu is held.
func (r *run) stopCallRecording(ctx context.Context, cr *callRecording) store.Recording {
	if r.media != nil {
		r.media.RemoveTap(cr.tap)
	}
	delete(r.callRecs, cr.row.SID)
	res, werr := cr.rec.Stop(cr.opts.Trim == "trim-silence")
	status, code := store.RecordingCompleted, 0
	switch {
	case werr != nil:
		status, code = store.RecordingFailed, errcode.RecordLengthOutOfRange
		r.log.Error("call recording failed", "recording", cr.row.SID, "err", werr)
	case res.Samples == 0:
		status = store.RecordingAbsent
	}
	row, err := r.in.cfg.Store.UpdateRecording(context.WithoutCancel(ctx), cr.row.AccountSID, cr.row.SID, func(x *store.Recording) error {
		x.Status, x.Duration, x.ErrorCode = status, res.Duration(), code
		return nil
	})
	if err != nil {
		r.log.Error("cannot finish the call recording record", "recording", cr.row.SID, "err", err)
		row = cr.row
		row.Status, row.Duration, row.ErrorCode = status, res.Duration(), code
	}
	cr.row = row
	event := "completed"
	if status != store.RecordingCompleted {
		event = "absent"
	}
	r.callRecordingCallback(cr, event)
	return row
}

// stopCallRecordings finishes every call recording when the call ends (its
// taps are gone with its media).
func (r *run) stopCallRecordings(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cr := range r.callRecs {
		r.stopCallRecording(ctx, cr)
	}
}

// callRecordingCallback reports a call recording event if it was asked for.
func (r *run) callRecordingCallback(cr *callRecording, event string) {
	o := cr.opts
	r.sendRecordingCallback(o.StatusCallback, o.StatusCallbackMethod, o.StatusCallbackEvent, cr.row, event)
}
