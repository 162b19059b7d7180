package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/api"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/voice"
)

// fakeRooms stands in for the interpreter's live conferences, with its
// semantics on the store's rows: ending a room closes it and its current
// participants (conference-ended-via-api), a change to a participant is
// saved and answered, a kicked participant is complete, and an added one is
// queued in the room it names (created, init, when a name has no live room).
// The end-to-end tests in internal/server run the real one.
type fakeRooms struct {
	st     store.Store
	now    func() time.Time
	newSID func(prefix string) string

	mu   sync.Mutex
	live map[string]bool // conference SID -> running here
	// What the API asked for, in order.
	confUpdates []confUpdate
	partUpdates []partUpdate
	removed     []string // "CF... CA..."
	added       []addedParticipant
	recUpdates  []string // "RE... status"
	// err, when set, is what every method answers.
	err error
}

type confUpdate struct {
	ConferenceSID string
	U             voice.ConferenceUpdate
}

type partUpdate struct {
	ConferenceSID, Who string
	U                  voice.ParticipantUpdate
}

type addedParticipant struct {
	Conference string
	P          voice.NewParticipant
}

var _ api.LiveConferences = (*fakeRooms)(nil)

// UpdateConferenceRecording applies the status to the stored recording of a
// live conference.
func (f *fakeRooms) UpdateConferenceRecording(ctx context.Context, accountSID, conferenceSID, recordingSID string, status store.RecordingStatus) (store.Recording, error) {
	f.mu.Lock()
	live, ferr := f.live[conferenceSID], f.err
	f.recUpdates = append(f.recUpdates, recordingSID+" "+string(status))
	f.mu.Unlock()
	if ferr != nil {
		return store.Recording{}, ferr
	}
	if !live {
		return store.Recording{}, voice.ErrConferenceNotFound
	}
	return f.st.UpdateRecording(ctx, accountSID, recordingSID, func(r *store.Recording) error {
		r.Status = status
		if status == store.RecordingStopped {
			r.Status = store.RecordingCompleted
		}
		return nil
	})
}

// StartConferenceRecording stores a new in-progress recording of a live
// conference.
func (f *fakeRooms) StartConferenceRecording(ctx context.Context, accountSID, conferenceSID string) (store.Recording, error) {
	f.mu.Lock()
	live, ferr := f.live[conferenceSID], f.err
	f.mu.Unlock()
	if ferr != nil {
		return store.Recording{}, ferr
	}
	if !live {
		return store.Recording{}, voice.ErrConferenceNotFound
	}
	now := f.now()
	return f.st.CreateRecording(ctx, store.Recording{
		SID: f.newSID("RE"), AccountSID: accountSID, ConferenceSID: conferenceSID, Source: store.SourceConference,
		Status: store.RecordingInProgress, Channels: 1, Track: "both", StartTime: now, File: "recordings/x.wav",
		DateCreated: now, DateUpdated: now,
	})
}

func newFakeRooms(st store.Store, newSID func(string) string, now func() time.Time) *fakeRooms {
	if newSID == nil {
		newSID = sid.New
	}
	return &fakeRooms{st: st, now: now, newSID: newSID, live: map[string]bool{}}
}

func (f *fakeRooms) setLive(conferenceSID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live[conferenceSID] = true
}

func (f *fakeRooms) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeRooms) UpdateConference(ctx context.Context, accountSID, conferenceSID string, u voice.ConferenceUpdate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confUpdates = append(f.confUpdates, confUpdate{conferenceSID, u})
	if f.err != nil {
		return f.err
	}
	if !f.live[conferenceSID] {
		return voice.ErrConferenceNotFound
	}
	if u.Status != store.ConferenceCompleted {
		return nil
	}
	c, err := f.st.Conference(ctx, accountSID, conferenceSID)
	if err != nil {
		return err
	}
	parts, _, err := f.st.ListParticipants(ctx, store.ParticipantFilter{AccountSID: accountSID, ConferenceSID: conferenceSID, Current: true}, store.Page{Size: 1000})
	if err != nil {
		return err
	}
	now := f.now().UTC()
	for i := range parts {
		parts[i].Status, parts[i].CallStatus, parts[i].LeaveTime = store.ParticipantComplete, store.CallCompleted, now
		parts[i].ReasonParticipantLeft, parts[i].DateUpdated = store.ParticipantLeftConferenceEndedViaAPI, now
	}
	c.Status, c.EndTime, c.DateUpdated = store.ConferenceCompleted, now, now
	c.ReasonConferenceEnded, c.Reason = store.ConferenceEndedViaAPI, "Conference ended via API"
	delete(f.live, conferenceSID)
	_, err = f.st.SaveConference(ctx, c, parts, nil, nil)
	return err
}

