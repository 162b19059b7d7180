package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/voice"
)

// The Conference resource
// (https://www.twilio.com/docs/voice/api/conference-resource): the rooms of
// <Dial><Conference> and of the Participants API, from their creation to
// their end, as the store keeps them; and their recordings.
//
//	GET    .../Conferences.json                          list, newest first
//	GET    .../Conferences/{Sid}.json                    one conference
//	POST   .../Conferences/{Sid}.json                    Status=completed, AnnounceUrl
//	GET    .../Conferences/{Sid}/Recordings.json         its recordings, newest first
//	GET    .../Conferences/{Sid}/Recordings/{Sid}.json   one of them
//	DELETE .../Conferences/{Sid}/Recordings/{Sid}.json   as DELETE .../Recordings/{Sid}.json
//
// The participants are in participants.go; LiveConferences, the
// interpreter's side, is next to LiveCalls in callrecordings.go.

// maxConferenceName is Twilio's limit on a conference's friendly_name.
const maxConferenceName = 128

// conferenceJSON is Twilio's Conference resource (api.v2010.account.conference
// in the OpenAPI spec), every field in the spec's order. region is null until
// a region is known; reason_conference_ended and call_sid_ending_conference
// are null until the conference ends (and the latter when no participant
// ended it).
type conferenceJSON struct {
	AccountSID              string            `json:"account_sid"`
	DateCreated             string            `json:"date_created"`
	DateUpdated             string            `json:"date_updated"`
	APIVersion              string            `json:"api_version"`
	FriendlyName            string            `json:"friendly_name"`
	Region                  *string           `json:"region"`
	SID                     string            `json:"sid"`
	Status                  string            `json:"status"`
	URI                     string            `json:"uri"`
	SubresourceURIs         map[string]string `json:"subresource_uris"`
	ReasonConferenceEnded   *string           `json:"reason_conference_ended"`
	CallSIDEndingConference *string           `json:"call_sid_ending_conference"`
}

func conferencesPath(accountSID string) string {
	return prefix + "/Accounts/" + accountSID + "/Conferences"
}

func toConferenceJSON(c store.Conference) conferenceJSON {
	base := conferencesPath(c.AccountSID) + "/" + c.SID
	version := c.APIVersion
	if version == "" {
		version = APIVersion
	}
	var reason *string
	if c.Status == store.ConferenceCompleted {
		reason = nullIfEmpty(c.ReasonConferenceEnded)
	}
	return conferenceJSON{
		AccountSID:   c.AccountSID,
		DateCreated:  formatTime(c.DateCreated),
		DateUpdated:  formatTime(c.DateUpdated),
		APIVersion:   version,
		FriendlyName: c.FriendlyName,
		Region:       nullIfEmpty(c.Region),
		SID:          c.SID,
		Status:       string(c.Status),
		URI:          base + ".json",
		SubresourceURIs: map[string]string{
			"participants": base + "/Participants.json",
			"recordings":   base + "/Recordings.json",
		},
		ReasonConferenceEnded:   reason,
		CallSIDEndingConference: nullIfEmpty(c.CallSIDEndingConference),
	}
}

// conferenceFilters are the Conferences list's filters, in the order page
// URIs repeat them (the order twilio-go sends them).
var conferenceFilters = []string{
	"DateCreated", "DateCreated<", "DateCreated>",
	"DateUpdated", "DateUpdated<", "DateUpdated>",
	"FriendlyName", "Status",
}

// parseConferenceFilter turns the list request's filters into a store
// filter; ok is false when the dates cannot select anything.
func parseConferenceFilter(accountSID string, lr listRequest) (f store.ConferenceFilter, ok bool, err error) {
	f.AccountSID = accountSID
	var created, updated dateRange
	for _, kv := range lr.filters {
		name, v := kv[0], kv[1]
		switch name {
		case "FriendlyName":
			f.FriendlyName = v
		case "Status":
			st := store.ConferenceStatus(strings.ToLower(v))
			if !st.Valid() {
				return f, false, badRequest(CodeInvalidParameter, "Status must be one of init, in-progress, completed, not %q", v)
			}
			f.Status = st
		default: // DateCreated*, DateUpdated*
			r, field := &created, "DateCreated"
			if strings.HasPrefix(name, "DateUpdated") {
				r, field = &updated, "DateUpdated"
			}
			op := dateOn
			if len(name) > len(field) {
				op = dateOp(name[len(field)])
			}
			if !r.apply(op, v) {
				return f, false, badRequest(CodeInvalidParameter, "%s must be a date (YYYY-MM-DD) or an RFC 3339 date-time, not %q", name, v)
			}
		}
	}
	var empty1, empty2 bool
	f.DateCreatedAfter, f.DateCreatedBefore, empty1 = created.bounds()
	f.DateUpdatedAfter, f.DateUpdatedBefore, empty2 = updated.bounds()
	return f, !empty1 && !empty2, nil
}

