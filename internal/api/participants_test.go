package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/voice"
)

// roomFixture is a live conference of the main account with participants:
// a moderator, a muted customer on hold (labelled), a coach of the
// moderator, one that has left, and one being dialled.
type roomFixture struct {
	room                                      store.Conference
	moderator, customer, coach, left, dialled store.Participant
}

func newRoomFixture(t *testing.T, e *env, rooms *fakeRooms) roomFixture {
	t.Helper()
	m := e.main.SID
	mod := store.Participant{AccountSID: m, CallSID: sid.New(sid.Call), StartConferenceOnEnter: true, EndConferenceOnExit: true}
	parts := []store.Participant{
		mod,
		{AccountSID: m, Label: "customer 1", Muted: true, Hold: true, StartConferenceOnEnter: true},
		{AccountSID: m, Label: "coach", Coaching: true, CallSIDToCoach: mod.CallSID},
		{AccountSID: m, Status: store.ParticipantComplete},
		{AccountSID: m, Status: store.ParticipantRinging, Direction: store.DirectionOutbound, CallStatus: store.CallRinging},
	}
	room := putConference(t, e.st, store.Conference{AccountSID: m, FriendlyName: "support"}, parts...)
	if rooms != nil {
		rooms.setLive(room.SID)
	}
	var got [5]store.Participant
	for i, p := range parts {
		sp, err := e.st.ParticipantBySID(t.Context(), m, p.SID)
		if err != nil {
			t.Fatal(err)
		}
		got[i] = sp
	}
	return roomFixture{room, got[0], got[1], got[2], got[3], got[4]}
}

func participantCalls(ps []openapi.ApiV2010Participant) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, *p.CallSid)
	}
	return out
}

func callsOf(ps ...store.Participant) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.CallSID)
	}
	return out
}

