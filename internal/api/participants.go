package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/voice"
)

// The Participant resource
// (https://www.twilio.com/docs/voice/api/conference-participant-resource):
// the current participants of a conference, those in the room or on their
// way in, as Twilio's 2010-04-01 API shows them (the history of everyone who
// ever joined is the Insights API's). A participant is named by its call SID
// or by its label.
//
//	GET    .../Conferences/{Sid}/Participants.json                  list, in join order
//	POST   .../Conferences/{Sid or FriendlyName}/Participants.json  dial someone in (201)
//	GET    .../Conferences/{Sid}/Participants/{CallSid or label}.json
//	POST   .../Conferences/{Sid}/Participants/{CallSid or label}.json   mute, hold, coach ...
//	DELETE .../Conferences/{Sid}/Participants/{CallSid or label}.json   kick (204)

// participantSIDPrefix is the prefix of participant (Insights) SIDs, which
// the list's page tokens carry.
const participantSIDPrefix = "CP"

// maxLabel is Twilio's limit on a participant label (characters).
const maxLabel = 128

// participantJSON is Twilio's Participant resource
// (api.v2010.account.conference.participant in the OpenAPI spec), every field
// in the spec's order. queue_time is "0": participants are not rate-limited
// into a queue.
type participantJSON struct {
	AccountSID             string  `json:"account_sid"`
	CallSID                *string `json:"call_sid"`
	Label                  *string `json:"label"`
	CallSIDToCoach         *string `json:"call_sid_to_coach"`
	Coaching               bool    `json:"coaching"`
	ConferenceSID          string  `json:"conference_sid"`
	DateCreated            string  `json:"date_created"`
	DateUpdated            string  `json:"date_updated"`
	EndConferenceOnExit    bool    `json:"end_conference_on_exit"`
	Muted                  bool    `json:"muted"`
	Hold                   bool    `json:"hold"`
	StartConferenceOnEnter bool    `json:"start_conference_on_enter"`
	Status                 string  `json:"status"`
	QueueTime              string  `json:"queue_time"`
	URI                    string  `json:"uri"`
}

func participantsPath(accountSID, conferenceSID string) string {
	return conferencesPath(accountSID) + "/" + conferenceSID + "/Participants"
}

func toParticipantJSON(p store.Participant) participantJSON {
	return participantJSON{
		AccountSID:             p.AccountSID,
		CallSID:                nullIfEmpty(p.CallSID),
		Label:                  nullIfEmpty(p.Label),
		CallSIDToCoach:         nullIfEmpty(p.CallSIDToCoach),
		Coaching:               p.Coaching,
		ConferenceSID:          p.ConferenceSID,
		DateCreated:            formatTime(p.DateCreated),
		DateUpdated:            formatTime(p.DateUpdated),
		EndConferenceOnExit:    p.EndConferenceOnExit,
		Muted:                  p.Muted,
		Hold:                   p.Hold,
		StartConferenceOnEnter: p.StartConferenceOnEnter,
		Status:                 string(p.Status),
		QueueTime:              "0",
		URI:                    participantsPath(p.AccountSID, p.ConferenceSID) + "/" + p.CallSID + ".json",
	}
}

// participantFilters are the Participants list's filters, in the order page
// URIs repeat them (the order twilio-go sends them).
var participantFilters = []string{"Muted", "Hold", "Coaching"}

// boolParam reads an optional true/false parameter (20001 for anything
// else); nil when it is not given.
func boolParam(get func(string) string, name string) (*bool, error) {
	v := get(name)
	if v == "" {
		return nil, nil
	}
	b, ok := parseBool(v)
	if !ok {
		return nil, badRequest(CodeInvalidParameter, "%s must be true or false, not %q", name, v)
	}
	return &b, nil
}