// listConferences serves GET .../Conferences.json: the account's
// conferences, newest first (date_created descending, as Twilio sorts them),
// filtered by FriendlyName, Status, DateCreated and DateUpdated (each date
// also with "<" and ">", see datefilter.go).
func (s *server) listConferences(r *request) error {
	lr, err := parseList(r, sid.Conference, conferenceFilters...)
	if err != nil {
		return err
	}
	lr.desc = true
	f, ok, err := parseConferenceFilter(r.acct.SID, lr)
	if err != nil {
		return err
	}
	var cs []store.Conference
	var more bool
	if ok {
		cs, more, err = s.st.ListConferences(r.ctx(), f, lr.storePage())
		if err != nil {
			return s.internal(r, err)
		}
	}
	items := make([]conferenceJSON, len(cs))
	for i, c := range cs {
		items[i] = toConferenceJSON(c)
	}
	var first, last store.Cursor
	if len(cs) > 0 {
		first = store.Cursor{DateCreated: cs[0].DateCreated, SID: cs[0].SID}
		last = store.Cursor{DateCreated: cs[len(cs)-1].DateCreated, SID: cs[len(cs)-1].SID}
	}
	s.writeJSON(r, http.StatusOK, lr.envelope(r.URL.Path, "conferences", items, len(cs), first, last, more))
	return nil
}

// findConference returns the account's conference with this SID, or a 404
// naming the requested path.
func (s *server) findConference(r *request, conferenceSID string) (store.Conference, error) {
	if !sid.Valid(sid.Conference, conferenceSID) {
		return store.Conference{}, errNotFound(r.URL.Path)
	}
	c, err := s.st.Conference(r.ctx(), r.acct.SID, conferenceSID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Conference{}, errNotFound(r.URL.Path)
	case err != nil:
		return store.Conference{}, s.internal(r, err)
	}
	return c, nil
}

// fetchConference serves GET .../Conferences/{Sid}.json.
func (s *server) fetchConference(r *request) error {
	c, err := s.findConference(r, instanceSID(r))
	if err != nil {
		return err
	}
	s.writeJSON(r, http.StatusOK, toConferenceJSON(c))
	return nil
}

// errConferenceNotLive is Twilio's 16022 ("Conference does not exist or is
// completed") for a change to a conference that has ended, or that is not
// running on this server.
func errConferenceNotLive(c store.Conference) *Error {
	if c.Status == store.ConferenceCompleted {
		return badRequest(CodeConferenceNotLive, "Conference %s is completed: only a conference in progress can be changed", c.SID)
	}
	return badRequest(CodeConferenceNotLive, "Conference %s is not in progress on this server", c.SID)
}

// errBusy is the answer when a call or room has too many commands pending.
func errBusy(what string) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: CodeTooManyRequests, Message: "Too many changes to " + what + " are pending; try again"}
}

// updateConference serves POST .../Conferences/{Sid}.json: Status=completed
// ends the conference (every participant leaves, reason
// conference-ended-via-api), AnnounceUrl (with AnnounceMethod, default POST)
// plays an audio file or the <Play>, <Say> and <Pause> of a TwiML document to
// the whole room. A conference that has ended, or that is not running on this
// server, gets 400 with 16022. The answer is the conference as stored once
// the room has acted (or after a few seconds).
func (s *server) updateConference(r *request) error {
	c, err := s.findConference(r, instanceSID(r))
	if err != nil {
		return err
	}
	f := form(r.PostForm)
	var u voice.ConferenceUpdate
	switch v := f.get("Status"); strings.ToLower(v) {
	case "":
	case string(store.ConferenceCompleted):
		u.Status = store.ConferenceCompleted
	default:
		return badRequest(CodeInvalidParameter, "Status must be completed, not %q", v)
	}
	if u.AnnounceURL, u.AnnounceMethod, err = optURLParam(f, "AnnounceUrl", "AnnounceMethod", http.MethodPost); err != nil {
		return err
	}
	if c.Status == store.ConferenceCompleted || s.rooms == nil {
		return errConferenceNotLive(c)
	}
	if u.Status == "" && u.AnnounceURL == "" {
		s.writeJSON(r, http.StatusOK, toConferenceJSON(c)) // nothing to change
		return nil
	}
	ctx, cancel := context.WithTimeout(r.ctx(), updateWait)
	defer cancel()
	err = s.rooms.UpdateConference(ctx, r.acct.SID, c.SID, u)
	switch {
	case errors.Is(err, voice.ErrConferenceNotFound):
		if now, err := s.st.Conference(r.ctx(), r.acct.SID, c.SID); err == nil {
			c = now // ended meanwhile
		}
		return errConferenceNotLive(c)
	case errors.Is(err, voice.ErrBusy):
		return errBusy("conference " + c.SID)
	case errors.Is(err, context.DeadlineExceeded):
	case err != nil:
		return s.internal(r, err)
	}
	if c, err = s.st.Conference(r.ctx(), r.acct.SID, c.SID); err != nil {
		return s.internal(r, err)
	}
	s.writeJSON(r, http.StatusOK, toConferenceJSON(c))
	return nil
}

