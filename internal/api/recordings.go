package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// The Recording resource (https://www.twilio.com/docs/voice/api/recording):
// the account's recordings, as the call-flow interpreter writes them
// (<Record>, REST-started call recordings), each a row in the store and an
// 8 kHz 16-bit mono WAV file under the data directory.
//
//	GET    .../Recordings.json              list, newest first
//	GET    .../Recordings/{Sid}.json        metadata
//	DELETE .../Recordings/{Sid}.json        the row and the file
//	GET    .../Recordings/{Sid}[.wav]       the media, audio/x-wav
//	GET    .../Recordings/{Sid}.mp3         415: no MP3 encoder (see serveMedia)

// recordingJSON is Twilio's Recording resource (api.v2010.account.recording
// in the OpenAPI spec), every field, in the spec's order. price is null
// (switchboard does not bill) and encryption_details null (recordings are not
// encrypted); api_version is the only version switchboard speaks.
type recordingJSON struct {
	AccountSID        string            `json:"account_sid"`
	APIVersion        string            `json:"api_version"`
	CallSID           *string           `json:"call_sid"`
	ConferenceSID     *string           `json:"conference_sid"`
	DateCreated       string            `json:"date_created"`
	DateUpdated       string            `json:"date_updated"`
	StartTime         *string           `json:"start_time"`
	Duration          *string           `json:"duration"`
	SID               string            `json:"sid"`
	Price             *string           `json:"price"`
	PriceUnit         string            `json:"price_unit"`
	Status            string            `json:"status"`
	Channels          int               `json:"channels"`
	Source            string            `json:"source"`
	ErrorCode         *int              `json:"error_code"`
	URI               string            `json:"uri"`
	EncryptionDetails any               `json:"encryption_details"`
	SubresourceURIs   map[string]string `json:"subresource_uris"`
	MediaURL          string            `json:"media_url"`
}

func recordingsPath(accountSID string) string {
	return prefix + "/Accounts/" + accountSID + "/Recordings"
}

// recordingMediaURL is where a recording's media is served: absolute, without
// an extension (WAV is the default), as Twilio's media_url and the
// RecordingUrl the interpreter hands to apps are.
func (s *server) recordingMediaURL(rec store.Recording) string {
	return s.publicURL + recordingsPath(rec.AccountSID) + "/" + rec.SID
}

// recordingDuration is the duration field: null until the recording is
// final (Twilio shows null for a recording in progress), then whole seconds,
// rounded as the RecordingDuration of the recording status callbacks is.
func recordingDuration(rec store.Recording) *string {
	if !rec.Status.Final() {
		return nil
	}
	d := strconv.FormatInt(int64(rec.Duration.Round(time.Second)/time.Second), 10)
	return &d
}

func recordingErrorCode(rec store.Recording) *int {
	if rec.ErrorCode == 0 {
		return nil
	}
	c := rec.ErrorCode
	return &c
}

func (s *server) toRecordingJSON(rec store.Recording) recordingJSON {
	base := recordingsPath(rec.AccountSID) + "/" + rec.SID
	return recordingJSON{
		AccountSID:    rec.AccountSID,
		APIVersion:    APIVersion,
		CallSID:       nullIfEmpty(rec.CallSID),
		ConferenceSID: nullIfEmpty(rec.ConferenceSID),
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
		URI:           base + ".json",
		SubresourceURIs: map[string]string{
			"add_on_results": base + "/AddOnResults.json",
			"transcriptions": base + "/Transcriptions.json",
		},
		MediaURL: s.recordingMediaURL(rec),
	}
}

// recordingChannels is the channels field: the store's value, 1 for rows
// written before it was kept.
func recordingChannels(rec store.Recording) int {
	if rec.Channels <= 0 {
		return 1
	}
	return rec.Channels
}

// recordingFilters are the Recordings list's filters, in the order page URIs
// repeat them (the order twilio-go sends them). IncludeSoftDeleted is read
// and ignored: switchboard deletes recordings outright, so there is nothing
// soft-deleted to include.
var recordingFilters = []string{
	"DateCreated", "DateCreated<", "DateCreated>",
	"CallSid", "ConferenceSid", "IncludeSoftDeleted",
}

