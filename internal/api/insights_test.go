package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	insights "github.com/twilio/twilio-go/rest/insights/v1"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// insightsT0 is when seed 003's conference begins (15:13:35 in Tokyo).
var insightsT0 = time.Date(2022, 2, 18, 6, 13, 35, 0, time.UTC)

// insightsScenario is seed 003's Flex conference, written to the store as
// the conference engine writes it: a customer calls in, an agent answers, a
// supervisor joins muted to monitor and starts coaching the agent, leaves;
// the agent holds the customer and leaves (a transfer); the supervisor comes
// back on a new call, the customer is taken off hold, and both hang up.
type insightsScenario struct {
	conf                                     store.Conference
	customer, agent, supervisor, supervisor2 store.Participant
}

func insightsAt(s float64) time.Time {
	return insightsT0.Add(time.Duration(s * float64(time.Second)))
}

func newInsightsParticipant(from, to, direction, label string, at time.Time) store.Participant {
	return store.Participant{
		SID: sid.New("CP"), CallSID: sid.New(sid.Call), Label: label, From: from, To: to, Direction: direction,
		CallStatus: store.CallInProgress, Status: store.ParticipantConnected,
		BeepOnEnter: true, BeepOnExit: true, JitterBufferSize: "large",
		JoinTime: at, DateCreated: at, DateUpdated: at,
	}
}

func insightsLeave(p store.Participant, at time.Time) store.Participant {
	p.Status, p.CallStatus, p.ReasonParticipantLeft = store.ParticipantComplete, store.CallCompleted, store.ParticipantLeftHungUp
	p.LeaveTime, p.DateUpdated = at, at
	return p
}

func buildInsightsScenario(t *testing.T, st store.Store, account, name string) insightsScenario {
	t.Helper()
	save := func(c store.Conference, at time.Time, parts []store.Participant, evs ...store.Event) store.Conference {
		t.Helper()
		c.DateUpdated = at
		got, err := st.SaveConference(t.Context(), c, parts, evs, nil)
		if err != nil {
			t.Fatalf("SaveConference at %v: %v", at, err)
		}
		return got
	}
	join := func(p store.Participant) store.Event {
		return store.Event{Type: store.EventParticipant, Name: store.ParticipantEventJoin, ResourceSID: p.SID}
	}
	ev := func(p store.Participant, name string) store.Event {
		return store.Event{Type: store.EventParticipant, Name: name, ResourceSID: p.SID}
	}
	var sc insightsScenario
	c := store.Conference{
		SID: sid.New(sid.Conference), AccountSID: account, FriendlyName: name,
		Status: store.ConferenceInit, APIVersion: "2010-04-01", Region: "us1", MaxParticipants: 250,
		DateCreated: insightsAt(0),
	}
	customer := newInsightsParticipant("+818012345678", "+815012345678", store.DirectionInbound, "customer", insightsAt(0))
	customer.EndConferenceOnExit = true
	c = save(c, insightsAt(0), []store.Participant{customer}, join(customer))
	agent := newInsightsParticipant("+815012345678", "sip:sales@pbx.example.com", store.DirectionOutbound, "agent", insightsAt(0.2))
	agent.StartConferenceOnEnter = true
	c.Status, c.StartTime = store.ConferenceInProgress, insightsAt(0.2)
	c = save(c, insightsAt(0.2), []store.Participant{agent}, join(agent), store.Event{Name: store.ConferenceEventStart})

	// The supervisor monitors, muted, then coaches the agent.
	sup := newInsightsParticipant("+815012345678", "sip:supervisor@pbx.example.com", store.DirectionOutbound, "supervisor", insightsAt(25))
	sup.Muted = true
	c = save(c, insightsAt(25), []store.Participant{sup}, join(sup))
	sup.Muted, sup.Coaching, sup.CallSIDToCoach = false, true, agent.CallSID
	c = save(c, insightsAt(35), []store.Participant{sup}, ev(sup, store.ParticipantEventModify))
	sup = insightsLeave(sup, insightsAt(49))
	c = save(c, insightsAt(49), []store.Participant{sup}, ev(sup, store.ParticipantEventLeave))

	// The agent holds the customer and leaves.
	customer.Hold = true
	c = save(c, insightsAt(70), []store.Participant{customer}, ev(customer, store.ParticipantEventHold))
	agent = insightsLeave(agent, insightsAt(74.2))
	c = save(c, insightsAt(74.2), []store.Participant{agent}, ev(agent, store.ParticipantEventLeave))

	// The supervisor takes the call: a new participant.
	sup2 := newInsightsParticipant("+815012345678", "sip:supervisor@pbx.example.com", store.DirectionOutbound, "supervisor", insightsAt(81))
	customer.Hold = false
	c = save(c, insightsAt(81), []store.Participant{sup2, customer},
		join(sup2), ev(customer, store.ParticipantEventUnhold))
	c = save(c, insightsAt(83), []store.Participant{customer}, ev(customer, store.ParticipantEventSpeechStart))

	sup2 = insightsLeave(sup2, insightsAt(94.5))
	customer = insightsLeave(customer, insightsAt(96))
	c.Status, c.EndTime = store.ConferenceCompleted, insightsAt(96)
	c.ReasonConferenceEnded, c.Reason = store.ConferenceEndedEndOnExitLeft, "Participant "+customer.CallSID+" with endConferenceOnExit left the conference"
	c.CallSIDEndingConference, c.ParticipantLabelEndingConference = customer.CallSID, "customer"
	c = save(c, insightsAt(96), []store.Participant{sup2, customer},
		ev(sup2, store.ParticipantEventLeave), ev(customer, store.ParticipantEventLeave),
		store.Event{Name: store.ConferenceEventEnd})
	sc.conf, sc.customer, sc.agent, sc.supervisor, sc.supervisor2 = c, customer, agent, sup, sup2
	return sc
}

