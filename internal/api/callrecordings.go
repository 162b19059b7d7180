package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/voice"
)

// The Call Recording resource
// (https://www.twilio.com/docs/voice/api/recording#create-a-recording):
// recordings of one call, and recording a call while it lasts.
//
//	POST   .../Calls/{CallSid}/Recordings.json         start recording (201)
//	GET    .../Calls/{CallSid}/Recordings.json         the call's recordings
//	GET    .../Calls/{CallSid}/Recordings/{Sid}.json   one of them
//	POST   .../Calls/{CallSid}/Recordings/{Sid}.json   Status=paused|in-progress|stopped
//	DELETE .../Calls/{CallSid}/Recordings/{Sid}.json   as DELETE .../Recordings/{Sid}.json

// LiveCalls is what the API needs of the calls in progress: place one, steer
// one (Calls/{Sid}.json), start a recording of one, and pause, resume or stop
// it.
// *voice.Interpreter implements it. Its errors are voice's sentinels
// (ErrCallNotFound, ErrCallNotAnswered, ErrRecordingNotFound,
// ErrRecordingState); anything else is a failure of switchboard.
type LiveCalls interface {
	// Place records an outbound call as queued and places it.
	Place(ctx context.Context, c voice.Call) (store.Call, error)
	// Update steers a live call (voice.ErrCallNotFound when it is not live
	// here, voice.ErrBusy when too many commands wait).
	Update(ctx context.Context, accountSID, callSID string, u voice.Update) error
	// WaitRecorded waits for the first record of a live call whose record
	// is still being saved, and reports whether there was one.
	WaitRecorded(ctx context.Context, callSID string) bool
	StartCallRecording(ctx context.Context, accountSID, callSID string, o voice.CallRecordingOptions) (store.Recording, error)
	UpdateCallRecording(ctx context.Context, accountSID, callSID, recordingSID string, status store.RecordingStatus) (store.Recording, error)
}

var _ LiveCalls = (*voice.Interpreter)(nil)

// LiveConferences is what the API needs of the conferences in progress: end
// one or announce into it, change or remove one of its participants, and add
// one (dial someone into a room, creating it when it does not exist).
// *voice.Interpreter implements it. Its errors are voice's sentinels
// (ErrConferenceNotFound, ErrParticipantNotFound, ErrBusy, ErrClosed);
// anything else is a failure of switchboard.
type LiveConferences interface {
	// UpdateConference changes or ends a live conference.
	UpdateConference(ctx context.Context, accountSID, conferenceSID string, u voice.ConferenceUpdate) error
	// UpdateParticipant changes a participant of a live conference, found
	// by call SID or label, and returns its record as it now stands.
	UpdateParticipant(ctx context.Context, accountSID, conferenceSID, callSIDOrLabel string, u voice.ParticipantUpdate) (store.Participant, error)
	// RemoveParticipant takes a participant out of a live conference.
	RemoveParticipant(ctx context.Context, accountSID, conferenceSID, callSIDOrLabel string) error
	// AddParticipant dials p.To into the conference of this SID or
	// friendly name, creating the room when there is none by that name.
	AddParticipant(ctx context.Context, account store.Account, conference string, p voice.NewParticipant) (store.Participant, error)
	// UpdateConferenceRecording pauses, resumes or stops the recording of a
	// live conference.
	UpdateConferenceRecording(ctx context.Context, accountSID, conferenceSID, recordingSID string, status store.RecordingStatus) (store.Recording, error)
	// StartConferenceRecording starts recording a live conference.
	StartConferenceRecording(ctx context.Context, accountSID, conferenceSID string) (store.Recording, error)
}

var _ LiveConferences = (*voice.Interpreter)(nil)

// currentRecording is the recording SID that names "the call's active
// recording" (Twilio.CURRENT), when the call has exactly one.
const currentRecording = "Twilio.CURRENT"

