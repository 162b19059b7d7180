package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// The Conference Insights history API (Twilio's insights.twilio.com/v1
// Conferences and their Participants; insights.v1.conference and
// insights.v1.conference.conference_participant in twilio_insights_v1.json).
// On Twilio the summaries appear after the conference ends and only with
// Voice Insights; switchboard serves them from its own records at once, for
// every conference, live or over. Unlike the 2010-04-01 Participants list,
// which holds only the participants in the room, every participant that ever
// joined is listed: each join of a call is a participant of its own.

// insightsConferencesPath is the path of the conference summaries.
const insightsConferencesPath = "/v1/Conferences"

// insightsParticipantPrefix is the SID prefix of an Insights participant.
const insightsParticipantPrefix = "CP"

// insightsTimeLayout is Insights' ISO 8601 time: "2021-10-08T02:58:51Z".
const insightsTimeLayout = "2006-01-02T15:04:05Z"

// Insights' processing_state: a summary is complete once its conference (or
// participant) is over, in_progress while it lasts. switchboard's records are
// complete the moment the conference ends (Twilio's may take minutes, or time
// out after 24 hours: "timeout", never seen here).
const (
	insightsProcessingComplete   = "complete"
	insightsProcessingInProgress = "in_progress"
)

// Insights' conference statuses (conference_enum_conference_status).
const (
	insightsStatusInProgress = "in_progress"
	insightsStatusNotStarted = "not_started"
	insightsStatusCompleted  = "completed"
	// insightsStatusTimeout is a summary Twilio gave up waiting for;
	// switchboard never has one.
	insightsStatusTimeout = "summary_timeout"
)

// insightsConferenceJSON is a Conference Summary, every field of the spec in
// its order. Fields switchboard has no source for are null: detected_issues
// and tag_info (no quality or behaviour analysis runs), and
// mixer_region_requested (the store keeps where a room is mixed, not whether
// that region was asked for).
type insightsConferenceJSON struct {
	ConferenceSID             string            `json:"conference_sid"`
	AccountSID                string            `json:"account_sid"`
	FriendlyName              *string           `json:"friendly_name"`
	CreateTime                *string           `json:"create_time"`
	StartTime                 *string           `json:"start_time"`
	EndTime                   *string           `json:"end_time"`
	DurationSeconds           *int              `json:"duration_seconds"`
	ConnectDurationSeconds    *int              `json:"connect_duration_seconds"`
	Status                    string            `json:"status"`
	MaxParticipants           *int              `json:"max_participants"`
	MaxConcurrentParticipants int               `json:"max_concurrent_participants"`
	UniqueParticipants        int               `json:"unique_participants"`
	EndReason                 *string           `json:"end_reason"`
	EndedBy                   *string           `json:"ended_by"`
	MixerRegion               *string           `json:"mixer_region"`
	MixerRegionRequested      *string           `json:"mixer_region_requested"`
	RecordingEnabled          bool              `json:"recording_enabled"`
	DetectedIssues            any               `json:"detected_issues"`
	Tags                      []string          `json:"tags"`
	TagInfo                   any               `json:"tag_info"`
	ProcessingState           string            `json:"processing_state"`
	URL                       string            `json:"url"`
	Links                     map[string]string `json:"links"`
}