// current returns the room's current participant who, as the interpreter
// finds it.
func (f *fakeRooms) current(ctx context.Context, accountSID, conferenceSID, who string) (store.Conference, store.Participant, error) {
	if !f.live[conferenceSID] {
		return store.Conference{}, store.Participant{}, voice.ErrConferenceNotFound
	}
	c, err := f.st.Conference(ctx, accountSID, conferenceSID)
	if err != nil {
		return c, store.Participant{}, err
	}
	p, err := f.st.Participant(ctx, accountSID, conferenceSID, who)
	if errors.Is(err, store.ErrNotFound) || err == nil && !p.Current() {
		return c, p, voice.ErrParticipantNotFound
	}
	return c, p, err
}

func (f *fakeRooms) UpdateParticipant(ctx context.Context, accountSID, conferenceSID, who string, u voice.ParticipantUpdate) (store.Participant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.partUpdates = append(f.partUpdates, partUpdate{conferenceSID, who, u})
	if f.err != nil {
		return store.Participant{}, f.err
	}
	c, p, err := f.current(ctx, accountSID, conferenceSID, who)
	if err != nil {
		return store.Participant{}, err
	}
	for _, b := range []struct {
		v   *bool
		dst *bool
	}{{u.Muted, &p.Muted}, {u.Hold, &p.Hold}, {u.BeepOnExit, &p.BeepOnExit}, {u.EndConferenceOnExit, &p.EndConferenceOnExit}, {u.Coaching, &p.Coaching}} {
		if b.v != nil {
			*b.dst = *b.v
		}
	}
	if u.CallSIDToCoach != "" {
		p.CallSIDToCoach = u.CallSIDToCoach
	}
	if !p.Coaching {
		p.CallSIDToCoach = ""
	}
	p.DateUpdated = f.now().UTC()
	if _, err := f.st.SaveConference(ctx, c, []store.Participant{p}, nil, nil); err != nil {
		return store.Participant{}, err
	}
	return f.st.ParticipantBySID(ctx, accountSID, p.SID)
}

func (f *fakeRooms) RemoveParticipant(ctx context.Context, accountSID, conferenceSID, who string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, conferenceSID+" "+who)
	if f.err != nil {
		return f.err
	}
	c, p, err := f.current(ctx, accountSID, conferenceSID, who)
	if err != nil {
		return err
	}
	now := f.now().UTC()
	p.Status, p.CallStatus, p.LeaveTime, p.DateUpdated = store.ParticipantComplete, store.CallCompleted, now, now
	p.ReasonParticipantLeft = store.ParticipantLeftUpdatedViaAPI
	_, err = f.st.SaveConference(ctx, c, []store.Participant{p}, nil, nil)
	return err
}

func (f *fakeRooms) AddParticipant(ctx context.Context, account store.Account, conference string, np voice.NewParticipant) (store.Participant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.added = append(f.added, addedParticipant{conference, np})
	if f.err != nil {
		return store.Participant{}, f.err
	}
	now := f.now().UTC()
	var c store.Conference
	var err error
	if sid.Valid(sid.Conference, conference) {
		if !f.live[conference] {
			return store.Participant{}, voice.ErrConferenceNotFound
		}
		c, err = f.st.Conference(ctx, account.SID, conference)
	} else if c, err = f.st.LiveConference(ctx, account.SID, conference); errors.Is(err, store.ErrNotFound) {
		c, err = store.Conference{
			SID: f.newSID(sid.Conference), AccountSID: account.SID, FriendlyName: conference, Status: store.ConferenceInit,
			APIVersion: api.APIVersion, Region: np.Region, MaxParticipants: np.MaxParticipants, DateCreated: now, DateUpdated: now,
		}, nil
		f.live[c.SID] = true
	}
	if err != nil {
		return store.Participant{}, err
	}
	start := true
	if np.StartConferenceOnEnter != nil {
		start = *np.StartConferenceOnEnter
	}
	p := store.Participant{
		SID: f.newSID("CP"), CallSID: f.newSID(sid.Call), Label: np.Label, From: np.From, To: np.To,
		Direction: store.DirectionOutbound, CallStatus: store.CallQueued, Status: store.ParticipantQueued,
		Muted: np.Muted, Coaching: np.Coaching, CallSIDToCoach: np.CallSIDToCoach,
		StartConferenceOnEnter: start, EndConferenceOnExit: np.EndConferenceOnExit, JitterBufferSize: np.JitterBufferSize,
		DateCreated: now, DateUpdated: now,
	}
	c.DateUpdated = now
	if _, err := f.st.SaveConference(ctx, c, []store.Participant{p}, nil, nil); err != nil {
		return store.Participant{}, err
	}
	return f.st.ParticipantBySID(ctx, account.SID, p.SID)
}