func TestTwilioParticipantsList(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	f := newRoomFixture(t, e, nil)

	tests := []struct {
		name string
		p    *openapi.ListParticipantParams
		want []string
	}{
		{"current participants, in join order", nil, callsOf(f.moderator, f.customer, f.coach, f.dialled)},
		{"Muted=true", &openapi.ListParticipantParams{Muted: ptr(true)}, callsOf(f.customer)},
		{"Hold=false", &openapi.ListParticipantParams{Hold: ptr(false)}, callsOf(f.moderator, f.coach, f.dialled)},
		{"Coaching=true", &openapi.ListParticipantParams{Coaching: ptr(true)}, callsOf(f.coach)},
		{"Muted=false&Coaching=false", &openapi.ListParticipantParams{Muted: ptr(false), Coaching: ptr(false)}, callsOf(f.moderator, f.dialled)},
	}
	for _, tt := range tests {
		got, err := c.Api.ListParticipant(f.room.SID, tt.p)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, participantCalls(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}

	// Paged by 2: two requests for four participants.
	before := e.calls.Load()
	got, err := c.Api.ListParticipant(f.room.SID, &openapi.ListParticipantParams{PageSize: ptr(2)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(callsOf(f.moderator, f.customer, f.coach, f.dialled), participantCalls(got)); diff != "" {
		t.Errorf("paged (-want +got):\n%s", diff)
	}
	if n := e.calls.Load() - before; n != 2 {
		t.Errorf("%d requests for 4 participants by 2, want 2", n)
	}

	// Every field of one.
	want := openapi.ApiV2010Participant{
		AccountSid: &m, CallSid: &f.customer.CallSID, Label: ptr("customer 1"), Coaching: ptr(false), ConferenceSid: &f.room.SID,
		DateCreated: ptr("Wed, 01 May 2024 12:00:02 +0000"), DateUpdated: ptr("Wed, 01 May 2024 12:00:02 +0000"),
		EndConferenceOnExit: ptr(false), Muted: ptr(true), Hold: ptr(true), StartConferenceOnEnter: ptr(true),
		Status: ptr("connected"), QueueTime: ptr("0"),
		Uri: ptr("/2010-04-01/Accounts/" + m + "/Conferences/" + f.room.SID + "/Participants/" + f.customer.CallSID + ".json"),
	}
	if diff := cmp.Diff(want, got[1]); diff != "" {
		t.Errorf("participant (-want +got):\n%s", diff)
	}
	if got[2].CallSidToCoach == nil || *got[2].CallSidToCoach != f.moderator.CallSID || !*got[2].Coaching {
		t.Errorf("coach = %s", dump(got[2]))
	}

	// An ended conference has no participants; an unknown one is 20404.
	done := putConference(t, e.st, store.Conference{AccountSID: m, Status: store.ConferenceCompleted,
		ReasonConferenceEnded: store.ConferenceEndedLastLeft}, store.Participant{AccountSID: m, Status: store.ParticipantComplete})
	if got, err := c.Api.ListParticipant(done.SID, nil); err != nil || len(got) != 0 {
		t.Errorf("participants of a completed conference: %s, %v", dump(got), err)
	}
	_, err = c.Api.ListParticipant("CF"+strings.Repeat("0", 32), nil)
	wantTwilioError(t, err, 404, 20404)
	base := e.baseClient(m, e.main.AuthToken, m)
	for _, q := range []string{"Muted=yes", "Hold=1", "Coaching=maybe"} {
		err := send(base, http.MethodGet, e.srv.URL+"/2010-04-01/Accounts/"+m+"/Conferences/"+f.room.SID+"/Participants.json?"+q, nil)
		t.Run(q, func(t *testing.T) { wantTwilioError(t, err, 400, 20001) })
	}
}

func TestTwilioFetchParticipant(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	f := newRoomFixture(t, e, nil)
	other := putConference(t, e.st, store.Conference{AccountSID: e.main.SID, FriendlyName: "other"}, store.Participant{AccountSID: e.main.SID})

	for _, who := range []string{f.customer.CallSID, url.PathEscape("customer 1"), "customer%201"} {
		p, err := c.Api.FetchParticipant(f.room.SID, who, nil)
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		if *p.CallSid != f.customer.CallSID || *p.Label != "customer 1" {
			t.Errorf("%s: %s", who, dump(p))
		}
	}
	p, err := c.Api.FetchParticipant(f.room.SID, f.dialled.CallSID, nil)
	if err != nil || *p.Status != "ringing" || p.Label != nil || p.CallSidToCoach != nil {
		t.Errorf("dialled participant: %s, %v", dump(p), err)
	}
	// Gone, unknown, another room's: 20404.
	for _, who := range []string{f.left.CallSID, "nobody", "CA" + strings.Repeat("0", 32)} {
		_, err := c.Api.FetchParticipant(f.room.SID, who, nil)
		t.Run(who, func(t *testing.T) { wantTwilioError(t, err, 404, 20404) })
	}
	_, err = c.Api.FetchParticipant(other.SID, f.customer.CallSID, nil)
	wantTwilioError(t, err, 404, 20404)
}

func TestTwilioUpdateParticipant(t *testing.T) {
	e, rooms := newRoomsEnv(t, "")
	c := e.as(e.main)
	f := newRoomFixture(t, e, rooms)

	got, err := c.Api.UpdateParticipant(f.room.SID, url.PathEscape("customer 1"), &openapi.UpdateParticipantParams{
		Muted: ptr(false), Hold: ptr(false), HoldUrl: ptr("https://app.example.com/hold.mp3"),
		AnnounceUrl: ptr("https://app.example.com/announce"), WaitUrl: ptr("https://app.example.com/wait"), WaitMethod: ptr("get"),
		BeepOnExit: ptr(false), EndConferenceOnExit: ptr(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Muted || *got.Hold || !*got.EndConferenceOnExit || *got.CallSid != f.customer.CallSID {
		t.Errorf("updated participant = %s", dump(got))
	}
	// The coach changes whom it coaches; a participant given only
	// CallSidToCoach becomes a coach.
	if _, err := c.Api.UpdateParticipant(f.room.SID, "coach", &openapi.UpdateParticipantParams{CallSidToCoach: &f.customer.CallSID}); err != nil {
		t.Fatal(err)
	}
	got, err = c.Api.UpdateParticipant(f.room.SID, f.dialled.CallSID, &openapi.UpdateParticipantParams{CallSidToCoach: &f.moderator.CallSID})
	if err != nil {
		t.Fatal(err)
	}
	if !*got.Coaching || *got.CallSidToCoach != f.moderator.CallSID {
		t.Errorf("new coach = %s", dump(got))
	}
	// Coaching=false alone, on a coach.
	if _, err := c.Api.UpdateParticipant(f.room.SID, "coach", &openapi.UpdateParticipantParams{Coaching: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	want := []partUpdate{
		{f.room.SID, f.customer.CallSID, voice.ParticipantUpdate{
			Muted: ptr(false), Hold: ptr(false), HoldURL: "https://app.example.com/hold.mp3", HoldMethod: "GET",
			AnnounceURL: "https://app.example.com/announce", AnnounceMethod: "POST",
			WaitURL: "https://app.example.com/wait", WaitMethod: "GET", BeepOnExit: ptr(false), EndConferenceOnExit: ptr(true),
		}},
		{f.room.SID, f.coach.CallSID, voice.ParticipantUpdate{Coaching: ptr(true), CallSIDToCoach: f.customer.CallSID}},
		{f.room.SID, f.dialled.CallSID, voice.ParticipantUpdate{Coaching: ptr(true), CallSIDToCoach: f.moderator.CallSID}},
		{f.room.SID, f.coach.CallSID, voice.ParticipantUpdate{Coaching: ptr(false)}},
	}
	if diff := cmp.Diff(want, rooms.partUpdates); diff != "" {
		t.Errorf("updates reaching the interpreter (-want +got):\n%s", diff)
	}

	n := len(rooms.partUpdates)
	for _, tt := range []struct {
		name         string
		who          string
		p            openapi.UpdateParticipantParams
		status, code int
	}{
		{"HoldUrl", f.moderator.CallSID, openapi.UpdateParticipantParams{Hold: ptr(true), HoldUrl: ptr("hold.mp3")}, 400, 21205},
		{"HoldMethod", f.moderator.CallSID, openapi.UpdateParticipantParams{HoldUrl: ptr("https://a.example.com/h"), HoldMethod: ptr("PUT")}, 400, 21403},
		{"CallSidToCoach not a SID", f.dialled.CallSID, openapi.UpdateParticipantParams{CallSidToCoach: ptr("agent")}, 400, 20001},
		{"CallSidToCoach not in the room", f.dialled.CallSID, openapi.UpdateParticipantParams{CallSidToCoach: ptr("CA" + strings.Repeat("7", 32))}, 400, 16028},
		{"CallSidToCoach has left", f.dialled.CallSID, openapi.UpdateParticipantParams{CallSidToCoach: &f.left.CallSID}, 400, 16028},
		{"coaching itself", f.dialled.CallSID, openapi.UpdateParticipantParams{CallSidToCoach: &f.dialled.CallSID}, 400, 20001},
		{"Coaching without a call", f.moderator.CallSID, openapi.UpdateParticipantParams{Coaching: ptr(true)}, 400, 20001},
		{"left the room", f.left.CallSID, openapi.UpdateParticipantParams{Muted: ptr(true)}, 404, 20404},
		{"unknown label", "nobody", openapi.UpdateParticipantParams{Muted: ptr(true)}, 404, 20404},
	} {
		_, err := c.Api.UpdateParticipant(f.room.SID, tt.who, &tt.p)
		t.Run(tt.name, func(t *testing.T) { wantTwilioError(t, err, tt.status, tt.code) })
	}
	uri := e.srv.URL + "/2010-04-01/Accounts/" + e.main.SID + "/Conferences/" + f.room.SID + "/Participants/" + f.moderator.CallSID + ".json"
	base := e.baseClient(e.main.SID, e.main.AuthToken, e.main.SID)
	for _, name := range []string{"Muted", "Hold", "BeepOnExit", "EndConferenceOnExit", "Coaching"} {
		err := send(base, http.MethodPost, uri, url.Values{name: {"yes"}})
		t.Run(name, func(t *testing.T) { wantTwilioError(t, err, 400, 20001) })
	}
	if len(rooms.partUpdates) != n {
		t.Errorf("refused updates reached the interpreter: %v", rooms.partUpdates[n:])
	}

	// The room gone from this server: 20404; too many commands: 429.
	other := putConference(t, e.st, store.Conference{AccountSID: e.main.SID, FriendlyName: "elsewhere"}, store.Participant{AccountSID: e.main.SID, Label: "x"})
	_, err = c.Api.UpdateParticipant(other.SID, "x", &openapi.UpdateParticipantParams{Muted: ptr(true)})
	wantTwilioError(t, err, 404, 20404)
	rooms.setErr(voice.ErrBusy)
	_, err = c.Api.UpdateParticipant(f.room.SID, f.moderator.CallSID, &openapi.UpdateParticipantParams{Muted: ptr(true)})
	wantTwilioError(t, err, 429, 20429)
}

func TestTwilioDeleteParticipant(t *testing.T) {
	e, rooms := newRoomsEnv(t, "")
	c := e.as(e.main)
	f := newRoomFixture(t, e, rooms)

	if err := c.Api.DeleteParticipant(f.room.SID, url.PathEscape("customer 1"), nil); err != nil {
		t.Fatalf("DeleteParticipant by label: %v", err)
	}
	if err := c.Api.DeleteParticipant(f.room.SID, f.dialled.CallSID, nil); err != nil {
		t.Fatalf("DeleteParticipant by call SID: %v", err)
	}
	if diff := cmp.Diff([]string{f.room.SID + " " + f.customer.CallSID, f.room.SID + " " + f.dialled.CallSID}, rooms.removed); diff != "" {
		t.Errorf("kicks reaching the interpreter (-want +got):\n%s", diff)
	}
	got, err := c.Api.ListParticipant(f.room.SID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(callsOf(f.moderator, f.coach), participantCalls(got)); diff != "" {
		t.Errorf("after the kicks (-want +got):\n%s", diff)
	}
	// Kicked, left, unknown: 20404.
	for _, who := range []string{f.customer.CallSID, "customer%201", f.left.CallSID, "nobody"} {
		err := c.Api.DeleteParticipant(f.room.SID, who, nil)
		t.Run(who, func(t *testing.T) { wantTwilioError(t, err, 404, 20404) })
	}
	// A raw DELETE answers 204 with no body.
	req, _ := http.NewRequest(http.MethodDelete, e.srv.URL+"/2010-04-01/Accounts/"+e.main.SID+"/Conferences/"+f.room.SID+"/Participants/coach.json", nil)
	req.SetBasicAuth(e.main.SID, e.main.AuthToken)
	resp, err := e.tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.ContentLength > 0 {
		t.Errorf("DELETE: %d, %d bytes", resp.StatusCode, resp.ContentLength)
	}
}

func TestTwilioCreateParticipant(t *testing.T) {
	e, rooms := newRoomsEnv(t, testTrunk)
	c := e.as(e.main)
	f := newRoomFixture(t, e, rooms)
	e.ownNumber(e.main, "+14155550100")

	// Every parameter, into the room by SID.
	got, err := c.Api.CreateParticipant(f.room.SID, &openapi.CreateParticipantParams{
		From: ptr("+1 415 555 0100"), To: ptr("+1 (415) 555-0123"), Label: ptr("agent 7"), Beep: ptr("onexit"),
		StartConferenceOnEnter: ptr(false), EndConferenceOnExit: ptr(true), Muted: ptr(true), EarlyMedia: ptr(false),
		Coaching: ptr(true), CallSidToCoach: &f.moderator.CallSID, JitterBufferSize: ptr("Small"),
		WaitUrl: ptr("https://app.example.com/wait"), WaitMethod: ptr("GET"), MaxParticipants: ptr(10), Region: ptr("IE1"),
		Timeout: ptr(30), TimeLimit: ptr(600),
		StatusCallback: ptr("https://app.example.com/status"), StatusCallbackMethod: ptr("get"),
		StatusCallbackEvent:      &[]string{"initiated answered"},
		ConferenceStatusCallback: ptr("https://app.example.com/conf"), ConferenceStatusCallbackEvent: &[]string{"start", "end join leave"},
		ConferenceRecord: ptr("true"), ConferenceTrim: ptr("do-not-trim"),
		ConferenceRecordingStatusCallback: ptr("https://app.example.com/rec"), ConferenceRecordingStatusCallbackMethod: ptr("GET"),
		ConferenceRecordingStatusCallbackEvent: &[]string{"in-progress failed"},
		Record:                                 ptr(true), RecordingStatusCallback: ptr("https://app.example.com/prec"),
		RecordingStatusCallbackEvent: &[]string{"started completed"}, RecordingChannels: ptr("dual"), RecordingTrack: ptr("both"),
		Trim: ptr("trim-silence"), SipAuthUsername: ptr("u"), SipAuthPassword: ptr("p"), CallerId: ptr("+14155550100"),
		MachineDetection: ptr("Enable"), Byoc: ptr("BY" + strings.Repeat("0", 32)), CallReason: ptr("support"),
	})
	if err != nil {
		t.Fatalf("CreateParticipant: %v", err)
	}
	want := voice.NewParticipant{
		From: "+14155550100", To: "+14155550123", Label: "agent 7", Beep: "onExit",
		StartConferenceOnEnter: ptr(false), EndConferenceOnExit: true, Muted: true,
		Coaching: true, CallSIDToCoach: f.moderator.CallSID, JitterBufferSize: "small",
		WaitURL: "https://app.example.com/wait", WaitMethod: "GET", MaxParticipants: 10, Region: "ie1",
		Timeout: 30, TimeLimit: 600, EarlyMedia: false,
		StatusCallback: "https://app.example.com/status", StatusCallbackMethod: "GET", StatusCallbackEvents: []string{"initiated", "answered"},
		ConferenceStatusCallback: "https://app.example.com/conf", ConferenceStatusCallbackMethod: "POST",
		ConferenceStatusCallbackEvents: []string{"start", "end", "join", "leave"},
		ConferenceRecord:               "record-from-start", ConferenceTrim: "do-not-trim",
		ConferenceRecordingStatusCallback: "https://app.example.com/rec", ConferenceRecordingStatusCallbackMethod: "GET",
		ConferenceRecordingStatusCallbackEvents: []string{"in-progress", "absent"},
		SIPAuthUsername:                         "u", SIPAuthPassword: "p", CallerID: "+14155550100",
		Record: true, RecordingStatusCallback: "https://app.example.com/prec", RecordingStatusCallbackMethod: "POST",
		RecordingStatusCallbackEvents: []string{"started", "completed"}, RecordingChannels: "dual", RecordingTrack: "both", Trim: "trim-silence",
	}
	added := rooms.lastAdded(t)
	if added.Conference != f.room.SID {
		t.Errorf("conference = %q, want %s", added.Conference, f.room.SID)
	}
	if diff := cmp.Diff(want, added.P); diff != "" {
		t.Errorf("participant reaching the interpreter (-want +got):\n%s", diff)
	}
	if *got.Status != "queued" || *got.Label != "agent 7" || *got.ConferenceSid != f.room.SID || !*got.Muted ||
		*got.StartConferenceOnEnter || !*got.Coaching || *got.CallSidToCoach != f.moderator.CallSID ||
		*got.Uri != "/2010-04-01/Accounts/"+e.main.SID+"/Conferences/"+f.room.SID+"/Participants/"+*got.CallSid+".json" {
		t.Errorf("created participant = %s", dump(got))
	}
	if _, err := c.Api.FetchParticipant(f.room.SID, url.PathEscape("agent 7"), nil); err != nil {
		t.Errorf("fetching the new participant by label: %v", err)
	}

	// The fewest parameters, into a room by name: Twilio's defaults; the
	// room is created.
	got, err = c.Api.CreateParticipant("Sales Room", &openapi.CreateParticipantParams{From: ptr("alice"), To: ptr("sip:bob@example.com")})
	if err != nil {
		t.Fatalf("CreateParticipant by name: %v", err)
	}
	want = voice.NewParticipant{
		From: "alice", To: "sip:bob@example.com", Beep: "true", EarlyMedia: true, JitterBufferSize: "large",
		WaitURL: twiml.DefaultWaitURL, WaitMethod: "POST", Timeout: 60, MaxParticipants: 250,
		StatusCallbackMethod: "POST", ConferenceStatusCallbackMethod: "POST", ConferenceStatusCallbackEvents: []string{"start", "end"},
		ConferenceRecord: "do-not-record", ConferenceTrim: "trim-silence",
		ConferenceRecordingStatusCallbackMethod: "POST", ConferenceRecordingStatusCallbackEvents: []string{"completed"},
		RecordingStatusCallbackMethod: "POST",
	}
	added = rooms.lastAdded(t)
	if diff := cmp.Diff(want, added.P); diff != "" || added.Conference != "Sales Room" {
		t.Errorf("participant by name (%q) reaching the interpreter (-want +got):\n%s", added.Conference, diff)
	}
	room, err := c.Api.FetchConference(*got.ConferenceSid, nil)
	if err != nil || *room.FriendlyName != "Sales Room" || *room.Status != "init" {
		t.Errorf("the new room: %s, %v", dump(room), err)
	}
	// The same name again joins that room; WaitUrl="" is silence.
	got2, err := c.Api.CreateParticipant("Sales Room", &openapi.CreateParticipantParams{From: ptr("alice"), To: ptr("sip:carol@example.com"), WaitUrl: ptr("")})
	if err != nil {
		t.Fatal(err)
	}
	if *got2.ConferenceSid != *got.ConferenceSid || rooms.lastAdded(t).P.WaitURL != "" {
		t.Errorf("second participant by name: room %s, want %s; WaitURL %q", *got2.ConferenceSid, *got.ConferenceSid, rooms.lastAdded(t).P.WaitURL)
	}
}

func TestTwilioCreateParticipantErrors(t *testing.T) {
	e, rooms := newRoomsEnv(t, testTrunk)
	f := newRoomFixture(t, e, rooms)
	e.ownNumber(e.main, "+14155550100")
	m := e.main.SID
	done := putConference(t, e.st, store.Conference{AccountSID: m, FriendlyName: "over", Status: store.ConferenceCompleted,
		ReasonConferenceEnded: store.ConferenceEndedLastLeft})
	notHere := putConference(t, e.st, store.Conference{AccountSID: m, FriendlyName: "elsewhere"})
	sub := e.subaccount("other")
	theirs := putConference(t, e.st, store.Conference{AccountSID: sub.SID, FriendlyName: "theirs"})
	base := e.baseClient(m, e.main.AuthToken, m)
	uri := func(conference string) string {
		return e.srv.URL + "/2010-04-01/Accounts/" + m + "/Conferences/" + conference + "/Participants.json"
	}
	ok := url.Values{"From": {"alice"}, "To": {"sip:bob@example.com"}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range ok {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name         string
		conference   string
		form         url.Values
		status, code int
	}{
		{"label too long", f.room.SID, with("Label", strings.Repeat("x", 129)), 400, 16024},
		{"label a call SID", f.room.SID, with("Label", "CA"+strings.Repeat("a", 32)), 400, 16024},
		{"label with /", f.room.SID, with("Label", "a/b"), 400, 16024},
		{"label with %2F", f.room.SID, with("Label", "a%2fb"), 400, 16024},
		{"label in use", f.room.SID, with("Label", "customer 1"), 400, 16026},
		{"no To", f.room.SID, url.Values{"From": {"alice"}}, 400, 21201},
		{"bad To", f.room.SID, with("To", "bob"), 400, 21211},
		{"no From", f.room.SID, url.Values{"To": {"sip:bob@example.com"}}, 400, 21213},
		{"bad From", f.room.SID, with("From", "alice smith"), 400, 21212},
		{"From not owned", f.room.SID, with("To", "+14155550123", "From", "+14155550199"), 400, 21210},
		{"CallerId not owned", f.room.SID, with("To", "+14155550123", "From", "+14155550100", "CallerId", "+14155550199"), 400, 21210},
		{"Beep", f.room.SID, with("Beep", "sometimes"), 400, 20001},
		{"Muted", f.room.SID, with("Muted", "yes"), 400, 20001},
		{"StartConferenceOnEnter", f.room.SID, with("StartConferenceOnEnter", "1"), 400, 20001},
		{"Record", f.room.SID, with("Record", "on"), 400, 20001},
		{"Timeout too short", f.room.SID, with("Timeout", "4"), 400, 20001},
		{"Timeout too long", f.room.SID, with("Timeout", "601"), 400, 20001},
		{"TimeLimit", f.room.SID, with("TimeLimit", "0"), 400, 20001},
		{"MaxParticipants", f.room.SID, with("MaxParticipants", "251"), 400, 20001},
		{"Region", f.room.SID, with("Region", "mars1"), 400, 20001},
		{"JitterBufferSize", f.room.SID, with("JitterBufferSize", "huge"), 400, 20001},
		{"ConferenceRecord", f.room.SID, with("ConferenceRecord", "always"), 400, 20001},
		{"ConferenceTrim", f.room.SID, with("ConferenceTrim", "trim"), 400, 20001},
		{"RecordingChannels", f.room.SID, with("RecordingChannels", "stereo"), 400, 20001},
		{"WaitUrl", f.room.SID, with("WaitUrl", "wait.mp3"), 400, 21205},
		{"WaitMethod", f.room.SID, with("WaitMethod", "PUT"), 400, 21403},
		{"StatusCallback", f.room.SID, with("StatusCallback", "status"), 400, 21609},
		{"StatusCallbackEvent", f.room.SID, with("StatusCallbackEvent", "initiated busy"), 400, 21626},
		{"ConferenceStatusCallback", f.room.SID, with("ConferenceStatusCallback", "conf"), 400, 21502},
		{"ConferenceStatusCallbackEvent", f.room.SID, with("ConferenceStatusCallbackEvent", "start talk"), 400, 21626},
		{"ConferenceRecordingStatusCallback", f.room.SID, with("ConferenceRecordingStatusCallback", "ftp://x"), 400, 21502},
		{"ConferenceRecordingStatusCallbackEvent", f.room.SID, with("ConferenceRecordingStatusCallbackEvent", "paused"), 400, 20001},
		{"MachineDetection", f.room.SID, with("MachineDetection", "Yes"), 400, 21234},
		{"Coaching without a call", f.room.SID, with("Coaching", "true"), 400, 20001},
		{"CallSidToCoach not a SID", f.room.SID, with("CallSidToCoach", "CA1"), 400, 20001},
		{"CallSidToCoach not in the room", f.room.SID, with("CallSidToCoach", f.left.CallSID), 400, 16028},
		{"CallSidToCoach, new room", "brand new", with("CallSidToCoach", f.moderator.CallSID), 400, 16028},
		{"conference completed", done.SID, ok, 400, 16022},
		{"conference not running here", notHere.SID, ok, 400, 16022},
		{"conference unknown", "CF" + strings.Repeat("0", 32), ok, 404, 20404},
		{"another account's conference", theirs.SID, ok, 404, 20404},
		{"name too long", strings.Repeat("n", 129), ok, 400, 20001},
	}
	for _, tt := range tests {
		err := send(base, http.MethodPost, uri(url.PathEscape(tt.conference)), tt.form)
		t.Run(tt.name, func(t *testing.T) { wantTwilioError(t, err, tt.status, tt.code) })
	}
	// Only the two conferences the API could not tell were gone reached
	// the interpreter.
	var reached []string
	for _, a := range rooms.added {
		reached = append(reached, a.Conference)
	}
	if diff := cmp.Diff([]string{notHere.SID}, reached); diff != "" {
		t.Errorf("refused participants reaching the interpreter (-want +got):\n%s", diff)
	}

	// Phone numbers need the trunk.
	e2, _ := newRoomsEnv(t, "")
	room2 := putConference(t, e2.st, store.Conference{AccountSID: e2.main.SID})
	base2 := e2.baseClient(e2.main.SID, e2.main.AuthToken, e2.main.SID)
	err := send(base2, http.MethodPost, e2.srv.URL+"/2010-04-01/Accounts/"+e2.main.SID+"/Conferences/"+room2.SID+"/Participants.json",
		url.Values{"From": {"alice"}, "To": {"+14155550123"}})
	wantTwilioError(t, err, 400, 21214)
}