// insightsParticipantJSON is a Conference Participant Summary, every field of
// the spec in its order. No call-quality metrics are measured (metrics null);
// country_code, the outbound queue figures and participant_region have no
// source and are null.
type insightsParticipantJSON struct {
	ParticipantSID      string             `json:"participant_sid"`
	Label               *string            `json:"label"`
	ConferenceSID       string             `json:"conference_sid"`
	CallSID             string             `json:"call_sid"`
	AccountSID          string             `json:"account_sid"`
	CallDirection       *string            `json:"call_direction"`
	From                *string            `json:"from"`
	To                  *string            `json:"to"`
	CallStatus          *string            `json:"call_status"`
	CountryCode         *string            `json:"country_code"`
	IsModerator         bool               `json:"is_moderator"`
	JoinTime            *string            `json:"join_time"`
	LeaveTime           *string            `json:"leave_time"`
	DurationSeconds     *int               `json:"duration_seconds"`
	OutboundQueueLength *int               `json:"outbound_queue_length"`
	OutboundTimeInQueue *int               `json:"outbound_time_in_queue"`
	JitterBufferSize    *string            `json:"jitter_buffer_size"`
	IsCoach             bool               `json:"is_coach"`
	CoachedParticipants []string           `json:"coached_participants"`
	ParticipantRegion   *string            `json:"participant_region"`
	ConferenceRegion    *string            `json:"conference_region"`
	CallType            string             `json:"call_type"`
	ProcessingState     string             `json:"processing_state"`
	Properties          map[string]bool    `json:"properties"`
	Events              map[string][]int64 `json:"events"`
	Metrics             any                `json:"metrics"`
	URL                 string             `json:"url"`
}

// insightsBase is the scheme and host of the absolute URLs Insights hands
// out (url, links, meta): Config.PublicURL, or the host the request came to.
func (s *server) insightsBase(r *request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func insightsTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	v := t.UTC().Format(insightsTimeLayout)
	return &v
}

// insightsSeconds is the whole seconds from a to b, rounded up as Insights'
// durations are (its examples give 76 for 75 s and a fraction); nil when
// either end is missing.
func insightsSeconds(a, b time.Time) *int {
	if a.IsZero() || b.IsZero() {
		return nil
	}
	d := b.Sub(a)
	if d < 0 {
		d = 0
	}
	n := int(d / time.Second)
	if d%time.Second > 0 {
		n++
	}
	return &n
}