// callRecordingFilters are those of a call's Recordings list.
var callRecordingFilters = []string{"DateCreated", "DateCreated<", "DateCreated>"}

// parseRecordingFilter turns the list request's filters into a store filter;
// ok is false when the dates cannot select anything.
func parseRecordingFilter(accountSID, callSID string, lr listRequest) (f store.RecordingFilter, ok bool, err error) {
	f = store.RecordingFilter{AccountSID: accountSID, CallSID: callSID}
	var created dateRange
	for _, kv := range lr.filters {
		name, v := kv[0], kv[1]
		switch name {
		case "CallSid":
			if !sid.Valid(sid.Call, v) {
				return f, false, badRequest(CodeInvalidParameter, "CallSid must be a Call SID (CA followed by 32 hex digits), not %q", v)
			}
			f.CallSID = v
		case "ConferenceSid":
			if !sid.Valid(sid.Conference, v) {
				return f, false, badRequest(CodeInvalidParameter, "ConferenceSid must be a Conference SID (CF followed by 32 hex digits), not %q", v)
			}
			f.ConferenceSID = v
		case "IncludeSoftDeleted":
			if _, valid := parseBool(v); !valid {
				return f, false, badRequest(CodeInvalidParameter, "IncludeSoftDeleted must be true or false, not %q", v)
			}
		default: // DateCreated, DateCreated<, DateCreated>
			op := dateOn
			if len(name) > len("DateCreated") {
				op = dateOp(name[len("DateCreated")])
			}
			if !created.apply(op, v) {
				return f, false, badRequest(CodeInvalidParameter, "%s must be a date (YYYY-MM-DD) or an RFC 3339 date-time, not %q", name, v)
			}
		}
	}
	var empty bool
	f.CreatedAfter, f.CreatedBefore, empty = created.bounds()
	return f, !empty, nil
}

// listRecordings serves GET .../Recordings.json (filters CallSid,
// ConferenceSid, DateCreated) and GET .../Calls/{CallSid}/Recordings.json
// (DateCreated; the call must be the account's): newest first, as Twilio
// lists them. A call's list holds Call Recording resources.
func (s *server) listRecordings(r *request) error {
	callSID := r.PathValue("CallSid")
	filters := recordingFilters
	if callSID != "" {
		if _, err := s.findCall(r, callSID); err != nil {
			return err
		}
		filters = callRecordingFilters
	}
	lr, err := parseList(r, sid.Recording, filters...)
	if err != nil {
		return err
	}
	lr.desc = true
	f, ok, err := parseRecordingFilter(r.acct.SID, callSID, lr)
	if err != nil {
		return err
	}
	var recs []store.Recording
	var more bool
	if ok {
		recs, more, err = s.st.ListRecordings(r.ctx(), f, lr.storePage())
		if err != nil {
			return s.internal(r, err)
		}
	}
	var items any
	if callSID != "" {
		l := make([]callRecordingJSON, len(recs))
		for i, rec := range recs {
			l[i] = toCallRecordingJSON(rec)
		}
		items = l
	} else {
		l := make([]recordingJSON, len(recs))
		for i, rec := range recs {
			l[i] = s.toRecordingJSON(rec)
		}
		items = l
	}
	var first, last store.Cursor
	if len(recs) > 0 {
		first = store.Cursor{DateCreated: recs[0].DateCreated, SID: recs[0].SID}
		last = store.Cursor{DateCreated: recs[len(recs)-1].DateCreated, SID: recs[len(recs)-1].SID}
	}
	s.writeJSON(r, http.StatusOK, lr.envelope(r.URL.Path, "recordings", items, len(recs), first, last, more))
	return nil
}

// findRecording returns the account's recording with this SID, or a 404
// naming the requested path. With a callSID, the recording must be that
// call's.
func (s *server) findRecording(r *request, rsid, callSID string) (store.Recording, error) {
	if !sid.Valid(sid.Recording, rsid) {
		return store.Recording{}, errNotFound(r.URL.Path)
	}
	rec, err := s.st.Recording(r.ctx(), r.acct.SID, rsid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Recording{}, errNotFound(r.URL.Path)
	case err != nil:
		return store.Recording{}, s.internal(r, err)
	}
	if callSID != "" && rec.CallSID != callSID {
		return store.Recording{}, errNotFound(r.URL.Path)
	}
	return rec, nil
}