// callRecordingJSON is Twilio's Call Recording resource
// (api.v2010.account.call.call_recording in the OpenAPI spec), every field in
// the spec's order. Unlike the account's Recording it has track and no
// subresource_uris or media_url; its uri is under the call.
type callRecordingJSON struct {
	AccountSID        string  `json:"account_sid"`
	APIVersion        string  `json:"api_version"`
	CallSID           string  `json:"call_sid"`
	ConferenceSID     *string `json:"conference_sid"`
	DateCreated       string  `json:"date_created"`
	DateUpdated       string  `json:"date_updated"`
	StartTime         *string `json:"start_time"`
	Duration          *string `json:"duration"`
	SID               string  `json:"sid"`
	Price             *string `json:"price"`
	URI               string  `json:"uri"`
	EncryptionDetails any     `json:"encryption_details"`
	PriceUnit         string  `json:"price_unit"`
	Status            string  `json:"status"`
	Channels          int     `json:"channels"`
	Source            string  `json:"source"`
	ErrorCode         *int    `json:"error_code"`
	Track             string  `json:"track"`
}

func callRecordingURI(rec store.Recording) string {
	return callsPath(rec.AccountSID) + "/" + rec.CallSID + "/Recordings/" + rec.SID + ".json"
}

func toCallRecordingJSON(rec store.Recording) callRecordingJSON {
	track := rec.Track
	if track == "" {
		track = "inbound"
	}
	return callRecordingJSON{
		AccountSID:    rec.AccountSID,
		APIVersion:    APIVersion,
		CallSID:       rec.CallSID,
		ConferenceSID: nullIfEmpty(rec.ConferenceSID),
		DateCreated:   formatTime(rec.DateCreated),
		DateUpdated:   formatTime(rec.DateUpdated),
		StartTime:     optTime(rec.StartTime),
		Duration:      recordingDuration(rec),
		SID:           rec.SID,
		URI:           callRecordingURI(rec),
		PriceUnit:     "USD",
		Status:        string(rec.Status),
		Channels:      recordingChannels(rec),
		Source:        rec.Source,
		ErrorCode:     recordingErrorCode(rec),
		Track:         track,
	}
}

// recordingEvents are the values of RecordingStatusCallbackEvent. "failed"
// appears in Twilio's examples; it is accepted, and a recording that fails
// is reported with the "absent" event (RecordingStatus=failed).
var recordingEvents = map[string]bool{"in-progress": true, "completed": true, "absent": true, "failed": true}