func insightsOpt(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// insightsConferenceStatus maps a conference's status to Insights': init is
// not_started, in-progress in_progress, completed completed, except that a
// conference that ended without ever starting (a lone participant) stays
// not_started, as Insights reports such a start failure.
func insightsConferenceStatus(c store.Conference) string {
	switch c.Status {
	case store.ConferenceInProgress:
		return insightsStatusInProgress
	case store.ConferenceCompleted:
		if c.StartTime.IsZero() {
			return insightsStatusNotStarted
		}
		return insightsStatusCompleted
	}
	return insightsStatusNotStarted
}

// insightsEndReason writes a ReasonConferenceEnded value as Insights' end_reason
// (conference_enum_conference_end_reason): the same words with underscores.
func insightsEndReason(reason string) string { return strings.ReplaceAll(reason, "-", "_") }

// insightsEndReasons are the end_reason values Insights knows.
var insightsEndReasons = []string{
	store.ConferenceEndedLastLeft, store.ConferenceEndedViaAPI, store.ConferenceEndedEndOnExitLeft,
	store.ConferenceEndedLastKicked, store.ConferenceEndedEndOnExitKicked,
}

func (s *server) toInsightsConference(base string, c store.Conference) insightsConferenceJSON {
	url := base + insightsConferencesPath + "/" + c.SID
	j := insightsConferenceJSON{
		ConferenceSID:             c.SID,
		AccountSID:                c.AccountSID,
		FriendlyName:              insightsOpt(c.FriendlyName),
		CreateTime:                insightsTime(c.DateCreated),
		StartTime:                 insightsTime(c.StartTime),
		EndTime:                   insightsTime(c.EndTime),
		Status:                    insightsConferenceStatus(c),
		MaxConcurrentParticipants: c.MaxConcurrentParticipants,
		UniqueParticipants:        c.UniqueParticipants,
		EndedBy:                   insightsOpt(c.CallSIDEndingConference),
		MixerRegion:               insightsOpt(c.Region),
		RecordingEnabled:          c.Settings.Record == "record-from-start",
		Tags:                      c.Tags,
		ProcessingState:           insightsProcessingInProgress,
		URL:                       url,
		Links:                     map[string]string{"conference_participants": url + "/Participants"},
	}
	if c.MaxParticipants > 0 {
		j.MaxParticipants = &c.MaxParticipants
	}
	if c.Status == store.ConferenceCompleted {
		j.ProcessingState = insightsProcessingComplete
		j.DurationSeconds = insightsSeconds(c.DateCreated, c.EndTime)
		// The time between conference-start and conference-end: 0 for a
		// conference that never started.
		j.ConnectDurationSeconds = insightsSeconds(c.StartTime, c.EndTime)
		if j.ConnectDurationSeconds == nil && !c.EndTime.IsZero() {
			j.ConnectDurationSeconds = new(int)
		}
		if c.ReasonConferenceEnded != "" {
			j.EndReason = insightsOpt(insightsEndReason(c.ReasonConferenceEnded))
		}
	}
	return j
}

// ---- the conference's timeline ----

// Keys of a participant's events object, each a list of Unix times in
// milliseconds: Insights' names for the actions (mute, unmute, hold, unhold,
// coaching, coaching_stopped, modify_coached_participant), and for
// switchboard's speech detection and for a participant-modify that changed
// nothing else switchboard records, names of its own.
const (
	insightsEventMute            = "mute"
	insightsEventUnmute          = "unmute"
	insightsEventHold            = "hold"
	insightsEventUnhold          = "unhold"
	insightsEventCoaching        = "coaching"
	insightsEventCoachingStopped = "coaching_stopped"
	insightsEventModifyCoached   = "modify_coached_participant"
	insightsEventModify          = "modify"
	insightsEventSpeechStart     = "speech_start"
	insightsEventSpeechStop      = "speech_stop"
)

// insightsHistory is what a participant's events say beyond its row: the
// events object, whether it entered muted, and whom it coached.
type insightsHistory struct {
	events     map[string][]int64
	enterMuted *bool
	coached    bool
	coachCalls []string // the calls it coached, first coached first

	// the state after the events read so far
	muted, hold, coaching bool
	coachCall             string
}

func (h *insightsHistory) add(key string, t time.Time) {
	if h.events == nil {
		h.events = make(map[string][]int64)
	}
	h.events[key] = append(h.events[key], t.UnixMilli())
}

// insightsState is the part of a participant event's payload (by default a
// store.ParticipantChange) the timeline reads; absent fields stay nil.
type insightsState struct {
	Muted          *bool   `json:"muted"`
	Hold           *bool   `json:"hold"`
	Coaching       *bool   `json:"coaching"`
	CallSIDToCoach *string `json:"call_sid_to_coach"`
}

// apply reads one of the participant's events, in order. A mute, unmute,
// hold, unhold or speech event adds its key; any other (join, modify, leave)
// adds the changes its payload shows since the previous event: a join
// changes from nothing, so entering muted is a mute at the join, as Insights
// lists it. Coaching starting, stopping or changing target is read from
// every event. A participant-modify that shows no change adds "modify".
func (h *insightsHistory) apply(ev store.Event) {
	var st insightsState
	if len(ev.Payload) > 0 && json.Unmarshal(ev.Payload, &st) != nil {
		st = insightsState{}
	}
	n := h.count()
	toggle := func(now *bool, state *bool, on, off string) {
		if now == nil || *now == *state {
			return
		}
		*state = *now
		if *now {
			h.add(on, ev.Time)
		} else {
			h.add(off, ev.Time)
		}
	}
	named := func(key string, state *bool, v bool, given *bool) {
		h.add(key, ev.Time)
		*state = v
		if given != nil {
			*state = *given
		}
	}
	switch ev.Name {
	case store.ParticipantEventMute:
		named(insightsEventMute, &h.muted, true, st.Muted)
	case store.ParticipantEventUnmute:
		named(insightsEventUnmute, &h.muted, false, st.Muted)
	case store.ParticipantEventHold:
		named(insightsEventHold, &h.hold, true, st.Hold)
	case store.ParticipantEventUnhold:
		named(insightsEventUnhold, &h.hold, false, st.Hold)
	case store.ParticipantEventSpeechStart:
		h.add(insightsEventSpeechStart, ev.Time)
	case store.ParticipantEventSpeechStop:
		h.add(insightsEventSpeechStop, ev.Time)
	default:
		if ev.Name == store.ParticipantEventJoin && st.Muted != nil && h.enterMuted == nil {
			m := *st.Muted
			h.enterMuted = &m
		}
		toggle(st.Muted, &h.muted, insightsEventMute, insightsEventUnmute)
		toggle(st.Hold, &h.hold, insightsEventHold, insightsEventUnhold)
	}
	coachCall := h.coachCall
	if st.CallSIDToCoach != nil {
		coachCall = *st.CallSIDToCoach
	}
	wasCoaching := h.coaching
	toggle(st.Coaching, &h.coaching, insightsEventCoaching, insightsEventCoachingStopped)
	if wasCoaching && h.coaching && h.coachCall != "" && coachCall != h.coachCall {
		h.add(insightsEventModifyCoached, ev.Time)
	}
	h.coachCall = coachCall
	if h.coaching {
		h.coached = true
		if coachCall != "" && !slices.Contains(h.coachCalls, coachCall) {
			h.coachCalls = append(h.coachCalls, coachCall)
		}
	}
	if ev.Name == store.ParticipantEventModify && h.count() == n {
		h.add(insightsEventModify, ev.Time)
	}
}

func (h *insightsHistory) count() int {
	n := 0
	for _, ts := range h.events {
		n += len(ts)
	}
	return n
}

// insightsTimeline reads the events f selects (a conference's, or one
// participant's) and returns each participant's history, by participant SID.
func (s *server) insightsTimeline(r *request, f store.EventFilter) (map[string]*insightsHistory, error) {
	const batch = 1000
	out := make(map[string]*insightsHistory)
	var after int64
	for {
		evs, more, err := s.st.ListEvents(r.ctx(), f, after, batch)
		if err != nil {
			return nil, s.internal(r, err)
		}
		for _, ev := range evs {
			after = ev.Seq
			if ev.Type != store.EventParticipant || ev.ResourceSID == "" {
				continue
			}
			h := out[ev.ResourceSID]
			if h == nil {
				h = &insightsHistory{}
				out[ev.ResourceSID] = h
			}
			h.apply(ev)
		}
		if !more || len(evs) == 0 {
			return out, nil
		}
	}
}

// insightsCallStatus maps a participant's call status to Insights'
// call_status (conference_participant_enum_call_status).
func insightsCallStatus(cs store.CallStatus) *string {
	var v string
	switch cs {
	case store.CallQueued, store.CallRinging:
		v = "ringing"
	case store.CallInProgress:
		v = "answered"
	case store.CallCompleted:
		v = "completed"
	case store.CallBusy:
		v = "busy"
	case store.CallFailed:
		v = "fail"
	case store.CallNoAnswer:
		v = "noanswer"
	case store.CallCanceled:
		v = "canceled"
	default:
		return nil
	}
	return &v
}

func (s *server) toInsightsParticipant(base string, c store.Conference, p store.Participant, h *insightsHistory) insightsParticipantJSON {
	if h == nil {
		h = &insightsHistory{}
	}
	var dir *string
	switch {
	case p.Direction == store.DirectionInbound:
		dir = insightsOpt("inbound")
	case strings.HasPrefix(p.Direction, "outbound"):
		dir = insightsOpt("outbound")
	}
	props := map[string]bool{
		"start_conference_on_enter": p.StartConferenceOnEnter,
		"end_conference_on_exit":    p.EndConferenceOnExit,
		"beep_on_enter":             p.BeepOnEnter,
		"beep_on_exit":              p.BeepOnExit,
	}
	if h.enterMuted != nil {
		props["enter_muted"] = *h.enterMuted
	}
	coached := slices.Clone(h.coachCalls)
	if p.Coaching && p.CallSIDToCoach != "" && !slices.Contains(coached, p.CallSIDToCoach) {
		coached = append(coached, p.CallSIDToCoach)
	}
	if len(coached) == 0 {
		coached = nil
	}
	j := insightsParticipantJSON{
		ParticipantSID:   p.SID,
		Label:            insightsOpt(p.Label),
		ConferenceSID:    p.ConferenceSID,
		CallSID:          p.CallSID,
		AccountSID:       p.AccountSID,
		CallDirection:    dir,
		From:             insightsOpt(p.From),
		To:               insightsOpt(p.To),
		CallStatus:       insightsCallStatus(p.CallStatus),
		IsModerator:      p.IsModerator(),
		JoinTime:         insightsTime(p.JoinTime),
		LeaveTime:        insightsTime(p.LeaveTime),
		DurationSeconds:  insightsSeconds(p.JoinTime, p.LeaveTime),
		JitterBufferSize: insightsOpt(p.JitterBufferSize),
		IsCoach:          p.Coaching || h.coached,
		// The calls coached: call SIDs, as the spec describes the field.
		CoachedParticipants: coached,
		ConferenceRegion:    insightsOpt(c.Region),
		CallType:            "sip",
		ProcessingState:     insightsProcessingInProgress,
		Properties:          props,
		URL:                 base + insightsConferencesPath + "/" + c.SID + "/Participants/" + p.SID,
	}
	if len(h.events) > 0 {
		j.Events = h.events
	}
	if p.Status.Final() {
		j.ProcessingState = insightsProcessingComplete
	}
	return j
}

// ---- lookups ----

// insightsConference returns the conference the path names if the
// credentials reach it: the authenticated account's own, or (for a main
// account) one of its subaccounts'. Anything else is 404, whether it exists
// or not.
func (s *server) insightsConference(r *request) (store.Conference, error) {
	cs := r.PathValue("ConferenceSid")
	if !sid.Valid(sid.Conference, cs) {
		return store.Conference{}, errNotFound(r.URL.Path)
	}
	c, err := s.st.Conference(r.ctx(), r.auth.SID, cs)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Conference{}, s.internal(r, err)
	}
	if r.auth.IsMain() {
		var after *store.Cursor
		for {
			accts, more, err := s.st.ListAccounts(r.ctx(), store.AccountFilter{VisibleTo: r.auth.SID}, store.Page{Size: 200, After: after})
			if err != nil {
				return store.Conference{}, s.internal(r, err)
			}
			for _, a := range accts {
				if a.SID == r.auth.SID {
					continue
				}
				c, err := s.st.Conference(r.ctx(), a.SID, cs)
				if err == nil {
					return c, nil
				}
				if !errors.Is(err, store.ErrNotFound) {
					return store.Conference{}, s.internal(r, err)
				}
			}
			if !more || len(accts) == 0 {
				break
			}
			last := accts[len(accts)-1]
			after = &store.Cursor{DateCreated: last.DateCreated, SID: last.SID}
		}
	}
	return store.Conference{}, errNotFound(r.URL.Path)
}