// listParticipants serves GET .../Conferences/{Sid}/Participants.json: the
// conference's current participants (none once it has ended), in join
// order, filtered by Muted, Hold and Coaching.
func (s *server) listParticipants(r *request) error {
	c, err := s.findConference(r, r.PathValue("ConferenceSid"))
	if err != nil {
		return err
	}
	lr, err := parseList(r, participantSIDPrefix, participantFilters...)
	if err != nil {
		return err
	}
	f := store.ParticipantFilter{AccountSID: r.acct.SID, ConferenceSID: c.SID, Current: true}
	q := r.URL.Query()
	if f.Muted, err = boolParam(q.Get, "Muted"); err != nil {
		return err
	}
	if f.Hold, err = boolParam(q.Get, "Hold"); err != nil {
		return err
	}
	if f.Coaching, err = boolParam(q.Get, "Coaching"); err != nil {
		return err
	}
	ps, more, err := s.st.ListParticipants(r.ctx(), f, lr.storePage())
	if err != nil {
		return s.internal(r, err)
	}
	items := make([]participantJSON, len(ps))
	for i, p := range ps {
		items[i] = toParticipantJSON(p)
	}
	var first, last store.Cursor
	if len(ps) > 0 {
		first = store.Cursor{DateCreated: ps[0].DateCreated, SID: ps[0].SID}
		last = store.Cursor{DateCreated: ps[len(ps)-1].DateCreated, SID: ps[len(ps)-1].SID}
	}
	s.writeJSON(r, http.StatusOK, lr.envelope(r.URL.Path, "participants", items, len(ps), first, last, more))
	return nil
}

// findParticipant returns the conference of the path and its current
// participant whose call SID or label is the path's last segment; 20404 for
// anything else (a participant that has left is no longer a resource of the
// 2010-04-01 API).
func (s *server) findParticipant(r *request) (store.Conference, store.Participant, error) {
	c, err := s.findConference(r, r.PathValue("ConferenceSid"))
	if err != nil {
		return c, store.Participant{}, err
	}
	key := instanceSID(r)
	if key == "" {
		return c, store.Participant{}, errNotFound(r.URL.Path)
	}
	p, err := s.st.Participant(r.ctx(), r.acct.SID, c.SID, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c, store.Participant{}, errNotFound(r.URL.Path)
	case err != nil:
		return c, store.Participant{}, s.internal(r, err)
	case !p.Current():
		return c, store.Participant{}, errNotFound(r.URL.Path)
	}
	return c, p, nil
}

// fetchParticipant serves GET .../Participants/{CallSid or label}.json.
func (s *server) fetchParticipant(r *request) error {
	_, p, err := s.findParticipant(r)
	if err != nil {
		return err
	}
	s.writeJSON(r, http.StatusOK, toParticipantJSON(p))
	return nil
}

// errParticipantGone is the 20404 of a participant that the room no longer
// has (it left meanwhile, or the conference is not running on this server).
func errParticipantGone(r *request) *Error {
	return errNotFound(r.URL.Path)
}

// coachTarget checks that callSID, the call a coach is to whisper to, is a
// current participant of the conference (Twilio's 16028 otherwise).
func (s *server) coachTarget(r *request, conferenceSID, callSID string) error {
	p, err := s.st.Participant(r.ctx(), r.acct.SID, conferenceSID, callSID)
	switch {
	case errors.Is(err, store.ErrNotFound), err == nil && (!p.Current() || p.CallSID != callSID):
		return badRequest(CodeCoachedNotPresent, "Participant to be coached, call %s, is not present in conference %s", callSID, conferenceSID)
	case err != nil:
		return s.internal(r, err)
	}
	return nil
}

// parseCoaching reads Coaching and CallSidToCoach: Coaching defaults to true
// when CallSidToCoach is given, and coaching needs a call to coach (the one
// given, or current, the participant's call to coach so far). self is the
// participant's own call ("" for a new participant).
func parseCoaching(f form, current, self string) (coaching *bool, callSID string, err error) {
	if coaching, err = boolParam(f.get, "Coaching"); err != nil {
		return nil, "", err
	}
	callSID = f.get("CallSidToCoach")
	switch {
	case callSID != "" && !sid.Valid(sid.Call, callSID):
		return nil, "", badRequest(CodeInvalidParameter, "CallSidToCoach must be a Call SID (CA followed by 32 hex digits), not %q", callSID)
	case callSID != "" && callSID == self:
		return nil, "", badRequest(CodeInvalidParameter, "A participant cannot coach its own call %s", callSID)
	case coaching == nil && callSID != "":
		on := true
		coaching = &on
	case coaching != nil && *coaching && callSID == "" && current == "":
		return nil, "", badRequest(CodeInvalidParameter, "Coaching=true needs CallSidToCoach, the call to coach")
	}
	return coaching, callSID, nil
}