// recordingFile splits the last segment of a recording path: the SID and
// what follows it, "json" for the metadata, "" or "wav" for the WAV media,
// "mp3". ok is false for anything else (".xml", which Twilio serves and
// switchboard does not, and names that are not a SID).
func recordingFile(file string) (rsid, ext string, ok bool) {
	rsid, ext, _ = strings.Cut(file, ".")
	ext = strings.ToLower(ext)
	switch ext {
	case "json", "", "wav", "mp3":
		return rsid, ext, rsid != ""
	}
	return "", "", false
}

// isMediaRequest reports whether r reads a recording's media: GET or HEAD
// of .../Recordings/{Sid}, {Sid}.wav or {Sid}.mp3.
func isMediaRequest(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	_, ext, ok := recordingFile(r.PathValue("file"))
	return ok && ext != "json"
}

// getRecording serves GET (and HEAD) .../Recordings/{file}: the metadata for
// {Sid}.json, the media otherwise.
func (s *server) getRecording(r *request) error {
	rsid, ext, ok := recordingFile(r.PathValue("file"))
	if !ok {
		return errNotFound(r.URL.Path)
	}
	rec, err := s.findRecording(r, rsid, "")
	if err != nil {
		return err
	}
	if ext == "json" {
		s.writeJSON(r, http.StatusOK, s.toRecordingJSON(rec))
		return nil
	}
	return s.serveMedia(r, rec, ext)
}

// recordingContentType is the MIME type Twilio gives WAV recordings.
const recordingContentType = "audio/x-wav"

// serveMedia writes the recording's WAV file, with Range and conditional
// requests (http.ServeContent), as Twilio serves media
// (https://www.twilio.com/docs/voice/api/recording#fetch-a-recordings-media-file):
//
//   - no extension or .wav: the WAV file, audio/x-wav;
//   - .mp3: Twilio transcodes; switchboard has no MP3 encoder (none in pure
//     Go is among its dependencies, and it links no C), so it answers 415
//     with Twilio's error body, saying to fetch the WAV instead;
//   - only a completed recording has media: one in progress, paused,
//     stopped, absent or failed gets 404, as on Twilio ("only possible to
//     fetch a Recording's media file when the Recording's status is
//     completed");
//   - RequestedChannels=2 asks for a dual-channel file; recordings are mono,
//     so it gets 400, as Twilio answers for a recording without dual-channel
//     media. RequestedChannels=1 is the file as it is.
func (s *server) serveMedia(r *request, rec store.Recording, ext string) error {
	if ext == "mp3" {
		return &Error{
			Status: http.StatusUnsupportedMediaType,
			Code:   CodeUnsupportedMediaType,
			Message: fmt.Sprintf("MP3 media is not available: switchboard stores recordings as WAV and has no MP3 encoder; "+
				"fetch the WAV instead: %[1]s or %[1]s.wav (audio/x-wav)", recordingsPath(rec.AccountSID)+"/"+rec.SID),
		}
	}
	switch v := r.URL.Query().Get("RequestedChannels"); v {
	case "", "1":
	case "2":
		return badRequest(CodeBadRequest, "Recording %s has no dual-channel media: it was recorded in mono (RequestedChannels=1)", rec.SID)
	default:
		return badRequest(CodeBadRequest, "RequestedChannels must be 1 or 2, not %q", v)
	}
	if rec.Status != store.RecordingCompleted {
		return &Error{
			Status:  http.StatusNotFound,
			Code:    CodeNotFound,
			Message: fmt.Sprintf("The requested resource %s was not found: recording %s is %s, and only a completed recording has media", r.URL.Path, rec.SID, rec.Status),
		}
	}
	path, ok := s.recordingPath(rec)
	if !ok {
		s.log.Error("api: recording file path outside the data directory", "recording", rec.SID, "file", rec.File)
		return errNotFound(r.URL.Path)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("api: recording file missing", "recording", rec.SID, "file", path)
		return errNotFound(r.URL.Path)
	}
	if err != nil {
		return s.internal(r, fmt.Errorf("open recording %s: %w", rec.SID, err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return s.internal(r, fmt.Errorf("stat recording %s: %w", rec.SID, err))
	}
	h := r.w.Header()
	h.Set("Content-Type", recordingContentType)
	// A completed recording never changes: its SID names its content.
	h.Set("ETag", `"`+rec.SID+`"`)
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("Content-Disposition", `inline; filename="`+rec.SID+`.wav"`)
	http.ServeContent(r.w, r.Request, rec.SID+".wav", st.ModTime(), f)
	return nil
}

// recordingPath is the recording's file on disk; ok is false when the stored
// path is empty or would leave the data directory.
func (s *server) recordingPath(rec store.Recording) (string, bool) {
	if rec.File == "" || !filepath.IsLocal(rec.File) {
		return "", false
	}
	return filepath.Join(s.dataDir, rec.File), true
}

// deleteRecording serves DELETE .../Recordings/{Sid}.json and DELETE
// .../Calls/{CallSid}/Recordings/{Sid}.json: 204, and the row and the WAV
// file are gone. The file goes first, so that a failure never leaves a
// person's voice on disk without a record pointing at it; a retry after a
// failure finds the file gone and removes the row. A recording still being
// written (in-progress, paused, stopped) cannot be deleted: 409 with 20409,
// stop it first.
func (s *server) deleteRecording(r *request) error {
	callSID := r.PathValue("CallSid")
	if callSID != "" {
		if _, err := s.findCall(r, callSID); err != nil {
			return err
		}
	}
	rsid := instanceSID(r)
	rec, err := s.findRecording(r, rsid, callSID)
	if err != nil {
		return err
	}
	if !rec.Status.Final() {
		return &Error{
			Status: http.StatusConflict,
			Code:   CodeConflict,
			Message: fmt.Sprintf("Recording %s is %s: stop it (POST %s with Status=stopped) or wait for the call to end before deleting it",
				rec.SID, rec.Status, callsPath(rec.AccountSID)+"/"+rec.CallSID+"/Recordings/"+rec.SID+".json"),
		}
	}
	if path, ok := s.recordingPath(rec); ok {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return s.internal(r, fmt.Errorf("delete recording %s: %w", rec.SID, err))
		}
	} else if rec.File != "" {
		s.log.Error("api: recording file path outside the data directory; row deleted, file left", "recording", rec.SID, "file", rec.File)
	}
	err = s.st.DeleteRecording(r.ctx(), rec.AccountSID, rec.SID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path) // deleted meanwhile by another request
	case err != nil:
		return s.internal(r, err)
	}
	r.w.WriteHeader(http.StatusNoContent)
	return nil
}