// insightsScan returns one page of the rows fetch lists (fetch is a store
// list with its filter bound) that keep accepts, for the filters the store
// cannot apply itself; more reports matching rows beyond the page in the
// direction of travel, as the store's does. keep nil is the store's page.
func insightsScan[T any](lr listRequest, fetch func(store.Page) ([]T, bool, error), keep func(T) bool, cursor func(T) store.Cursor) ([]T, bool, error) {
	if keep == nil {
		return fetch(lr.storePage())
	}
	batch := min(max(lr.pageSize+1, 200), maxPageSize)
	var got []T
	if lr.before != nil {
		// Backwards from the cursor: the matches nearest to it.
		before := *lr.before
		for {
			rows, more, err := fetch(store.Page{Size: batch, Before: &before, Desc: lr.desc})
			if err != nil {
				return nil, false, err
			}
			for i := len(rows) - 1; i >= 0; i-- {
				if !keep(rows[i]) {
					continue
				}
				if len(got) == lr.pageSize {
					slices.Reverse(got)
					return got, true, nil
				}
				got = append(got, rows[i])
			}
			if !more || len(rows) == 0 {
				slices.Reverse(got)
				return got, false, nil
			}
			before = cursor(rows[0])
		}
	}
	after := lr.after
	skip := 0
	if after == nil {
		skip = lr.page * lr.pageSize
	}
	for {
		rows, more, err := fetch(store.Page{Size: batch, After: after, Desc: lr.desc})
		if err != nil {
			return nil, false, err
		}
		for _, row := range rows {
			if !keep(row) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			if len(got) == lr.pageSize {
				return got, true, nil
			}
			got = append(got, row)
		}
		if !more || len(rows) == 0 {
			return got, false, nil
		}
		c := cursor(rows[len(rows)-1])
		after = &c
	}
}