// optURLParam reads an optional URL (Twilio's 21205 when it is not an
// absolute http or https URL) and its method: the one given, else def when
// the URL is given, else "" (nothing to change).
func optURLParam(f form, urlName, methodName, def string) (u, method string, err error) {
	u = f.get(urlName)
	if u != "" && !validURL(u) {
		return "", "", badRequest(CodeInvalidCallURL, "%s is not a valid URL: %s (want an absolute http or https URL)", urlName, u)
	}
	switch {
	case f.get(methodName) != "":
		method, err = methodParam(f, methodName)
	case u != "":
		method = def
	}
	return u, method, err
}

// conferenceRecordingJSON is Twilio's Conference Recording resource
// (api.v2010.account.conference.conference_recording in the OpenAPI spec),
// every field in the spec's order: the account's Recording without
// subresource_uris and media_url, its uri under the conference.
type conferenceRecordingJSON struct {
	AccountSID        string  `json:"account_sid"`
	APIVersion        string  `json:"api_version"`
	CallSID           *string `json:"call_sid"`
	ConferenceSID     string  `json:"conference_sid"`
	DateCreated       string  `json:"date_created"`
	DateUpdated       string  `json:"date_updated"`
	StartTime         *string `json:"start_time"`
	Duration          *string `json:"duration"`
	SID               string  `json:"sid"`
	Price             *string `json:"price"`
	PriceUnit         string  `json:"price_unit"`
	Status            string  `json:"status"`
	Channels          int     `json:"channels"`
	Source            string  `json:"source"`
	ErrorCode         *int    `json:"error_code"`
	EncryptionDetails any     `json:"encryption_details"`
	URI               string  `json:"uri"`
}

func toConferenceRecordingJSON(rec store.Recording) conferenceRecordingJSON {
	return conferenceRecordingJSON{
		AccountSID:    rec.AccountSID,
		APIVersion:    APIVersion,
		CallSID:       nullIfEmpty(rec.CallSID),
		ConferenceSID: rec.ConferenceSID,
		DateCreated:   formatTime(rec.DateCreated),
		DateUpdated:   formatTime(rec.DateUpdated),
		StartTime:     optTime(rec.StartTime),
		Duration:      recordingDuration(rec),
		SID:           rec.SID,
		PriceUnit:     "USD",
		Status:        string(rec.Status),
		Channels:      recordingChannels(rec),
		Source:        rec.Source,
		ErrorCode:     recordingErrorCode(rec),
		URI:           conferencesPath(rec.AccountSID) + "/" + rec.ConferenceSID + "/Recordings/" + rec.SID + ".json",
	}
}

// listConferenceRecordings serves GET .../Conferences/{Sid}/Recordings.json:
// the recordings whose conference_sid is the conference's, newest first,
// filtered by DateCreated (with "<" and ">").
func (s *server) listConferenceRecordings(r *request) error {
	c, err := s.findConference(r, r.PathValue("ConferenceSid"))
	if err != nil {
		return err
	}
	lr, err := parseList(r, sid.Recording, callRecordingFilters...)
	if err != nil {
		return err
	}
	lr.desc = true
	f, ok, err := parseRecordingFilter(r.acct.SID, "", lr)
	if err != nil {
		return err
	}
	f.ConferenceSID = c.SID
	var recs []store.Recording
	var more bool
	if ok {
		recs, more, err = s.st.ListRecordings(r.ctx(), f, lr.storePage())
		if err != nil {
			return s.internal(r, err)
		}
	}
	items := make([]conferenceRecordingJSON, len(recs))
	for i, rec := range recs {
		items[i] = toConferenceRecordingJSON(rec)
	}
	var first, last store.Cursor
	if len(recs) > 0 {
		first = store.Cursor{DateCreated: recs[0].DateCreated, SID: recs[0].SID}
		last = store.Cursor{DateCreated: recs[len(recs)-1].DateCreated, SID: recs[len(recs)-1].SID}
	}
	s.writeJSON(r, http.StatusOK, lr.envelope(r.URL.Path, "recordings", items, len(recs), first, last, more))
	return nil
}