// parseCallRecordingOptions reads the parameters of POST
// .../Calls/{CallSid}/Recordings.json. Every parameter of Twilio's is
// accepted; what switchboard cannot do is accepted and done its way, so that
// apps written for Twilio run unchanged:
//
//   - RecordingChannels=dual records the call on the first channel and
//     what it hears on the second (RecordingTrack then does not apply).
//   - RecordingTrack: both (the default) mixes the caller with what the
//     call plays to them; inbound and outbound record one side.
//   - RecordingConfigurationId, PlayBeep, Transcribe are ignored.
//
// RecordingStatusCallbackEvent may be repeated or hold several events
// separated by spaces (or commas), as Twilio's examples send it.
func parseCallRecordingOptions(form map[string][]string) (voice.CallRecordingOptions, error) {
	var o voice.CallRecordingOptions
	get := func(name string) string {
		if v := form[name]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	if v := get("RecordingStatusCallback"); v != "" {
		if !validURL(v) {
			return o, badRequest(CodeInvalidCallbackURL, "RecordingStatusCallback is not a valid URL: %s (want an absolute http or https URL)", v)
		}
		o.StatusCallback = v
	}
	o.StatusCallbackMethod = http.MethodPost
	if v := get("RecordingStatusCallbackMethod"); v != "" {
		m, ok := normalizeMethod(v)
		if !ok {
			return o, badRequest(CodeInvalidParameter, "RecordingStatusCallbackMethod must be GET or POST, not %q", v)
		}
		o.StatusCallbackMethod = m
	}
	for _, item := range form["RecordingStatusCallbackEvent"] {
		for _, ev := range strings.FieldsFunc(item, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
			ev = strings.ToLower(ev)
			if !recordingEvents[ev] {
				return o, badRequest(CodeInvalidParameter, "RecordingStatusCallbackEvent must be in-progress, completed or absent, not %q", ev)
			}
			if ev == "failed" {
				ev = "absent"
			}
			if !slices.Contains(o.StatusCallbackEvent, ev) {
				o.StatusCallbackEvent = append(o.StatusCallbackEvent, ev)
			}
		}
	}
	o.Trim = "do-not-trim" // Twilio's default for REST-started recordings
	if v := get("Trim"); v != "" {
		if v != "trim-silence" && v != "do-not-trim" {
			return o, badRequest(CodeInvalidParameter, "Trim must be trim-silence or do-not-trim, not %q", v)
		}
		o.Trim = v
	}
	switch v := get("RecordingChannels"); v {
	case "", "mono":
	case "dual":
		o.Channels = 2
	default:
		return o, badRequest(CodeInvalidParameter, "RecordingChannels must be mono or dual, not %q", v)
	}
	if v := get("RecordingTrack"); v != "" && v != "inbound" && v != "outbound" && v != "both" {
		return o, badRequest(CodeInvalidParameter, "RecordingTrack must be inbound, outbound or both, not %q", v)
	}
	o.Track = get("RecordingTrack")
	return o, nil
}

// errCallNotLive is Twilio's 21220 for a recording request on a call that
// is not in progress (queued, ringing, or over).
func errCallNotLive(c store.Call) *Error {
	if c.Status == store.CallInProgress {
		return badRequest(CodeInvalidCallState, "Invalid call state: call %s is not in progress on this server; only a call in progress can be recorded", c.SID)
	}
	return badRequest(CodeInvalidCallState, "Invalid call state: call %s is %s; only a call in progress can be recorded", c.SID, c.Status)
}

// liveError maps the errors of LiveCalls to the REST answer.
func (s *server) liveError(r *request, c store.Call, rsid string, err error) error {
	switch {
	case errors.Is(err, voice.ErrCallNotFound), errors.Is(err, voice.ErrCallNotAnswered):
		return errCallNotLive(c)
	case errors.Is(err, voice.ErrRecordingNotFound):
		return &Error{
			Status:  http.StatusNotFound,
			Code:    CodeNotFound,
			Message: fmt.Sprintf("The requested resource %s was not found: recording %s is not a running recording of call %s started through this API", r.URL.Path, rsid, c.SID),
		}
	case errors.Is(err, voice.ErrRecordingState):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: fmt.Sprintf("Recording %s cannot change to that status from its current one", rsid)}
	}
	return s.internal(r, err)
}

// createCallRecording serves POST .../Calls/{CallSid}/Recordings.json: it
// starts recording a call in progress (source StartCallRecordingAPI) and
// answers 201 with the Call Recording, status in-progress. A call of another
// account, or none, gets 20404; a call that is not in progress (not yet
// answered, or over) gets 400 with 21220.
func (s *server) createCallRecording(r *request) error {
	c, err := s.findCall(r, r.PathValue("CallSid"))
	if err != nil {
		return err
	}
	o, err := parseCallRecordingOptions(r.PostForm)
	if err != nil {
		return err
	}
	if c.Status.Final() || s.live == nil {
		return errCallNotLive(c)
	}
	rec, err := s.live.StartCallRecording(r.ctx(), r.acct.SID, c.SID, o)
	if err != nil {
		return s.liveError(r, c, "", err)
	}
	s.writeJSON(r, http.StatusCreated, toCallRecordingJSON(rec))
	return nil
}

// fetchCallRecording serves GET .../Calls/{CallSid}/Recordings/{Sid}.json.
func (s *server) fetchCallRecording(r *request) error {
	c, err := s.findCall(r, r.PathValue("CallSid"))
	if err != nil {
		return err
	}
	rec, err := s.findRecording(r, instanceSID(r), c.SID)
	if err != nil {
		return err
	}
	s.writeJSON(r, http.StatusOK, toCallRecordingJSON(rec))
	return nil
}