// lastAdded is the participant the fake was last asked to add.
func (f *fakeRooms) lastAdded(t *testing.T) addedParticipant {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.added) == 0 {
		t.Fatal("no participant reached the interpreter")
	}
	return f.added[len(f.added)-1]
}

// newRoomsEnv is an API with the fake rooms (live calls too, unused) and,
// when trunk is not empty, a trunk for phone numbers.
func newRoomsEnv(t *testing.T, trunk string) (*env, *fakeRooms) {
	var rooms *fakeRooms
	e := newEnvWith(t, func(cfg *api.Config) {
		rooms = newFakeRooms(cfg.Store, nil, time.Now)
		cfg.Live = newFakeLive(cfg.Store, cfg.DataDir, func() string { return sid.New(sid.Recording) }, time.Now)
		cfg.Conferences = rooms
		cfg.Trunk = trunk
	})
	return e, rooms
}

// putConference stores a conference and its participants directly, as the
// interpreter would: zero fields get defaults (an in-progress room created
// at its DateCreated; connected participants joined then).
func putConference(t testing.TB, st store.Store, c store.Conference, parts ...store.Participant) store.Conference {
	t.Helper()
	if c.SID == "" {
		c.SID = sid.New(sid.Conference)
	}
	if c.Status == "" {
		c.Status = store.ConferenceInProgress
	}
	if c.APIVersion == "" {
		c.APIVersion = api.APIVersion
	}
	if c.FriendlyName == "" {
		c.FriendlyName = "room-" + c.SID[len(c.SID)-8:]
	}
	if c.DateCreated.IsZero() {
		c.DateCreated = at(1, 12, 0, 0)
	}
	if c.DateUpdated.IsZero() {
		c.DateUpdated = c.DateCreated
	}
	for i := range parts {
		p := &parts[i]
		if p.SID == "" {
			p.SID = sid.New("CP")
		}
		if p.CallSID == "" {
			p.CallSID = sid.New(sid.Call)
		}
		if p.Status == "" {
			p.Status = store.ParticipantConnected
		}
		if p.CallStatus == "" {
			p.CallStatus = store.CallInProgress
			if p.Status.Final() {
				p.CallStatus = store.CallCompleted
			}
		}
		if p.Direction == "" {
			p.Direction = store.DirectionInbound
		}
		if p.DateCreated.IsZero() {
			p.DateCreated = c.DateCreated.Add(time.Duration(i+1) * time.Second)
		}
		if p.DateUpdated.IsZero() {
			p.DateUpdated = p.DateCreated
		}
		if p.JoinTime.IsZero() {
			p.JoinTime = p.DateCreated
		}
		if p.Status.Final() && p.LeaveTime.IsZero() {
			p.LeaveTime = p.DateCreated.Add(time.Minute)
		}
	}
	out, err := st.SaveConference(t.Context(), c, parts, nil, nil)
	if err != nil {
		t.Fatalf("SaveConference: %v", err)
	}
	return out
}

func conferenceSIDs(cs []openapi.ApiV2010Conference) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, *c.Sid)
	}
	return out
}