// liveInsightsConference is a conference still in progress, one participant
// in the room, created after seed 003's.
func liveInsightsConference(t *testing.T, st store.Store, account, name string) (store.Conference, store.Participant) {
	t.Helper()
	at := insightsAt(3600)
	c := store.Conference{
		SID: sid.New(sid.Conference), AccountSID: account, FriendlyName: name,
		Status: store.ConferenceInProgress, APIVersion: "2010-04-01", Region: "ie1", MaxParticipants: 10,
		StartTime: at, DateCreated: at, DateUpdated: at,
		Settings: store.ConferenceSettings{Record: "record-from-start"},
	}
	p := newInsightsParticipant("+14155550100", "support", store.DirectionInbound, "", at)
	c, err := st.SaveConference(t.Context(), c, []store.Participant{p},
		[]store.Event{{Type: store.EventParticipant, Name: store.ParticipantEventJoin}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

func TestInsightsConferenceSummary(t *testing.T) {
	e := newEnv(t)
	sc := buildInsightsScenario(t, e.st, e.main.SID, "flex")
	live, _ := liveInsightsConference(t, e.st, e.main.SID, "standup")
	c := e.as(e.main)

	got, err := c.InsightsV1.FetchConference(sc.conf.SID)
	if err != nil {
		t.Fatalf("FetchConference: %v", err)
	}
	confURL := "http://127.0.0.1/v1/Conferences/" + sc.conf.SID
	want := &insights.InsightsV1Conference{
		ConferenceSid:             ptr(sc.conf.SID),
		AccountSid:                ptr(e.main.SID),
		FriendlyName:              ptr("flex"),
		CreateTime:                ptr(insightsT0),
		StartTime:                 ptr(insightsT0),
		EndTime:                   ptr(insightsAt(96)),
		DurationSeconds:           ptr(96),
		ConnectDurationSeconds:    ptr(96), // 95.8 s, rounded up
		Status:                    ptr("completed"),
		MaxParticipants:           ptr(250),
		MaxConcurrentParticipants: ptr(3),
		UniqueParticipants:        ptr(3),
		EndReason:                 ptr("participant_with_end_conference_on_exit_left"),
		EndedBy:                   ptr(sc.customer.CallSID),
		MixerRegion:               ptr("us1"),
		RecordingEnabled:          ptr(false),
		ProcessingState:           ptr("complete"),
		Url:                       ptr(confURL),
		Links:                     &map[string]interface{}{"conference_participants": confURL + "/Participants"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("conference summary (-want +got):\n%s", diff)
	}

	lg, err := c.InsightsV1.FetchConference(live.SID)
	if err != nil {
		t.Fatal(err)
	}
	if *lg.Status != "in_progress" || *lg.ProcessingState != "in_progress" || lg.EndTime != nil || lg.DurationSeconds != nil ||
		lg.EndReason != nil || !*lg.RecordingEnabled || *lg.MixerRegion != "ie1" || *lg.MaxParticipants != 10 ||
		*lg.UniqueParticipants != 1 || *lg.MaxConcurrentParticipants != 1 {
		t.Errorf("live conference = %+v", lg)
	}

	// Unknown and malformed SIDs are 404 in the v1 error shape.
	for _, s := range []string{sid.New(sid.Conference), "CFnot-a-sid"} {
		_, err := c.InsightsV1.FetchConference(s)
		wantTwilioError(t, err, http.StatusNotFound, 20404)
	}
	// Wrong credentials are 401.
	_, err = e.client(e.main.SID, strings.Repeat("0", 32), e.main.SID).InsightsV1.FetchConference(sc.conf.SID)
	wantTwilioError(t, err, http.StatusUnauthorized, 20003)
}

func TestInsightsParticipantsHistory(t *testing.T) {
	e := newEnv(t)
	sc := buildInsightsScenario(t, e.st, e.main.SID, "flex")
	c := e.as(e.main)

	got, err := c.InsightsV1.ListConferenceParticipant(sc.conf.SID, nil)
	if err != nil {
		t.Fatalf("ListConferenceParticipant: %v", err)
	}
	// Every join, departed ones included, in join order: the article's four
	// rows (74, 96, 24 and 14 seconds).
	type row struct {
		Sid, Call, Label, From, To, Direction, Status string
		Join, Leave                                   time.Time
		Duration                                      int
		Moderator, Coach                              bool
		Events                                        map[string]any
	}
	var rows []row
	for _, p := range got {
		r := row{
			Sid: *p.ParticipantSid, Call: *p.CallSid, Label: *p.Label, From: *p.From, To: *p.To,
			Direction: *p.CallDirection, Status: *p.CallStatus,
			Join: *p.JoinTime, Leave: *p.LeaveTime, Duration: *p.DurationSeconds,
			Moderator: *p.IsModerator, Coach: *p.IsCoach,
		}
		if p.Events != nil {
			r.Events = (*p.Events).(map[string]any)
		}
		rows = append(rows, r)
	}
	ms := func(s float64) any { return float64(insightsAt(s).UnixMilli()) }
	want := []row{
		{sc.customer.SID, sc.customer.CallSID, "customer", "+818012345678", "+815012345678", "inbound", "completed",
			insightsT0, insightsAt(96), 96, true, false,
			map[string]any{"hold": []any{ms(70)}, "unhold": []any{ms(81)}, "speech_start": []any{ms(83)}}},
		{sc.agent.SID, sc.agent.CallSID, "agent", "+815012345678", "sip:sales@pbx.example.com", "outbound", "completed",
			insightsT0, insightsAt(74), 74, true, false, nil},
		{sc.supervisor.SID, sc.supervisor.CallSID, "supervisor", "+815012345678", "sip:supervisor@pbx.example.com", "outbound", "completed",
			insightsAt(25), insightsAt(49), 24, false, true,
			map[string]any{"mute": []any{ms(25)}, "unmute": []any{ms(35)}, "coaching": []any{ms(35)}}},
		{sc.supervisor2.SID, sc.supervisor2.CallSID, "supervisor", "+815012345678", "sip:supervisor@pbx.example.com", "outbound", "completed",
			insightsAt(81), insightsAt(94), 14, false, false, nil},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("participants (-want +got):\n%s", diff)
	}

	// One participant: the coach, with what it coached and how it entered.
	sup, err := c.InsightsV1.FetchConferenceParticipant(sc.conf.SID, sc.supervisor.SID, nil)
	if err != nil {
		t.Fatalf("FetchConferenceParticipant: %v", err)
	}
	if diff := cmp.Diff(&got[2], sup); diff != "" {
		t.Errorf("fetched participant differs from listed (-list +fetch):\n%s", diff)
	}
	wantProps := map[string]any{
		"start_conference_on_enter": false, "end_conference_on_exit": false, "enter_muted": true,
		"beep_on_enter": true, "beep_on_exit": true,
	}
	if diff := cmp.Diff(wantProps, *sup.Properties); diff != "" {
		t.Errorf("properties (-want +got):\n%s", diff)
	}
	if sup.CoachedParticipants == nil || !slices.Equal(*sup.CoachedParticipants, []string{sc.agent.CallSID}) {
		t.Errorf("coached_participants = %v, want [%s]", sup.CoachedParticipants, sc.agent.CallSID)
	}
	if *sup.CallType != "sip" || *sup.ProcessingState != "complete" || *sup.ConferenceRegion != "us1" ||
		*sup.JitterBufferSize != "large" || *sup.ConferenceSid != sc.conf.SID || *sup.AccountSid != e.main.SID ||
		sup.Metrics != nil || sup.CountryCode != nil ||
		*sup.Url != "http://127.0.0.1/v1/Conferences/"+sc.conf.SID+"/Participants/"+sc.supervisor.SID {
		t.Errorf("supervisor = %+v", sup)
	}
	// With Insights' switches, the same.
	withEvents, err := c.InsightsV1.FetchConferenceParticipant(sc.conf.SID, sc.supervisor.SID,
		(&insights.FetchConferenceParticipantParams{}).SetEvents("mute").SetMetrics("inbound"))
	if err != nil || !cmp.Equal(sup, withEvents) {
		t.Errorf("fetch with Events, Metrics = %+v, %v", withEvents, err)
	}

	// Filters.
	filters := []struct {
		name   string
		params insights.ListConferenceParticipantParams
		want   []string
	}{
		{"label", insights.ListConferenceParticipantParams{Label: ptr("supervisor")}, []string{sc.supervisor.SID, sc.supervisor2.SID}},
		{"participant", insights.ListConferenceParticipantParams{ParticipantSid: ptr(sc.agent.SID)}, []string{sc.agent.SID}},
		{"participant and label", insights.ListConferenceParticipantParams{ParticipantSid: ptr(sc.agent.SID), Label: ptr("customer")}, []string{}},
		{"hold events", insights.ListConferenceParticipantParams{Events: ptr("hold")}, []string{sc.customer.SID}},
		{"mute or hold", insights.ListConferenceParticipantParams{Events: ptr("mute,hold")}, []string{sc.customer.SID, sc.supervisor.SID}},
		{"events paged", insights.ListConferenceParticipantParams{Events: ptr("mute,hold"), PageSize: ptr(1)}, []string{sc.customer.SID, sc.supervisor.SID}},
		{"unknown participant", insights.ListConferenceParticipantParams{ParticipantSid: ptr(sid.New("CP"))}, []string{}},
	}
	for _, tt := range filters {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := c.InsightsV1.ListConferenceParticipant(sc.conf.SID, &tt.params)
			if err != nil {
				t.Fatal(err)
			}
			sids := []string{}
			for _, p := range ps {
				sids = append(sids, *p.ParticipantSid)
			}
			if diff := cmp.Diff(tt.want, sids); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// A participant of another conference is not this one's.
	other, otherP := liveInsightsConference(t, e.st, e.main.SID, "other")
	_, err = c.InsightsV1.FetchConferenceParticipant(sc.conf.SID, otherP.SID, nil)
	wantTwilioError(t, err, http.StatusNotFound, 20404)
	if _, err := c.InsightsV1.FetchConferenceParticipant(other.SID, otherP.SID, nil); err != nil {
		t.Errorf("fetch in its own conference: %v", err)
	}
	_, err = c.InsightsV1.FetchConferenceParticipant(sc.conf.SID, "CPnope", nil)
	wantTwilioError(t, err, http.StatusNotFound, 20404)
	_, err = c.InsightsV1.ListConferenceParticipant(sid.New(sid.Conference), nil)
	wantTwilioError(t, err, http.StatusNotFound, 20404)
}

func TestInsightsPaging(t *testing.T) {
	e := newEnv(t)
	sc := buildInsightsScenario(t, e.st, e.main.SID, "flex")
	c := e.as(e.main)

	page, err := c.InsightsV1.PageConferenceParticipant(sc.conf.SID, &insights.ListConferenceParticipantParams{PageSize: ptr(2)}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://127.0.0.1/v1/Conferences/" + sc.conf.SID + "/Participants"
	if len(page.Participants) != 2 || *page.Participants[0].ParticipantSid != sc.customer.SID ||
		page.Meta.Key != "participants" || page.Meta.Page != 0 || page.Meta.PageSize != 2 ||
		page.Meta.FirstPageUrl != base+"?PageSize=2&Page=0" || page.Meta.Url != base+"?PageSize=2&Page=0" ||
		page.Meta.PreviousPageUrl != nil || page.Meta.NextPageUrl == nil {
		t.Fatalf("first page = %d items, meta %+v", len(page.Participants), page.Meta)
	}
	next := *page.Meta.NextPageUrl
	if !strings.HasPrefix(next, base+"?PageSize=2&Page=1&PageToken=PA"+sc.agent.SID) {
		t.Errorf("next_page_url = %q", next)
	}

	// The helper library follows next_page_url to the end.
	var sids []string
	all, err := c.InsightsV1.ListConferenceParticipant(sc.conf.SID, &insights.ListConferenceParticipantParams{PageSize: ptr(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		sids = append(sids, *p.ParticipantSid)
	}
	if diff := cmp.Diff([]string{sc.customer.SID, sc.agent.SID, sc.supervisor.SID, sc.supervisor2.SID}, sids); diff != "" {
		t.Errorf("all pages (-want +got):\n%s", diff)
	}
	limited, err := c.InsightsV1.ListConferenceParticipant(sc.conf.SID, &insights.ListConferenceParticipantParams{Limit: ptr(3)})
	if err != nil || len(limited) != 3 {
		t.Errorf("Limit 3 = %d, %v", len(limited), err)
	}

	// The second page, its links both ways, then back.
	var p2 struct {
		Participants []map[string]any `json:"participants"`
		Meta         map[string]any   `json:"meta"`
	}
	insightsGet(t, e, e.main, strings.TrimPrefix(next, "http://127.0.0.1"), http.StatusOK, &p2)
	if len(p2.Participants) != 2 || p2.Participants[0]["participant_sid"] != sc.supervisor.SID ||
		p2.Meta["page"] != float64(1) || p2.Meta["next_page_url"] != nil || p2.Meta["previous_page_url"] == nil {
		t.Fatalf("second page = %+v", p2)
	}
	var p1 struct {
		Participants []map[string]any `json:"participants"`
	}
	insightsGet(t, e, e.main, strings.TrimPrefix(p2.Meta["previous_page_url"].(string), "http://127.0.0.1"), http.StatusOK, &p1)
	if len(p1.Participants) != 2 || p1.Participants[1]["participant_sid"] != sc.agent.SID {
		t.Errorf("previous page = %+v", p1)
	}
	// Page without a token skips Page*PageSize rows.
	insightsGet(t, e, e.main, "/v1/Conferences/"+sc.conf.SID+"/Participants?PageSize=3&Page=1", http.StatusOK, &p1)
	if len(p1.Participants) != 1 || p1.Participants[0]["participant_sid"] != sc.supervisor2.SID {
		t.Errorf("Page=1 = %+v", p1)
	}

	// Bad paging parameters.
	_, err = c.InsightsV1.PageConferenceParticipant(sc.conf.SID, &insights.ListConferenceParticipantParams{PageSize: ptr(1001)}, "", "")
	wantTwilioError(t, err, http.StatusBadRequest, 20007)
	_, err = c.InsightsV1.PageConference(nil, "PAbogus", "1")
	wantTwilioError(t, err, http.StatusBadRequest, 21481)
}

func TestInsightsConferenceList(t *testing.T) {
	e := newEnv(t)
	sc := buildInsightsScenario(t, e.st, e.main.SID, "flex")
	live, _ := liveInsightsConference(t, e.st, e.main.SID, "standup")
	// A conference that ended before it started: not_started, tagged.
	lone := store.Conference{
		SID: sid.New(sid.Conference), AccountSID: e.main.SID, FriendlyName: "lonely",
		Status: store.ConferenceCompleted, APIVersion: "2010-04-01", Region: "us1", MaxParticipants: 250,
		EndTime: insightsAt(1810), ReasonConferenceEnded: store.ConferenceEndedLastLeft,
		Tags: []string{"no_concurrent_participants"}, DateCreated: insightsAt(1800), DateUpdated: insightsAt(1810),
	}
	if _, err := e.st.SaveConference(t.Context(), lone, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	c := e.as(e.main)

	tests := []struct {
		name   string
		params insights.ListConferenceParams
		want   []string
	}{
		{"all, newest first", insights.ListConferenceParams{}, []string{live.SID, lone.SID, sc.conf.SID}},
		{"paged", insights.ListConferenceParams{PageSize: ptr(1)}, []string{live.SID, lone.SID, sc.conf.SID}},
		{"completed", insights.ListConferenceParams{Status: ptr("completed")}, []string{sc.conf.SID}},
		{"not started", insights.ListConferenceParams{Status: ptr("not_started"), PageSize: ptr(1)}, []string{lone.SID}},
		{"in progress", insights.ListConferenceParams{Status: ptr("in_progress")}, []string{live.SID}},
		{"timed out", insights.ListConferenceParams{Status: ptr("summary_timeout")}, []string{}},
		{"friendly name", insights.ListConferenceParams{FriendlyName: ptr("flex")}, []string{sc.conf.SID}},
		{"conference sid", insights.ListConferenceParams{ConferenceSid: ptr(sc.conf.SID)}, []string{sc.conf.SID}},
		{"conference sid and status", insights.ListConferenceParams{ConferenceSid: ptr(sc.conf.SID), Status: ptr("in_progress")}, []string{}},
		{"mixer region", insights.ListConferenceParams{MixerRegion: ptr("ie1")}, []string{live.SID}},
		{"end reason", insights.ListConferenceParams{EndReason: ptr("last_participant_left")}, []string{lone.SID}},
		{"tags", insights.ListConferenceParams{Tags: ptr("no_concurrent_participants")}, []string{lone.SID}},
		{"detected issues", insights.ListConferenceParams{DetectedIssues: ptr("call_quality")}, []string{}},
		{"created after", insights.ListConferenceParams{CreatedAfter: ptr(insightsAt(1).Format(time.RFC3339))}, []string{live.SID, lone.SID}},
		{"created before", insights.ListConferenceParams{CreatedBefore: ptr(insightsAt(1800).Format(time.RFC3339))}, []string{lone.SID, sc.conf.SID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := c.InsightsV1.ListConference(&tt.params)
			if err != nil {
				t.Fatal(err)
			}
			sids := []string{}
			for _, c := range cs {
				sids = append(sids, *c.ConferenceSid)
			}
			if diff := cmp.Diff(tt.want, sids); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	lg, err := c.InsightsV1.FetchConference(lone.SID)
	if err != nil {
		t.Fatal(err)
	}
	if *lg.Status != "not_started" || lg.StartTime != nil || lg.ConnectDurationSeconds == nil || *lg.ConnectDurationSeconds != 0 ||
		*lg.DurationSeconds != 10 ||
		!slices.Equal(*lg.Tags, []string{"no_concurrent_participants"}) || *lg.EndReason != "last_participant_left" {
		t.Errorf("never-started conference = %+v", lg)
	}

	// Filters Insights would refuse.
	for _, p := range []insights.ListConferenceParams{
		{Status: ptr("in-progress")},
		{EndReason: ptr("bored")},
		{CreatedAfter: ptr("yesterday")},
	} {
		_, err := c.InsightsV1.ListConference(&p)
		wantTwilioError(t, err, http.StatusBadRequest, 20001)
	}

	// The meta of a filtered list carries the filters, in Insights' order.
	var page struct {
		Meta map[string]any `json:"meta"`
	}
	insightsGet(t, e, e.main, "/v1/Conferences?Status=completed&MixerRegion=us1&PageSize=25", http.StatusOK, &page)
	if want := "http://127.0.0.1/v1/Conferences?MixerRegion=us1&Status=completed&PageSize=25&Page=0"; page.Meta["first_page_url"] != want || page.Meta["url"] != want {
		t.Errorf("meta = %+v, want urls %s", page.Meta, want)
	}
}

func TestInsightsAccounts(t *testing.T) {
	e := newEnv(t)
	mainConf := buildInsightsScenario(t, e.st, e.main.SID, "flex")
	sub := e.subaccount("branch")
	other := e.subaccount("elsewhere")
	subConf := buildInsightsScenario(t, e.st, sub.SID, "flex")

	// Another account gets 404 for the conference and its participants.
	for _, acct := range []store.Account{sub, other} {
		c := e.as(acct)
		_, err := c.InsightsV1.FetchConference(mainConf.conf.SID)
		wantTwilioError(t, err, http.StatusNotFound, 20404)
		_, err = c.InsightsV1.ListConferenceParticipant(mainConf.conf.SID, nil)
		wantTwilioError(t, err, http.StatusNotFound, 20404)
		_, err = c.InsightsV1.FetchConferenceParticipant(mainConf.conf.SID, mainConf.customer.SID, nil)
		wantTwilioError(t, err, http.StatusNotFound, 20404)
	}
	_, err := e.as(other).InsightsV1.FetchConference(subConf.conf.SID)
	wantTwilioError(t, err, http.StatusNotFound, 20404)

	// A subaccount sees its own.
	list := func(acct store.Account, params *insights.ListConferenceParams) []string {
		t.Helper()
		cs, err := e.as(acct).InsightsV1.ListConference(params)
		if err != nil {
			t.Fatalf("ListConference as %s: %v", acct.SID, err)
		}
		sids := []string{}
		for _, c := range cs {
			sids = append(sids, *c.ConferenceSid)
		}
		return sids
	}
	if got := list(sub, nil); !slices.Equal(got, []string{subConf.conf.SID}) {
		t.Errorf("subaccount's list = %v", got)
	}
	if got := list(other, nil); len(got) != 0 {
		t.Errorf("other subaccount's list = %v", got)
	}
	got, err := e.as(sub).InsightsV1.FetchConference(subConf.conf.SID)
	if err != nil || *got.AccountSid != sub.SID || *got.UniqueParticipants != 3 {
		t.Errorf("subaccount's conference = %+v, %v", got, err)
	}

	// The main account: its own, a subaccount's with Subaccount, and a
	// subaccount's conference by SID.
	if got := list(e.main, nil); !slices.Equal(got, []string{mainConf.conf.SID}) {
		t.Errorf("main list = %v", got)
	}
	if got := list(e.main, &insights.ListConferenceParams{Subaccount: ptr(sub.SID)}); !slices.Equal(got, []string{subConf.conf.SID}) {
		t.Errorf("main list of subaccount = %v", got)
	}
	if _, err := e.as(e.main).InsightsV1.FetchConference(subConf.conf.SID); err != nil {
		t.Errorf("main fetches subaccount's conference: %v", err)
	}
	ps, err := e.as(e.main).InsightsV1.ListConferenceParticipant(subConf.conf.SID, nil)
	if err != nil || len(ps) != 4 || *ps[0].AccountSid != sub.SID {
		t.Errorf("main lists subaccount's participants: %d, %v", len(ps), err)
	}
	// A subaccount cannot name another account.
	_, err = e.as(sub).InsightsV1.ListConference(&insights.ListConferenceParams{Subaccount: ptr(other.SID)})
	wantTwilioError(t, err, http.StatusUnauthorized, 20003)

	// Only GET.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/Conferences/"+mainConf.conf.SID, strings.NewReader(url.Values{"Status": {"completed"}}.Encode()))
	req.SetBasicAuth(e.main.SID, e.main.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := e.tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", resp.StatusCode)
	}
}

// TestInsightsJSONShape checks the raw JSON against the field names of the
// Insights spec, as twilio-go's generated models carry them: every field
// present (null where it does not apply), nothing else.
func TestInsightsJSONShape(t *testing.T) {
	e := newEnv(t)
	sc := buildInsightsScenario(t, e.st, e.main.SID, "flex")

	var conf map[string]any
	insightsGet(t, e, e.main, "/v1/Conferences/"+sc.conf.SID, http.StatusOK, &conf)
	checkInsightsKeys(t, "conference", conf, reflect.TypeOf(insights.InsightsV1Conference{}))
	for k, want := range map[string]any{
		"create_time": "2022-02-18T06:13:35Z", "end_time": "2022-02-18T06:15:11Z",
		"tags": nil, "tag_info": nil, "detected_issues": nil, "mixer_region_requested": nil,
	} {
		if !cmp.Equal(conf[k], want) {
			t.Errorf("%s = %#v, want %#v", k, conf[k], want)
		}
	}

	var list map[string]any
	insightsGet(t, e, e.main, "/v1/Conferences", http.StatusOK, &list)
	checkInsightsKeys(t, "conference list", list, reflect.TypeOf(insights.ListConferenceResponse{}))
	checkInsightsKeys(t, "conference list meta", list["meta"].(map[string]any), reflect.TypeOf(insights.ListCallSummariesResponseMeta{}))
	checkInsightsKeys(t, "listed conference", list["conferences"].([]any)[0].(map[string]any), reflect.TypeOf(insights.InsightsV1Conference{}))
	if list["meta"].(map[string]any)["key"] != "conferences" {
		t.Errorf("meta = %v", list["meta"])
	}

	var parts map[string]any
	insightsGet(t, e, e.main, "/v1/Conferences/"+sc.conf.SID+"/Participants", http.StatusOK, &parts)
	checkInsightsKeys(t, "participant list", parts, reflect.TypeOf(insights.ListConferenceParticipantResponse{}))
	checkInsightsKeys(t, "participant list meta", parts["meta"].(map[string]any), reflect.TypeOf(insights.ListCallSummariesResponseMeta{}))
	items := parts["participants"].([]any)
	if len(items) != 4 {
		t.Fatalf("%d participants", len(items))
	}
	for _, it := range items {
		checkInsightsKeys(t, "participant", it.(map[string]any), reflect.TypeOf(insights.InsightsV1ConferenceParticipant{}))
	}
	agent := items[1].(map[string]any)
	for k, want := range map[string]any{
		"join_time": "2022-02-18T06:13:35Z", "leave_time": "2022-02-18T06:14:49Z", "duration_seconds": float64(74),
		"events": nil, "metrics": nil, "coached_participants": nil, "country_code": nil,
		"outbound_queue_length": nil, "outbound_time_in_queue": nil, "participant_region": nil,
		"call_type": "sip", "is_moderator": true, "is_coach": false,
	} {
		if !cmp.Equal(agent[k], want) {
			t.Errorf("agent %s = %#v, want %#v", k, agent[k], want)
		}
	}

	// The error body of the 2010 API.
	var errBody map[string]any
	insightsGet(t, e, e.main, "/v1/Conferences/"+sid.New(sid.Conference), http.StatusNotFound, &errBody)
	if errBody["code"] != float64(20404) || errBody["status"] != float64(404) ||
		errBody["more_info"] != "https://www.twilio.com/docs/errors/20404" || errBody["message"] == "" {
		t.Errorf("error body = %v", errBody)
	}
}

// checkInsightsKeys compares the keys of obj with the JSON names of typ's
// fields.
func checkInsightsKeys(t *testing.T, what string, obj map[string]any, typ reflect.Type) {
	t.Helper()
	var want []string
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		want = append(want, name)
	}
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s keys (-spec +got):\n%s", what, diff)
	}
}

// insightsGet GETs path with acct's credentials, checks the status and
// decodes the JSON body into v.
func insightsGet(t *testing.T, e *env, acct store.Account, path string, status int, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(acct.SID, acct.AuthToken)
	resp, err := e.tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Fatalf("GET %s = %d %s, want %d", path, resp.StatusCode, body, status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}