// updateCallRecording serves POST .../Calls/{CallSid}/Recordings/{Sid}.json:
// Status=paused stops writing the call's audio to the file, in-progress
// resumes, stopped finishes the recording (its status is then completed, or
// absent when nothing was recorded, and the callback is sent). The Sid may be
// Twilio.CURRENT, the call's one active REST-started recording.
//
// PauseBehavior is accepted; both skip and silence (Twilio's default) leave
// the paused time out of the file: the recording holds only what was said
// while it ran. Stopping a recording that is already final answers it as it
// is (stopping is idempotent); pausing or resuming one gets 409 with 20409.
func (s *server) updateCallRecording(r *request) error {
	c, err := s.findCall(r, r.PathValue("CallSid"))
	if err != nil {
		return err
	}
	var status store.RecordingStatus
	switch v := r.PostForm.Get("Status"); v {
	case "paused", "in-progress", "stopped":
		status = store.RecordingStatus(v)
	case "":
		return badRequest(CodeInvalidParameter, "Status is required: paused, in-progress or stopped")
	default:
		return badRequest(CodeInvalidParameter, "Status must be paused, in-progress or stopped, not %q", v)
	}
	switch v := r.PostForm.Get("PauseBehavior"); v {
	case "", "skip", "silence":
	default:
		return badRequest(CodeInvalidParameter, "PauseBehavior must be skip or silence, not %q", v)
	}
	rsid := instanceSID(r)
	var rec store.Recording
	if rsid == currentRecording {
		if rec, err = s.currentCallRecording(r, c); err != nil {
			return err
		}
	} else if rec, err = s.findRecording(r, rsid, c.SID); err != nil {
		return err
	}
	if rec.Status.Final() {
		if status == store.RecordingStopped {
			s.writeJSON(r, http.StatusOK, toCallRecordingJSON(rec))
			return nil
		}
		return &Error{
			Status:  http.StatusConflict,
			Code:    CodeConflict,
			Message: fmt.Sprintf("Recording %s is %s: only an active recording can be paused or resumed", rec.SID, rec.Status),
		}
	}
	if c.Status.Final() || s.live == nil {
		return errCallNotLive(c)
	}
	rec, err = s.live.UpdateCallRecording(r.ctx(), r.acct.SID, c.SID, rec.SID, status)
	if err != nil {
		return s.liveError(r, c, rsid, err)
	}
	s.writeJSON(r, http.StatusOK, toCallRecordingJSON(rec))
	return nil
}

// maxActiveScan bounds how many of a call's recordings Twilio.CURRENT looks
// through (newest first).
const maxActiveScan = 100

// currentCallRecording resolves Twilio.CURRENT: the call's one active
// (in-progress or paused) recording started through this API. None gets
// 20404; more than one gets 409 with 20409, as Twilio refuses Twilio.CURRENT
// on a call with several recordings (name one by its SID).
func (s *server) currentCallRecording(r *request, c store.Call) (store.Recording, error) {
	recs, _, err := s.st.ListRecordings(r.ctx(), store.RecordingFilter{AccountSID: r.acct.SID, CallSID: c.SID},
		store.Page{Size: maxActiveScan, Desc: true})
	if err != nil {
		return store.Recording{}, s.internal(r, err)
	}
	var active []store.Recording
	for _, rec := range recs {
		if rec.Source == store.SourceStartCallRecording && !rec.Status.Final() {
			active = append(active, rec)
		}
	}
	switch len(active) {
	case 0:
		return store.Recording{}, &Error{
			Status:  http.StatusNotFound,
			Code:    CodeNotFound,
			Message: fmt.Sprintf("The requested resource %s was not found: call %s has no active recording", r.URL.Path, c.SID),
		}
	case 1:
		return active[0], nil
	}
	return store.Recording{}, &Error{
		Status:  http.StatusConflict,
		Code:    CodeConflict,
		Message: fmt.Sprintf("Twilio.CURRENT is ambiguous: call %s has %d active recordings; name one by its SID", c.SID, len(active)),
	}
}