func TestTwilioConferencesListFilters(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	day := func(d, h int) time.Time { return at(d, h, 0, 0) }
	a := putConference(t, e.st, store.Conference{AccountSID: m, FriendlyName: "standup", Status: store.ConferenceCompleted,
		ReasonConferenceEnded: store.ConferenceEndedLastLeft, DateCreated: day(1, 9), DateUpdated: day(1, 10)})
	b := putConference(t, e.st, store.Conference{AccountSID: m, FriendlyName: "standup", Status: store.ConferenceInProgress,
		DateCreated: day(2, 9), DateUpdated: day(3, 9)})
	d := putConference(t, e.st, store.Conference{AccountSID: m, FriendlyName: "support", Status: store.ConferenceInit,
		DateCreated: day(3, 0), DateUpdated: day(3, 0)})
	sub := e.subaccount("other")
	putConference(t, e.st, store.Conference{AccountSID: sub.SID, FriendlyName: "standup", DateCreated: day(2, 0)})

	tests := []struct {
		name string
		p    openapi.ListConferenceParams
		want []store.Conference
	}{
		{"all, newest first", openapi.ListConferenceParams{}, []store.Conference{d, b, a}},
		{"FriendlyName", openapi.ListConferenceParams{FriendlyName: ptr("standup")}, []store.Conference{b, a}},
		{"Status", openapi.ListConferenceParams{Status: ptr("in-progress")}, []store.Conference{b}},
		{"Status any case", openapi.ListConferenceParams{Status: ptr("COMPLETED")}, []store.Conference{a}},
		{"DateCreated", openapi.ListConferenceParams{DateCreated: ptr("2024-05-02")}, []store.Conference{b}},
		{"DateCreated<=", openapi.ListConferenceParams{DateCreatedBefore: ptr("2024-05-02")}, []store.Conference{a}},
		{"DateCreated>=", openapi.ListConferenceParams{DateCreatedAfter: ptr("2024-05-02")}, []store.Conference{d, b}},
		{"DateUpdated", openapi.ListConferenceParams{DateUpdated: ptr("2024-05-03")}, []store.Conference{d, b}},
		{"DateUpdated< >", openapi.ListConferenceParams{DateUpdatedAfter: ptr("2024-05-01T09:30:00Z"), DateUpdatedBefore: ptr("2024-05-03T00:00:00Z")},
			[]store.Conference{d, a}},
		{"empty range", openapi.ListConferenceParams{DateCreatedAfter: ptr("2024-05-03"), DateCreatedBefore: ptr("2024-05-02")}, nil},
		{"none", openapi.ListConferenceParams{FriendlyName: ptr("nobody")}, nil},
	}
	for _, tt := range tests {
		got, err := c.Api.ListConference(&tt.p)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		want := []string{}
		for _, c := range tt.want {
			want = append(want, c.SID)
		}
		if diff := cmp.Diff(want, conferenceSIDs(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}

	// Bad filters: 400 with 20001.
	base := e.baseClient(e.main.SID, e.main.AuthToken, m)
	for _, q := range []string{"Status=ended", "DateCreated=2024-5-1", "DateUpdated%3E=yesterday"} {
		err := send(base, http.MethodGet, e.srv.URL+"/2010-04-01/Accounts/"+m+"/Conferences.json?"+q, nil)
		t.Run(q, func(t *testing.T) { wantTwilioError(t, err, 400, 20001) })
	}
}

func TestTwilioConferencesPaging(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	var want []string
	for i := range 7 {
		cf := putConference(t, e.st, store.Conference{AccountSID: e.main.SID, Status: store.ConferenceCompleted,
			ReasonConferenceEnded: store.ConferenceEndedLastLeft, DateCreated: at(1, 0, i, 0)})
		want = append([]string{cf.SID}, want...)
	}
	before := e.calls.Load()
	got, err := c.Api.ListConference(&openapi.ListConferenceParams{PageSize: ptr(3)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, conferenceSIDs(got)); diff != "" {
		t.Errorf("paged list (-want +got):\n%s", diff)
	}
	if n := e.calls.Load() - before; n != 3 {
		t.Errorf("%d requests for 7 conferences by 3, want 3", n)
	}
	page, err := c.Api.PageConference(&openapi.ListConferenceParams{PageSize: ptr(5), Status: ptr("completed")}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Conferences) != 5 || page.NextPageUri == nil || !strings.Contains(*page.NextPageUri, "Status=completed") ||
		!strings.Contains(*page.NextPageUri, "PageToken=PACF") || page.PreviousPageUri != nil {
		t.Errorf("first page: %d items, next %v, previous %v", len(page.Conferences), page.NextPageUri, page.PreviousPageUri)
	}
	base := e.baseClient(e.main.SID, e.main.AuthToken, e.main.SID)
	err = send(base, http.MethodGet, e.srv.URL+"/2010-04-01/Accounts/"+e.main.SID+"/Conferences.json?PageToken=PACA"+strings.Repeat("0", 32)+"_1", nil)
	wantTwilioError(t, err, 400, 21481)
}

func TestTwilioFetchConference(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	live := putConference(t, e.st, store.Conference{AccountSID: m, FriendlyName: "My Room", Region: "us1",
		DateCreated: at(1, 12, 0, 0), DateUpdated: at(1, 12, 5, 0)})
	ender := sid.New(sid.Call)
	done := putConference(t, e.st, store.Conference{AccountSID: m, FriendlyName: "My Room", Status: store.ConferenceCompleted,
		ReasonConferenceEnded: store.ConferenceEndedEndOnExitLeft, CallSIDEndingConference: ender,
		DateCreated: at(1, 11, 0, 0), DateUpdated: at(1, 11, 30, 0)})

	got, err := c.Api.FetchConference(live.SID, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "/2010-04-01/Accounts/" + m + "/Conferences/" + live.SID
	want := &openapi.ApiV2010Conference{
		AccountSid: &m, DateCreated: ptr("Wed, 01 May 2024 12:00:00 +0000"), DateUpdated: ptr("Wed, 01 May 2024 12:05:00 +0000"),
		ApiVersion: ptr("2010-04-01"), FriendlyName: ptr("My Room"), Region: ptr("us1"), Sid: &live.SID, Status: ptr("in-progress"),
		Uri: ptr(base + ".json"),
		SubresourceUris: &map[string]interface{}{
			"participants": base + "/Participants.json",
			"recordings":   base + "/Recordings.json",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("live conference (-want +got):\n%s", diff)
	}

	got, err = c.Api.FetchConference(done.SID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Status != "completed" || got.ReasonConferenceEnded == nil || *got.ReasonConferenceEnded != "participant-with-end-conference-on-exit-left" ||
		got.CallSidEndingConference == nil || *got.CallSidEndingConference != ender || got.Region != nil {
		t.Errorf("completed conference = %s", dump(got))
	}

	// Unknown, malformed, and another account's: 20404.
	sub := e.subaccount("other")
	theirs := putConference(t, e.st, store.Conference{AccountSID: sub.SID})
	for _, s := range []string{"CF" + strings.Repeat("0", 32), "CA" + live.SID[2:], "nope", theirs.SID} {
		_, err := c.Api.FetchConference(s, nil)
		t.Run(s, func(t *testing.T) { wantTwilioError(t, err, 404, 20404) })
	}
	// The parent reaches its subaccount's conferences through its path.
	if _, err := c.Api.FetchConference(theirs.SID, &openapi.FetchConferenceParams{PathAccountSid: &sub.SID}); err != nil {
		t.Errorf("parent fetching the subaccount's conference: %v", err)
	}
}

func TestTwilioUpdateConference(t *testing.T) {
	e, rooms := newRoomsEnv(t, "")
	c := e.as(e.main)
	m := e.main.SID
	room := putConference(t, e.st, store.Conference{AccountSID: m, FriendlyName: "room"},
		store.Participant{AccountSID: m}, store.Participant{AccountSID: m, Label: "agent"})
	rooms.setLive(room.SID)

	// An announcement: the method defaults to POST.
	got, err := c.Api.UpdateConference(room.SID, &openapi.UpdateConferenceParams{AnnounceUrl: ptr("https://app.example.com/announce")})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Status != "in-progress" {
		t.Errorf("after the announcement: %s", dump(got))
	}
	// Ending it: every participant leaves.
	got, err = c.Api.UpdateConference(room.SID, &openapi.UpdateConferenceParams{Status: ptr("completed"),
		AnnounceUrl: ptr("https://app.example.com/bye.xml"), AnnounceMethod: ptr("get")})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Status != "completed" || got.ReasonConferenceEnded == nil || *got.ReasonConferenceEnded != "conference-ended-via-api" {
		t.Errorf("after Status=completed: %s", dump(got))
	}
	want := []confUpdate{
		{room.SID, voice.ConferenceUpdate{AnnounceURL: "https://app.example.com/announce", AnnounceMethod: "POST"}},
		{room.SID, voice.ConferenceUpdate{Status: store.ConferenceCompleted, AnnounceURL: "https://app.example.com/bye.xml", AnnounceMethod: "GET"}},
	}
	if diff := cmp.Diff(want, rooms.confUpdates); diff != "" {
		t.Errorf("updates reaching the interpreter (-want +got):\n%s", diff)
	}
	parts, err := c.Api.ListParticipant(room.SID, nil)
	if err != nil || len(parts) != 0 {
		t.Errorf("participants of the ended conference: %v, %v", parts, err)
	}

	// A completed conference cannot change: 16022.
	_, err = c.Api.UpdateConference(room.SID, &openapi.UpdateConferenceParams{Status: ptr("completed")})
	wantTwilioError(t, err, 400, 16022)
	// Nor one that is not running here.
	other := putConference(t, e.st, store.Conference{AccountSID: m, FriendlyName: "elsewhere"})
	_, err = c.Api.UpdateConference(other.SID, &openapi.UpdateConferenceParams{Status: ptr("completed")})
	wantTwilioError(t, err, 400, 16022)

	n := len(rooms.confUpdates)
	live := putConference(t, e.st, store.Conference{AccountSID: m, FriendlyName: "live"})
	rooms.setLive(live.SID)
	for _, tt := range []struct {
		name         string
		p            openapi.UpdateConferenceParams
		status, code int
	}{
		{"Status in-progress", openapi.UpdateConferenceParams{Status: ptr("in-progress")}, 400, 20001},
		{"Status bogus", openapi.UpdateConferenceParams{Status: ptr("ended")}, 400, 20001},
		{"AnnounceUrl not a URL", openapi.UpdateConferenceParams{AnnounceUrl: ptr("announce.mp3")}, 400, 21205},
		{"AnnounceMethod", openapi.UpdateConferenceParams{AnnounceUrl: ptr("https://a.example.com/x"), AnnounceMethod: ptr("PUT")}, 400, 21403},
	} {
		_, err := c.Api.UpdateConference(live.SID, &tt.p)
		t.Run(tt.name, func(t *testing.T) { wantTwilioError(t, err, tt.status, tt.code) })
	}
	_, err = c.Api.UpdateConference("CF"+strings.Repeat("0", 32), &openapi.UpdateConferenceParams{Status: ptr("completed")})
	wantTwilioError(t, err, 404, 20404)
	if len(rooms.confUpdates) != n {
		t.Errorf("refused updates reached the interpreter: %v", rooms.confUpdates[n:])
	}
	// Too many commands pending: 429.
	rooms.setErr(voice.ErrBusy)
	_, err = c.Api.UpdateConference(live.SID, &openapi.UpdateConferenceParams{Status: ptr("completed")})
	wantTwilioError(t, err, 429, 20429)
}

func TestUpdateConferenceWithoutInterpreter(t *testing.T) {
	e := newEnv(t)
	room := putConference(t, e.st, store.Conference{AccountSID: e.main.SID})
	_, err := e.as(e.main).Api.UpdateConference(room.SID, &openapi.UpdateConferenceParams{Status: ptr("completed")})
	wantTwilioError(t, err, 400, 16022)
}

func TestTwilioConferenceRecordings(t *testing.T) {
	e, rooms := newRoomsEnv(t, "")
	c := e.as(e.main)
	m := e.main.SID
	room := putConference(t, e.st, store.Conference{AccountSID: m})
	other := putConference(t, e.st, store.Conference{AccountSID: m})
	r1 := putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: "CA" + strings.Repeat("1", 32), ConferenceSID: room.SID,
		Source: store.SourceConference, Status: store.RecordingCompleted, StartTime: at(1, 12, 0, 0)}, tone1k(8000))
	r2 := putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: "CA" + strings.Repeat("1", 32), ConferenceSID: room.SID,
		Source: store.SourceConference, Status: store.RecordingInProgress, StartTime: at(2, 12, 0, 0)}, nil)
	r3 := putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: "CA" + strings.Repeat("2", 32), ConferenceSID: other.SID,
		Source: store.SourceConference, Status: store.RecordingCompleted, StartTime: at(1, 13, 0, 0)}, tone1k(800))

	got, err := c.Api.ListConferenceRecording(room.SID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sids []string
	for _, r := range got {
		sids = append(sids, *r.Sid)
	}
	if diff := cmp.Diff([]string{r2.SID, r1.SID}, sids); diff != "" {
		t.Errorf("the conference's recordings (-want +got):\n%s", diff)
	}
	got, err = c.Api.ListConferenceRecording(room.SID, &openapi.ListConferenceRecordingParams{DateCreatedBefore: ptr("2024-05-02")})
	if err != nil || len(got) != 1 || *got[0].Sid != r1.SID {
		t.Errorf("DateCreated<=2024-05-02: %s, %v", dump(got), err)
	}

	rec, err := c.Api.FetchConferenceRecording(room.SID, r1.SID, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &openapi.ApiV2010ConferenceRecording{
		AccountSid: &m, ApiVersion: ptr("2010-04-01"), CallSid: ptr("CA" + strings.Repeat("1", 32)), ConferenceSid: &room.SID,
		DateCreated: ptr("Wed, 01 May 2024 12:00:00 +0000"), DateUpdated: ptr("Wed, 01 May 2024 12:00:01 +0000"),
		StartTime: ptr("Wed, 01 May 2024 12:00:00 +0000"), Duration: ptr("1"), Sid: &r1.SID, PriceUnit: ptr("USD"),
		Status: ptr("completed"), Channels: 1, Source: ptr("Conference"),
		Uri: ptr("/2010-04-01/Accounts/" + m + "/Conferences/" + room.SID + "/Recordings/" + r1.SID + ".json"),
	}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("conference recording (-want +got):\n%s", diff)
	}
	// Another conference's recording is not this one's.
	_, err = c.Api.FetchConferenceRecording(room.SID, r3.SID, nil)
	wantTwilioError(t, err, 404, 20404)
	_, err = c.Api.ListConferenceRecording("CF"+strings.Repeat("0", 32), nil)
	wantTwilioError(t, err, 404, 20404)
	// A recording of a conference not live here cannot be paused (16022);
	// of a live one it can; deleting one in progress waits; a completed
	// one goes.
	_, err = c.Api.UpdateConferenceRecording(room.SID, r2.SID, &openapi.UpdateConferenceRecordingParams{Status: ptr("paused")})
	wantTwilioError(t, err, 400, 16022)
	rooms.setLive(room.SID)
	if p, err := c.Api.UpdateConferenceRecording(room.SID, r2.SID, &openapi.UpdateConferenceRecordingParams{Status: ptr("paused")}); err != nil || *p.Status != "paused" {
		t.Errorf("pause: %s %v", dump(p), err)
	}
	_, err = c.Api.UpdateConferenceRecording(room.SID, r2.SID, &openapi.UpdateConferenceRecordingParams{Status: ptr("bogus")})
	wantTwilioError(t, err, 400, 20001)
	err = c.Api.DeleteConferenceRecording(room.SID, r2.SID, nil)
	wantTwilioError(t, err, 409, 20409)
	if err := c.Api.DeleteConferenceRecording(room.SID, r1.SID, nil); err != nil {
		t.Fatalf("DeleteConferenceRecording: %v", err)
	}
	if _, err := e.st.Recording(t.Context(), m, r1.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted recording still stored: %v", err)
	}
}

func TestGoldenConferences(t *testing.T) {
	g := newGoldenFixture(t)
	m := g.main.SID
	cf := func(n int) string { return fmt.Sprintf("CF%032x", n) }
	ca := func(n int) string { return fmt.Sprintf("CA%032x", n) }
	putConference(t, g.st, store.Conference{SID: cf(0xc1), AccountSID: m, FriendlyName: "standup", Status: store.ConferenceCompleted,
		ReasonConferenceEnded: store.ConferenceEndedEndOnExitLeft, CallSIDEndingConference: ca(0xe1), Region: "us1",
		DateCreated: at(1, 9, 0, 0), DateUpdated: at(1, 9, 30, 0)},
		store.Participant{SID: fmt.Sprintf("CP%032x", 0xe1), AccountSID: m, CallSID: ca(0xe1), Status: store.ParticipantComplete})
	putConference(t, g.st, store.Conference{SID: cf(0xc2), AccountSID: m, FriendlyName: "support", Region: "ie1",
		DateCreated: at(1, 10, 0, 0), DateUpdated: at(1, 10, 1, 0)},
		store.Participant{SID: fmt.Sprintf("CP%032x", 0xa1), AccountSID: m, CallSID: ca(0xa1), StartConferenceOnEnter: true, EndConferenceOnExit: true},
		store.Participant{SID: fmt.Sprintf("CP%032x", 0xa2), AccountSID: m, CallSID: ca(0xa2), Label: "customer 1", Muted: true, Hold: true},
		store.Participant{SID: fmt.Sprintf("CP%032x", 0xa3), AccountSID: m, CallSID: ca(0xa3), Label: "coach", Coaching: true, CallSIDToCoach: ca(0xa1)})
	g.rooms.setLive(cf(0xc2))
	putRecording(t, g.st, g.dir, store.Recording{SID: fmt.Sprintf("RE%032x", 0xc1), AccountSID: m, CallSID: ca(0xe1), ConferenceSID: cf(0xc1),
		Source: store.SourceConference, Status: store.RecordingCompleted, StartTime: at(1, 9, 0, 5)}, tone1k(16000))
	confs := "/2010-04-01/Accounts/" + m + "/Conferences"
	parts := confs + "/" + cf(0xc2) + "/Participants"
	steps := []struct {
		name, method, path string
		form               url.Values
		status             int
	}{
		{"conferences_list", "GET", confs + ".json", nil, 200},
		{"conferences_list_filtered", "GET", confs + ".json?FriendlyName=support&Status=in-progress&DateCreated%3E=2024-05-01&PageSize=1", nil, 200},
		{"conference_fetch_completed", "GET", confs + "/" + cf(0xc1) + ".json", nil, 200},
		{"conference_fetch_in_progress", "GET", confs + "/" + cf(0xc2) + ".json", nil, 200},
		{"conference_recordings_list", "GET", confs + "/" + cf(0xc1) + "/Recordings.json", nil, 200},
		{"conference_recording_fetch", "GET", confs + "/" + cf(0xc1) + "/Recordings/" + fmt.Sprintf("RE%032x", 0xc1) + ".json", nil, 200},
		{"participants_list", "GET", parts + ".json", nil, 200},
		{"participants_list_page", "GET", parts + ".json?Muted=false&PageSize=1", nil, 200},
		{"participant_fetch_by_label", "GET", parts + "/customer%201.json", nil, 200},
		{"participant_update", "POST", parts + "/" + ca(0xa2) + ".json", url.Values{"Muted": {"false"}, "Hold": {"false"}}, 200},
		{"participant_create", "POST", parts + ".json", url.Values{"From": {"+14155550100"}, "To": {"sip:agent@pbx.example.com"},
			"Label": {"agent"}, "StartConferenceOnEnter": {"false"}}, 201},
		{"participant_create_by_name", "POST", confs + "/new%20room/Participants.json", url.Values{"From": {"switchboard"}, "To": {"sip:bob@example.com"}}, 201},
		{"error_16022_conference_update_completed", "POST", confs + "/" + cf(0xc1) + ".json", url.Values{"Status": {"completed"}}, 400},
		{"error_16024_participant_label", "POST", parts + ".json", url.Values{"From": {"a"}, "To": {"sip:b@example.com"}, "Label": {"a/b"}}, 400},
		{"error_16026_participant_label_in_use", "POST", parts + ".json", url.Values{"From": {"a"}, "To": {"sip:b@example.com"}, "Label": {"coach"}}, 400},
		{"error_20001_conference_status", "GET", confs + ".json?Status=live", nil, 400},
		{"error_20404_conference", "GET", confs + "/" + cf(0xdead) + ".json", nil, 404},
		{"error_20404_participant_left", "GET", confs + "/" + cf(0xc1) + "/Participants/" + ca(0xe1) + ".json", nil, 404},
		{"conference_update_completed", "POST", confs + "/" + cf(0xc2) + ".json", url.Values{"Status": {"completed"}}, 200},
	}
	for _, st := range steps {
		rec := g.do(st.method, st.path, st.form, m, g.main.AuthToken)
		if rec.Code != st.status {
			t.Fatalf("%s: status %d, want %d\n%s", st.name, rec.Code, st.status, rec.Body)
		}
		checkGolden(t, st.name, rec.Body.Bytes())
	}
}

// TestConferencesFromLive: without Config.Conferences, a Config.Live that
// also runs conferences (as *voice.Interpreter does) is used for them.
func TestConferencesFromLive(t *testing.T) {
	var rooms *fakeRooms
	e := newEnvWith(t, func(cfg *api.Config) {
		rooms = newFakeRooms(cfg.Store, nil, time.Now)
		cfg.Live = struct {
			*fakeLive
			*fakeRooms
		}{newFakeLive(cfg.Store, cfg.DataDir, func() string { return sid.New(sid.Recording) }, time.Now), rooms}
	})
	room := putConference(t, e.st, store.Conference{AccountSID: e.main.SID})
	rooms.setLive(room.SID)
	got, err := e.as(e.main).Api.UpdateConference(room.SID, &openapi.UpdateConferenceParams{Status: ptr("completed")})
	if err != nil || *got.Status != "completed" || len(rooms.confUpdates) != 1 {
		t.Errorf("UpdateConference through Live: %s, %v, %d updates", dump(got), err, len(rooms.confUpdates))
	}
}