// insightsMeta is Insights' list "meta": absolute page URLs (the filters,
// PageSize, Page and PageToken, as in the 2010-04-01 URIs), the page, its
// size and the key holding the items.
func (lr listRequest) insightsMeta(url, key string, n int, first, last store.Cursor, more bool) map[string]any {
	env := lr.envelope(url, key, nil, n, first, last, more)
	return map[string]any{
		"first_page_url":    env["first_page_uri"],
		"key":               key,
		"next_page_url":     env["next_page_uri"],
		"page":              lr.page,
		"page_size":         lr.pageSize,
		"previous_page_url": env["previous_page_uri"],
		"url":               env["uri"],
	}
}

// insightsSplit reads a comma-separated filter value.
func insightsSplit(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ---- GET /v1/Conferences ----

// insightsConferenceFilters are the list's filters, in the (alphabetical)
// order Insights' page URLs carry them.
var insightsConferenceFilters = []string{
	"ConferenceSid", "CreatedAfter", "CreatedBefore", "DetectedIssues", "EndReason",
	"FriendlyName", "MixerRegion", "Status", "Subaccount", "Tags",
}

// listInsightsConferences serves GET /v1/Conferences: the account's
// conferences (a subaccount's with Subaccount), newest first.
func (s *server) listInsightsConferences(r *request) error {
	lr, err := parseList(r, sid.Conference, insightsConferenceFilters...)
	if err != nil {
		return err
	}
	lr.desc = true
	f := store.ConferenceFilter{AccountSID: r.auth.SID}
	var keeps []func(store.Conference) bool
	none := false // a filter nothing can match
	var conferenceSID string
	for _, kv := range lr.filters {
		name, v := kv[0], kv[1]
		switch name {
		case "ConferenceSid":
			conferenceSID = v
			if !sid.Valid(sid.Conference, v) {
				none = true
			}
		case "CreatedAfter", "CreatedBefore":
			t, ok := parseFilterDate(v)
			if !ok {
				return badRequest(CodeInvalidParameter, "Invalid %s: %q is not an ISO 8601 date-time", name, v)
			}
			if name == "CreatedAfter" {
				f.DateCreatedAfter = t
			} else {
				f.DateCreatedBefore = t
			}
		case "DetectedIssues":
			// switchboard detects no quality, region or behaviour issues.
			none = true
		case "EndReason":
			reason := strings.ReplaceAll(v, "_", "-")
			if !slices.Contains(insightsEndReasons, reason) {
				return badRequest(CodeInvalidParameter, "Invalid EndReason: %q", v)
			}
			f.ReasonConferenceEnded = reason
		case "FriendlyName":
			f.FriendlyName = v
		case "MixerRegion":
			f.Region = v
		case "Status":
			switch v {
			case insightsStatusInProgress:
				f.Status = store.ConferenceInProgress
			case insightsStatusCompleted:
				f.Status = store.ConferenceCompleted
			case insightsStatusNotStarted:
			case insightsStatusTimeout:
				none = true
			default:
				return badRequest(CodeInvalidParameter, "Invalid Status: %q", v)
			}
			keeps = append(keeps, func(c store.Conference) bool { return insightsConferenceStatus(c) == v })
		case "Subaccount":
			acct, err := s.reach(r, v)
			if err != nil {
				return err
			}
			f.AccountSID = acct.SID
		case "Tags":
			tags := insightsSplit(v)
			keeps = append(keeps, func(c store.Conference) bool {
				for _, t := range tags {
					if slices.Contains(c.Tags, t) {
						return true
					}
				}
				return false
			})
		}
	}
	keep := func(c store.Conference) bool {
		for _, k := range keeps {
			if !k(c) {
				return false
			}
		}
		return true
	}
	var cs []store.Conference
	var more bool
	switch {
	case none:
	case conferenceSID != "":
		// One conference at most, on the first page.
		c, err := s.st.Conference(r.ctx(), f.AccountSID, conferenceSID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return s.internal(r, err)
		case lr.after == nil && lr.before == nil && lr.page == 0 && insightsConferenceMatches(f, c) && keep(c):
			cs = []store.Conference{c}
		}
	default:
		var k func(store.Conference) bool
		if len(keeps) > 0 {
			k = keep
		}
		cs, more, err = insightsScan(lr, func(p store.Page) ([]store.Conference, bool, error) {
			return s.st.ListConferences(r.ctx(), f, p)
		}, k, func(c store.Conference) store.Cursor { return store.Cursor{DateCreated: c.DateCreated, SID: c.SID} })
		if err != nil {
			return s.internal(r, err)
		}
	}
	base := s.insightsBase(r)
	items := make([]insightsConferenceJSON, len(cs))
	for i, c := range cs {
		items[i] = s.toInsightsConference(base, c)
	}
	var first, last store.Cursor
	if len(cs) > 0 {
		first = store.Cursor{DateCreated: cs[0].DateCreated, SID: cs[0].SID}
		last = store.Cursor{DateCreated: cs[len(cs)-1].DateCreated, SID: cs[len(cs)-1].SID}
	}
	s.writeJSON(r, http.StatusOK, map[string]any{
		"conferences": items,
		"meta":        lr.insightsMeta(base+insightsConferencesPath, "conferences", len(cs), first, last, more),
	})
	return nil
}

// insightsConferenceMatches applies the store filter f to one conference, for
// the ConferenceSid filter (which fetches it directly).
func insightsConferenceMatches(f store.ConferenceFilter, c store.Conference) bool {
	switch {
	case f.FriendlyName != "" && c.FriendlyName != f.FriendlyName,
		f.Status != "" && c.Status != f.Status,
		f.Region != "" && c.Region != f.Region,
		f.ReasonConferenceEnded != "" && c.ReasonConferenceEnded != f.ReasonConferenceEnded,
		!f.DateCreatedAfter.IsZero() && c.DateCreated.Before(f.DateCreatedAfter),
		!f.DateCreatedBefore.IsZero() && c.DateCreated.After(f.DateCreatedBefore):
		return false
	}
	return true
}

// ---- GET /v1/Conferences/{ConferenceSid} ----

func (s *server) fetchInsightsConference(r *request) error {
	c, err := s.insightsConference(r)
	if err != nil {
		return err
	}
	s.writeJSON(r, http.StatusOK, s.toInsightsConference(s.insightsBase(r), c))
	return nil
}

// ---- GET /v1/Conferences/{ConferenceSid}/Participants ----

// insightsParticipantFilters are the participant list's filters, in the
// order page URLs carry them.
var insightsParticipantFilters = []string{"Events", "Label", "ParticipantSid"}

// listInsightsParticipants serves GET /v1/Conferences/{ConferenceSid}/Participants:
// every participant that ever joined the conference, departed ones
// included, in the order they were added. Events keeps the participants
// whose events object has one of the (comma-separated) keys.
func (s *server) listInsightsParticipants(r *request) error {
	c, err := s.insightsConference(r)
	if err != nil {
		return err
	}
	lr, err := parseList(r, insightsParticipantPrefix, insightsParticipantFilters...)
	if err != nil {
		return err
	}
	timeline, err := s.insightsTimeline(r, store.EventFilter{AccountSID: c.AccountSID, ConferenceSID: c.SID})
	if err != nil {
		return err
	}
	f := store.ParticipantFilter{AccountSID: c.AccountSID, ConferenceSID: c.SID}
	var participantSID string
	var events []string
	for _, kv := range lr.filters {
		switch kv[0] {
		case "Events":
			events = insightsSplit(kv[1])
		case "Label":
			f.Label = kv[1]
		case "ParticipantSid":
			participantSID = kv[1]
		}
	}
	var keep func(store.Participant) bool
	if events != nil {
		keep = func(p store.Participant) bool {
			h := timeline[p.SID]
			if h == nil {
				return false
			}
			for _, e := range events {
				if len(h.events[e]) > 0 {
					return true
				}
			}
			return false
		}
	}
	var ps []store.Participant
	var more bool
	if participantSID != "" {
		// One participant at most, on the first page.
		if sid.Valid(insightsParticipantPrefix, participantSID) && lr.after == nil && lr.before == nil && lr.page == 0 {
			p, err := s.st.ParticipantBySID(r.ctx(), c.AccountSID, participantSID)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return s.internal(r, err)
			case p.ConferenceSID == c.SID && (f.Label == "" || p.Label == f.Label) && (keep == nil || keep(p)):
				ps = []store.Participant{p}
			}
		}
	} else {
		ps, more, err = insightsScan(lr, func(p store.Page) ([]store.Participant, bool, error) {
			return s.st.ListParticipants(r.ctx(), f, p)
		}, keep, func(p store.Participant) store.Cursor { return store.Cursor{DateCreated: p.DateCreated, SID: p.SID} })
		if err != nil {
			return s.internal(r, err)
		}
	}
	base := s.insightsBase(r)
	items := make([]insightsParticipantJSON, len(ps))
	for i, p := range ps {
		items[i] = s.toInsightsParticipant(base, c, p, timeline[p.SID])
	}
	var first, last store.Cursor
	if len(ps) > 0 {
		first = store.Cursor{DateCreated: ps[0].DateCreated, SID: ps[0].SID}
		last = store.Cursor{DateCreated: ps[len(ps)-1].DateCreated, SID: ps[len(ps)-1].SID}
	}
	path := base + insightsConferencesPath + "/" + c.SID + "/Participants"
	s.writeJSON(r, http.StatusOK, map[string]any{
		"participants": items,
		"meta":         lr.insightsMeta(path, "participants", len(ps), first, last, more),
	})
	return nil
}

// ---- GET /v1/Conferences/{ConferenceSid}/Participants/{ParticipantSid} ----

// fetchInsightsParticipant serves one participant of the conference. Its
// Events and Metrics parameters (Insights' switches for those objects) are
// accepted; the events object is always given and there are no metrics.
func (s *server) fetchInsightsParticipant(r *request) error {
	c, err := s.insightsConference(r)
	if err != nil {
		return err
	}
	ps := r.PathValue("ParticipantSid")
	if !sid.Valid(insightsParticipantPrefix, ps) {
		return errNotFound(r.URL.Path)
	}
	p, err := s.st.ParticipantBySID(r.ctx(), c.AccountSID, ps)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path)
	case err != nil:
		return s.internal(r, err)
	}
	if p.ConferenceSID != c.SID {
		return errNotFound(r.URL.Path)
	}
	timeline, err := s.insightsTimeline(r, store.EventFilter{AccountSID: c.AccountSID, ResourceSID: p.SID})
	if err != nil {
		return err
	}
	s.writeJSON(r, http.StatusOK, s.toInsightsParticipant(s.insightsBase(r), c, p, timeline[p.SID]))
	return nil
}