// updateParticipant serves POST .../Participants/{CallSid or label}.json:
// Muted, Hold (with HoldUrl and HoldMethod, default GET), AnnounceUrl (with
// AnnounceMethod, default POST: played to this participant only), WaitUrl
// (with WaitMethod, default POST), BeepOnExit, EndConferenceOnExit, Coaching
// and CallSidToCoach. A parameter not given leaves that setting alone (an
// empty WaitUrl too). The answer is the participant as it now stands.
func (s *server) updateParticipant(r *request) error {
	c, p, err := s.findParticipant(r)
	if err != nil {
		return err
	}
	f := form(r.PostForm)
	var u voice.ParticipantUpdate
	for _, b := range []struct {
		name string
		dst  **bool
	}{
		{"Muted", &u.Muted}, {"Hold", &u.Hold}, {"BeepOnExit", &u.BeepOnExit}, {"EndConferenceOnExit", &u.EndConferenceOnExit},
	} {
		if *b.dst, err = boolParam(f.get, b.name); err != nil {
			return err
		}
	}
	if u.HoldURL, u.HoldMethod, err = optURLParam(f, "HoldUrl", "HoldMethod", http.MethodGet); err != nil {
		return err
	}
	if u.AnnounceURL, u.AnnounceMethod, err = optURLParam(f, "AnnounceUrl", "AnnounceMethod", http.MethodPost); err != nil {
		return err
	}
	if u.WaitURL, u.WaitMethod, err = optURLParam(f, "WaitUrl", "WaitMethod", http.MethodPost); err != nil {
		return err
	}
	if u.Coaching, u.CallSIDToCoach, err = parseCoaching(f, p.CallSIDToCoach, p.CallSID); err != nil {
		return err
	}
	if u.CallSIDToCoach != "" && u.Coaching != nil && *u.Coaching {
		if err := s.coachTarget(r, c.SID, u.CallSIDToCoach); err != nil {
			return err
		}
	}
	if s.rooms == nil {
		return errParticipantGone(r)
	}
	ctx, cancel := context.WithTimeout(r.ctx(), updateWait)
	defer cancel()
	updated, err := s.rooms.UpdateParticipant(ctx, r.acct.SID, c.SID, p.CallSID, u)
	switch {
	case errors.Is(err, voice.ErrParticipantNotFound), errors.Is(err, voice.ErrConferenceNotFound):
		return errParticipantGone(r)
	case errors.Is(err, voice.ErrBusy):
		return errBusy("participant " + p.CallSID)
	case errors.Is(err, context.DeadlineExceeded):
		// Answer with what is stored.
		if updated, err = s.st.ParticipantBySID(r.ctx(), r.acct.SID, p.SID); err != nil {
			return s.internal(r, err)
		}
	case err != nil:
		return s.internal(r, err)
	}
	s.writeJSON(r, http.StatusOK, toParticipantJSON(updated))
	return nil
}

// deleteParticipant serves DELETE .../Participants/{CallSid or label}.json:
// the participant is taken out of the conference (kicked: its call goes on
// to the verb after its <Dial>, or ends for a participant added by this
// API), 204.
func (s *server) deleteParticipant(r *request) error {
	c, p, err := s.findParticipant(r)
	if err != nil {
		return err
	}
	if s.rooms == nil {
		return errParticipantGone(r)
	}
	ctx, cancel := context.WithTimeout(r.ctx(), updateWait)
	defer cancel()
	err = s.rooms.RemoveParticipant(ctx, r.acct.SID, c.SID, p.CallSID)
	switch {
	case errors.Is(err, voice.ErrParticipantNotFound), errors.Is(err, voice.ErrConferenceNotFound):
		return errParticipantGone(r)
	case errors.Is(err, voice.ErrBusy):
		return errBusy("participant " + p.CallSID)
	case err != nil && !errors.Is(err, context.DeadlineExceeded):
		return s.internal(r, err)
	}
	r.w.WriteHeader(http.StatusNoContent)
	return nil
}

// Values of Create Participant's enumerated parameters.
var (
	conferenceEvents          = []string{"start", "end", "join", "leave", "mute", "hold", "modify", "speaker", "announcement"}
	conferenceRecordingEvents = []string{"in-progress", "completed", "absent", "failed"}
	participantRecordingEvent = []string{"started", "in-progress", "paused", "resumed", "stopped", "completed", "failed", "absent"}
	conferenceRegions         = []string{"us1", "us2", "ie1", "de1", "sg1", "br1", "au1", "jp1"}
	jitterBufferSizes         = []string{"off", "small", "medium", "large"}
)