// recordingNotUpdatable answers POST .../Recordings/{Sid}.json: Twilio
// changes a recording's status only through its call (or conference), so
// the account-level resource has no POST; the message names the path to use.
func (s *server) recordingNotUpdatable(r *request) error {
	r.w.Header().Set("Allow", "GET, DELETE, HEAD")
	return &Error{
		Status:  http.StatusMethodNotAllowed,
		Code:    CodeMethodNotAllowed,
		Message: "Method not allowed: POST (pause, resume or stop a recording with POST .../Calls/{CallSid}/Recordings/{Sid}.json and Status)",
	}
}

// publicMedia serves recording media without authentication, for operators
// who turned on public media (Config.PublicMedia). Only GET and HEAD of the
// media reach it (see recordingRoute); the account in the path must exist
// and the recording must be its own, or the answer is 404.
func (s *server) publicMedia(w http.ResponseWriter, hr *http.Request) {
	r := &request{Request: hr, w: w}
	s.guard(r, func() error {
		acctSID := r.PathValue("AccountSid")
		if !sid.Valid(sid.Account, acctSID) {
			return errNotFound(r.URL.Path)
		}
		acct, err := s.st.Account(r.ctx(), acctSID)
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound(r.URL.Path)
		}
		if err != nil {
			return s.internal(r, err)
		}
		r.acct = acct
		return s.getRecording(r)
	})
}

// recordingRoute is the handler of .../Recordings/{file}: the authenticated
// endpoint, except that with public media on, GET and HEAD of the media
// (and nothing else: not the metadata, not DELETE) skip authentication.
func (s *server) recordingRoute(ms methods) http.Handler {
	authed := s.endpoint(true, ms)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.publicMediaOn && isMediaRequest(r) {
			s.publicMedia(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	})
}
