package voice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/switchboard-voice/switchboard/internal/conference"
	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/recording"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// roomRecording is a conference's recording (record="record-from-start"):
// the room's mix as everyone hears it, through an endpoint of its own that
// hears and never talks, so wait and hold music (played on the legs, not
// mixed) are never in it.
type roomRecording struct {
	rec *recording.Recorder
	tap *roomTap
	row store.Recording
}

// roomTap is what the pacer records: the recording's endpoint, and where
// its frames go.
type roomTap struct {
	ep  *conference.Endpoint
	rec *recording.Recorder
}

// startRecording starts recording the room's mix (on its goroutine, when
// the conference starts: "when the first two participants are bridged").
func (r *room) startRecording(now time.Time) {
	if r.recording != nil {
		return
	}
	rsid := sid.New("RE")
	rel := filepath.Join("recordings", r.account.SID, rsid+".wav")
	rec, err := recording.Start(filepath.Join(r.in.cfg.DataDir, rel))
	if err != nil {
		r.log.Error("cannot record the conference", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	row, err := r.in.cfg.Store.CreateRecording(ctx, store.Recording{
		SID: rsid, AccountSID: r.account.SID, ConferenceSID: r.sid, Source: store.SourceConference,
		Status: store.RecordingInProgress, Channels: 1, Track: "both", StartTime: now, File: rel,
	})
	if err != nil {
		rec.Stop(false)
		os.Remove(filepath.Join(r.in.cfg.DataDir, rel))
		r.log.Error("cannot record the conference", "err", err)
		return
	}
	ep := r.mixer.Add("~rec")
	ep.Set(conference.Flags{Hears: true})
	r.recording = &roomRecording{rec: rec, row: row, tap: &roomTap{ep: ep, rec: rec}}
	r.recTap.Store(r.recording.tap)
	r.recordingCallback("in-progress")
}

// stopRecording finishes the room's recording (the conference ended, or
// the REST API stopped it). A frame the pacer is writing meanwhile is
// refused by the stopped recorder.
func (r *room) stopRecording() {
	cr := r.recording
	if cr == nil {
		return
	}
	r.recTap.Store(nil)
	r.mixer.Remove(cr.tap.ep)
	res, werr := cr.rec.Stop(r.rec.Settings.Trim != "do-not-trim")
	status, code := store.RecordingCompleted, 0
	switch {
	case werr != nil:
		status, code = store.RecordingFailed, errcode.RecordLengthOutOfRange
	case res.Samples == 0:
		status = store.RecordingAbsent
	}
	row, err := r.setRecording(func(x *store.Recording) {
		x.Status, x.Duration, x.ErrorCode = status, res.Duration(), code
	})
	if err != nil {
		row.Status, row.Duration = status, res.Duration()
	}
	cr.row = row
	event := "completed"
	if status != store.RecordingCompleted {
		event = "absent"
	}
	r.recordingCallback(event)
	r.recording = nil
}

// setRecording updates the record of the room's recording.
func (r *room) setRecording(f func(*store.Recording)) (store.Recording, error) {
	cr := r.recording
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	row, err := r.in.cfg.Store.UpdateRecording(ctx, cr.row.AccountSID, cr.row.SID, func(x *store.Recording) error {
		f(x)
		return nil
	})
	if err != nil {
		r.log.Error("cannot update the conference recording", "err", err)
		return cr.row, err
	}
	cr.row = row
	return row, nil
}

// ErrRecordingNotRunning: the conference has no recording of that SID
// running (or one is running already, for StartConferenceRecording).
var ErrRecordingNotRunning = errors.New("voice: conference recording not running")

// UpdateConferenceRecording pauses (paused: nothing is written meanwhile),
// resumes (in-progress) or stops (stopped) a live conference's recording.
func (in *Interpreter) UpdateConferenceRecording(ctx context.Context, accountSID, conferenceSID, recordingSID string, status store.RecordingStatus) (store.Recording, error) {
	r := in.liveRoom(accountSID, conferenceSID)
	if r == nil {
		return store.Recording{}, ErrConferenceNotFound
	}
	rep := r.call(ctx, func() roomReply {
		cr := r.recording
		if cr == nil || cr.row.SID != recordingSID {
			return roomReply{err: ErrRecordingNotRunning}
		}
		switch {
		case status == store.RecordingStopped:
			r.stopRecording()
			return roomReply{rec: cr.row}
		case status == store.RecordingPaused && cr.row.Status == store.RecordingInProgress:
			r.recTap.Store(nil)
		case status == store.RecordingInProgress && cr.row.Status == store.RecordingPaused:
			r.recTap.Store(cr.tap)
		case status == cr.row.Status:
			return roomReply{rec: cr.row}
		default:
			return roomReply{rec: cr.row, err: ErrRecordingState}
		}
		row, err := r.setRecording(func(x *store.Recording) { x.Status = status })
		return roomReply{rec: row, err: err}
	})
	if errors.Is(rep.err, errRoomEnded) {
		return store.Recording{}, ErrConferenceNotFound
	}
	return rep.rec, rep.err
}

// StartConferenceRecording starts recording a live conference's mix from
// now on (beyond Twilio, which records only from the start).
func (in *Interpreter) StartConferenceRecording(ctx context.Context, accountSID, conferenceSID string) (store.Recording, error) {
	r := in.liveRoom(accountSID, conferenceSID)
	if r == nil {
		return store.Recording{}, ErrConferenceNotFound
	}
	rep := r.call(ctx, func() roomReply {
		if r.recording != nil {
			return roomReply{err: fmt.Errorf("%w: one is running already", ErrRecordingState)}
		}
		r.startRecording(in.cfg.Clock.Now().UTC())
		if r.recording == nil {
			return roomReply{err: errors.New("voice: cannot record the conference")}
		}
		return roomReply{rec: r.recording.row}
	})
	if errors.Is(rep.err, errRoomEnded) {
		return store.Recording{}, ErrConferenceNotFound
	}
	return rep.rec, rep.err
}

// recordingCallback queues the room's recordingStatusCallback for event, if
// asked for, with seed 000's parameters; and, when the recording has ended,
// the deprecated eventCallbackUrl's conference-record-end.
func (r *room) recordingCallback(event string) {
	s, rec := r.rec.Settings, r.recording.row
	events := s.RecordingStatusCallbackEvents
	if len(events) == 0 {
		events = []string{"completed"}
	}
	p := url.Values{}
	p.Set("AccountSid", rec.AccountSID)
	p.Set("ConferenceSid", r.sid)
	p.Set("RecordingSid", rec.SID)
	p.Set("RecordingUrl", r.in.cfg.PublicURL+"/2010-04-01/Accounts/"+rec.AccountSID+"/Recordings/"+rec.SID)
	p.Set("RecordingStatus", string(rec.Status))
	p.Set("RecordingDuration", strconv.Itoa(durationSeconds(rec.Duration)))
	p.Set("RecordingChannels", "1")
	p.Set("RecordingStartTime", webhook.FormatTimestamp(rec.StartTime))
	p.Set("RecordingSource", store.SourceConference)
	now := r.in.cfg.Clock.Now().UTC()
	var cbs []store.Callback
	if s.RecordingStatusCallback != "" && slices.Contains(events, event) {
		cbs = append(cbs, store.Callback{
			AccountSID: r.account.SID, CallSID: r.sid, URL: s.RecordingStatusCallback, Method: methodOr(s.RecordingStatusCallbackMethod),
			Params: p.Encode(), MaxAttempts: recordingAttempts, DateCreated: now,
		})
	}
	if s.EventCallbackURL != "" && event != "in-progress" {
		e := url.Values{}
		for k, v := range p {
			e[k] = v
		}
		e.Set("FriendlyName", r.key.name)
		e.Set("StatusCallbackEvent", "conference-record-end")
		e.Set("Timestamp", now.Format(conference.TimestampLayout))
		cbs = append(cbs, store.Callback{
			AccountSID: r.account.SID, CallSID: r.sid, URL: s.EventCallbackURL, Method: http.MethodPost,
			Params: e.Encode(), MaxAttempts: recordingAttempts, DateCreated: now,
		})
	}
	if len(cbs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if _, err := r.in.cfg.Store.AppendEvent(ctx, store.Event{
		AccountSID: r.account.SID, ResourceSID: rec.SID, Type: store.EventCallback, Name: "recording-" + event, Time: now,
	}, cbs); err != nil {
		r.log.Error("cannot queue the recording callback", "err", err)
		return
	}
	if r.in.cfg.Kick != nil {
		r.in.cfg.Kick()
	}
}