// findConferenceRecording returns the recording of the path: the account's,
// of the path's conference; 20404 otherwise.
func (s *server) findConferenceRecording(r *request) (store.Recording, error) {
	c, err := s.findConference(r, r.PathValue("ConferenceSid"))
	if err != nil {
		return store.Recording{}, err
	}
	rec, err := s.findRecording(r, instanceSID(r), "")
	if err != nil {
		return store.Recording{}, err
	}
	if rec.ConferenceSID != c.SID {
		return store.Recording{}, errNotFound(r.URL.Path)
	}
	return rec, nil
}

// fetchConferenceRecording serves GET
// .../Conferences/{ConferenceSid}/Recordings/{Sid}.json.
func (s *server) fetchConferenceRecording(r *request) error {
	rec, err := s.findConferenceRecording(r)
	if err != nil {
		return err
	}
	s.writeJSON(r, http.StatusOK, toConferenceRecordingJSON(rec))
	return nil
}

// deleteConferenceRecording serves DELETE
// .../Conferences/{ConferenceSid}/Recordings/{Sid}.json as DELETE
// .../Recordings/{Sid}.json: 204, the row and the file are gone; a recording
// still being written gets 409 with 20409.
func (s *server) deleteConferenceRecording(r *request) error {
	rec, err := s.findConferenceRecording(r)
	if err != nil {
		return err
	}
	if !rec.Status.Final() {
		return &Error{
			Status:  http.StatusConflict,
			Code:    CodeConflict,
			Message: fmt.Sprintf("Recording %s is %s: wait for the conference recording to end before deleting it", rec.SID, rec.Status),
		}
	}
	return s.deleteRecording(r)
}

// updateConferenceRecording serves POST
// .../Conferences/{ConferenceSid}/Recordings/{Sid}.json: Status paused
// (nothing is written meanwhile: PauseBehavior skip), in-progress (resumes)
// or stopped. A recording that has ended can only be "stopped" again (200);
// a conference not live here gets 16022.
func (s *server) updateConferenceRecording(r *request) error {
	rec, err := s.findConferenceRecording(r)
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
	case "", "skip":
	default:
		return badRequest(CodeInvalidParameter, "PauseBehavior must be skip, not %q (a paused conference recording skips)", v)
	}
	if rec.Status.Final() {
		if status == store.RecordingStopped {
			s.writeJSON(r, http.StatusOK, toConferenceRecordingJSON(rec))
			return nil
		}
		return &Error{Status: http.StatusConflict, Code: CodeConflict,
			Message: fmt.Sprintf("Recording %s is %s: only an active recording can be paused or resumed", rec.SID, rec.Status)}
	}
	if s.rooms == nil {
		return badRequest(CodeConferenceNotLive, "Conference %s is not in progress on this server", rec.ConferenceSID)
	}
	rec, err = s.rooms.UpdateConferenceRecording(r.ctx(), r.acct.SID, rec.ConferenceSID, rec.SID, status)
	switch {
	case errors.Is(err, voice.ErrConferenceNotFound):
		return badRequest(CodeConferenceNotLive, "Conference %s is not in progress on this server", r.PathValue("ConferenceSid"))
	case errors.Is(err, voice.ErrRecordingState), errors.Is(err, voice.ErrRecordingNotRunning):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: err.Error()}
	case err != nil:
		return err
	}
	s.writeJSON(r, http.StatusOK, toConferenceRecordingJSON(rec))
	return nil
}

// startConferenceRecording serves POST
// .../Conferences/{ConferenceSid}/Recordings.json — beyond Twilio, which
// records a conference only from its start (record="record-from-start"):
// recording the live room's mix from now on. 201 with the recording; 16022
// when the conference is not live here; 409 when one is running already.
func (s *server) startConferenceRecording(r *request) error {
	c, err := s.findConference(r, r.PathValue("ConferenceSid"))
	if err != nil {
		return err
	}
	if c.Status == store.ConferenceCompleted || s.rooms == nil {
		return errConferenceNotLive(c)
	}
	rec, err := s.rooms.StartConferenceRecording(r.ctx(), r.acct.SID, c.SID)
	switch {
	case errors.Is(err, voice.ErrConferenceNotFound):
		return errConferenceNotLive(c)
	case errors.Is(err, voice.ErrRecordingState):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: err.Error()}
	case err != nil:
		return err
	}
	s.writeJSON(r, http.StatusCreated, toConferenceRecordingJSON(rec))
	return nil
}