// Limits and defaults of Create Participant.
const (
	minParticipantTimeout     = 5
	defaultParticipantTimeout = 60
	minMaxParticipants        = 2
	maxMaxParticipants        = 250
)

// validLabel reports whether a participant label is one Twilio accepts: up
// to 128 characters, not a call SID, without '/' (or "%2F").
func validLabel(label string) bool {
	return utf8.ValidString(label) && utf8.RuneCountInString(label) <= maxLabel &&
		!strings.Contains(label, "/") && !strings.Contains(strings.ToUpper(label), "%2F") &&
		!sid.Valid(sid.Call, label)
}

// validConferenceName reports whether a conference's friendly name given in
// a path can name a room: 1 to 128 characters of UTF-8 without control
// characters.
func validConferenceName(name string) bool {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxConferenceName {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// enumParam reads an optional parameter that must be one of allowed (any
// case; the allowed spelling is returned), def when it is not given.
func enumParam(f form, name string, allowed []string, def string) (string, error) {
	v := f.get(name)
	if v == "" {
		return def, nil
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a, nil
		}
	}
	return "", badRequest(CodeInvalidParameter, "%s must be one of %s, not %q", name, strings.Join(allowed, ", "), v)
}

// intParam reads an optional whole number from lo to hi (hi 0: no upper
// bound), def when it is not given.
func intParam(f form, name string, lo, hi, def int) (int, error) {
	v := f.get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || (hi > 0 && n > hi) {
		if hi > 0 {
			return 0, badRequest(CodeInvalidParameter, "%s must be a whole number from %d to %d, not %q", name, lo, hi, v)
		}
		return 0, badRequest(CodeInvalidParameter, "%s must be a whole number of at least %d, not %q", name, lo, v)
	}
	return n, nil
}

// parseNewParticipant validates Create Participant's parameters. Every
// parameter of Twilio's is accepted; those about the participant's own call
// are checked as Create Call checks them (To, From, StatusCallback...), the
// conference's (Conference*, Region, MaxParticipants...) apply when this
// participant creates the room, as on Twilio. Recording the participant's
// call (Record, with RecordingChannels, RecordingTrack, Trim and the
// RecordingStatusCallback* of its recording) records it while it is in the
// room. Answering machine detection, Byoc, CallReason, CallToken,
// CallerDisplayName, ClientNotificationUrl and the Emergency* parameters are
// checked where they have a form and not acted on.
func (s *server) parseNewParticipant(r *request, f form) (voice.NewParticipant, error) {
	var np voice.NewParticipant
	to, err := s.parseTo(f.get("To"))
	if err != nil {
		return np, err
	}
	from := f.get("From")
	if from == "" {
		from = f.get("CallerId")
	}
	if from, err = s.parseFrom(r, "From", from, to); err != nil {
		return np, err
	}
	np.To, np.From = to, from
	if v := f.get("CallerId"); v != "" {
		if np.CallerID, err = s.parseFrom(r, "CallerId", v, to); err != nil {
			return np, err
		}
	}
	np.SIPAuthUsername, np.SIPAuthPassword = f.get("SipAuthUsername"), f.get("SipAuthPassword")

	if np.Label = f.get("Label"); np.Label != "" && !validLabel(np.Label) {
		return np, badRequest(CodeParticipantLabelInvalid, "Invalid participant label %q: it must not exceed %d characters, be a CallSid or contain '/'", np.Label, maxLabel)
	}
	switch v := f.get("Beep"); strings.ToLower(v) {
	case "", "true":
		np.Beep = "true"
	case "false":
		np.Beep = "false"
	case "onenter":
		np.Beep = "onEnter"
	case "onexit":
		np.Beep = "onExit"
	default:
		return np, badRequest(CodeInvalidParameter, "Beep must be true, false, onEnter or onExit, not %q", v)
	}
	if np.StartConferenceOnEnter, err = boolParam(f.get, "StartConferenceOnEnter"); err != nil {
		return np, err
	}
	flags := []struct {
		name string
		dst  *bool
		def  bool
	}{
		{"EndConferenceOnExit", &np.EndConferenceOnExit, false},
		{"Muted", &np.Muted, false},
		{"EarlyMedia", &np.EarlyMedia, true},
		{"Record", &np.Record, false},
	}
	for _, fl := range flags {
		b, err := boolParam(f.get, fl.name)
		if err != nil {
			return np, err
		}
		*fl.dst = fl.def
		if b != nil {
			*fl.dst = *b
		}
	}
	coaching, callSIDToCoach, err := parseCoaching(f, "", "")
	if err != nil {
		return np, err
	}
	if coaching != nil && *coaching {
		np.Coaching, np.CallSIDToCoach = true, callSIDToCoach
	}
	if np.JitterBufferSize, err = enumParam(f, "JitterBufferSize", jitterBufferSizes, "large"); err != nil {
		return np, err
	}

	// What the participant hears before the conference starts: Twilio's
	// hold music unless WaitUrl is given; WaitUrl="" is silence.
	np.WaitURL = twiml.DefaultWaitURL
	if _, given := f["WaitUrl"]; given {
		if np.WaitURL = f.get("WaitUrl"); np.WaitURL != "" && !validURL(np.WaitURL) {
			return np, badRequest(CodeInvalidCallURL, "WaitUrl is not a valid URL: %s (want an absolute http or https URL, or empty for silence)", np.WaitURL)
		}
	}
	if np.WaitMethod, err = methodParam(f, "WaitMethod"); err != nil {
		return np, err
	}

	// The call.
	if np.Timeout, err = intParam(f, "Timeout", minParticipantTimeout, maxCallTimeout, defaultParticipantTimeout); err != nil {
		return np, err
	}
	if np.TimeLimit, err = intParam(f, "TimeLimit", 1, 0, 0); err != nil {
		return np, err
	}
	if np.StatusCallback, np.StatusCallbackMethod, err = urlParam(f, "StatusCallback", "StatusCallbackMethod", CodeInvalidStatusCallback); err != nil {
		return np, err
	}
	if np.StatusCallbackEvents, err = listParam(f, "StatusCallbackEvent", progressEvents, CodeInvalidStatusCallbackEvent); err != nil {
		return np, err
	}
	switch v := f.get("MachineDetection"); v {
	case "", "Enable", "DetectMessageEnd":
	default:
		return np, badRequest(CodeInvalidMachineDetection, "MachineDetection must be Enable or DetectMessageEnd, not %q", v)
	}

	// The room's, taken if this participant creates it.
	if np.Region, err = enumParam(f, "Region", conferenceRegions, ""); err != nil {
		return np, err
	}
	if np.MaxParticipants, err = intParam(f, "MaxParticipants", minMaxParticipants, maxMaxParticipants, maxMaxParticipants); err != nil {
		return np, err
	}
	if np.ConferenceStatusCallback, np.ConferenceStatusCallbackMethod, err = urlParam(f, "ConferenceStatusCallback", "ConferenceStatusCallbackMethod", CodeInvalidCallbackURL); err != nil {
		return np, err
	}
	if np.ConferenceStatusCallbackEvents, err = listParam(f, "ConferenceStatusCallbackEvent", conferenceEvents, CodeInvalidStatusCallbackEvent); err != nil {
		return np, err
	}
	if len(np.ConferenceStatusCallbackEvents) == 0 {
		np.ConferenceStatusCallbackEvents = []string{"start", "end"} // Twilio's default
	}
	switch v := f.get("ConferenceRecord"); strings.ToLower(v) {
	case "", "false", "do-not-record":
		np.ConferenceRecord = "do-not-record"
	case "true", "record-from-start":
		np.ConferenceRecord = "record-from-start"
	default:
		return np, badRequest(CodeInvalidParameter, "ConferenceRecord must be true, false, record-from-start or do-not-record, not %q", v)
	}
	if np.ConferenceTrim, err = enumParam(f, "ConferenceTrim", []string{"trim-silence", "do-not-trim"}, "trim-silence"); err != nil {
		return np, err
	}
	if np.ConferenceRecordingStatusCallback, np.ConferenceRecordingStatusCallbackMethod, err = urlParam(f, "ConferenceRecordingStatusCallback", "ConferenceRecordingStatusCallbackMethod", CodeInvalidCallbackURL); err != nil {
		return np, err
	}
	events, err := listParam(f, "ConferenceRecordingStatusCallbackEvent", conferenceRecordingEvents, CodeInvalidParameter)
	if err != nil {
		return np, err
	}
	for _, ev := range events {
		if ev == "failed" { // reported as absent, as for call recordings
			ev = "absent"
		}
		if !slices.Contains(np.ConferenceRecordingStatusCallbackEvents, ev) {
			np.ConferenceRecordingStatusCallbackEvents = append(np.ConferenceRecordingStatusCallbackEvents, ev)
		}
	}
	if len(np.ConferenceRecordingStatusCallbackEvents) == 0 {
		np.ConferenceRecordingStatusCallbackEvents = []string{"completed"} // Twilio's default
	}

	// The participant's own recording.
	if np.RecordingStatusCallback, np.RecordingStatusCallbackMethod, err = urlParam(f, "RecordingStatusCallback", "RecordingStatusCallbackMethod", CodeInvalidCallbackURL); err != nil {
		return np, err
	}
	if np.RecordingStatusCallbackEvents, err = listParam(f, "RecordingStatusCallbackEvent", participantRecordingEvent, CodeInvalidParameter); err != nil {
		return np, err
	}
	for _, e := range []struct {
		name    string
		allowed []string
		dst     *string
	}{
		{"RecordingChannels", []string{"mono", "dual"}, &np.RecordingChannels},
		{"RecordingTrack", []string{"inbound", "outbound", "both"}, &np.RecordingTrack},
		{"Trim", []string{"trim-silence", "do-not-trim"}, &np.Trim},
	} {
		if *e.dst, err = enumParam(f, e.name, e.allowed, ""); err != nil {
			return np, err
		}
	}
	return np, nil
}

// createParticipant serves POST .../Conferences/{Sid or FriendlyName}/
// Participants.json: Twilio's Create Participant. The call to To is placed
// and joins the conference when answered; naming the conference by its
// friendly name creates the room when there is none live by that name. The
// answer is 201 with the participant, status queued. A conference SID of
// another account, or none, gets 20404; a completed conference 16022; a
// label that is not valid 16024, one in use in the room 16026; a
// CallSidToCoach that is not in the room 16028.
func (s *server) createParticipant(r *request) error {
	name := r.PathValue("ConferenceSid")
	var room store.Conference // the live room, when there is one
	switch {
	case sid.Valid(sid.Conference, name):
		c, err := s.findConference(r, name)
		if err != nil {
			return err
		}
		if c.Status == store.ConferenceCompleted {
			return errConferenceNotLive(c)
		}
		room = c
	case !validConferenceName(name):
		return badRequest(CodeInvalidParameter, "A conference's friendly name is 1 to %d characters without control characters, not %q", maxConferenceName, name)
	default:
		c, err := s.st.LiveConference(r.ctx(), r.acct.SID, name)
		switch {
		case err == nil:
			room = c
		case !errors.Is(err, store.ErrNotFound):
			return s.internal(r, err)
		}
	}
	np, err := s.parseNewParticipant(r, form(r.PostForm))
	if err != nil {
		return err
	}
	if np.Label != "" && room.SID != "" {
		p, err := s.st.Participant(r.ctx(), r.acct.SID, room.SID, np.Label)
		switch {
		case err == nil && p.Current() && p.Label == np.Label:
			return badRequest(CodeParticipantLabelInUse, "Participant label %q is in use by another participant of conference %s", np.Label, room.SID)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return s.internal(r, err)
		}
	}
	if np.CallSIDToCoach != "" {
		if room.SID == "" {
			return badRequest(CodeCoachedNotPresent, "Participant to be coached, call %s, is not present in conference %q: the conference has not started", np.CallSIDToCoach, name)
		}
		if err := s.coachTarget(r, room.SID, np.CallSIDToCoach); err != nil {
			return err
		}
	}
	if s.rooms == nil {
		return s.internal(r, errors.New("no interpreter to add participants"))
	}
	p, err := s.rooms.AddParticipant(r.ctx(), r.acct, name, np)
	switch {
	case errors.Is(err, voice.ErrConferenceNotFound):
		if room.SID == "" {
			return badRequest(CodeConferenceNotLive, "Conference %q does not exist or is completed", name)
		}
		return errConferenceNotLive(room)
	case errors.Is(err, voice.ErrClosed):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: "switchboard is shutting down: no new calls"}
	case errors.Is(err, voice.ErrBusy):
		return errBusy("conference " + name)
	case err != nil:
		return s.internal(r, err)
	}
	s.writeJSON(r, http.StatusCreated, toParticipantJSON(p))
	return nil
}
