package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
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

// fakeLive stands in for the interpreter's calls in progress, with its
// semantics: a recording starts in-progress (inbound track, mono), pauses
// and resumes, and on stop becomes completed with a file whose length is the
// time it ran (a second of audio per in-progress update, in this fake).
// The end-to-end test in internal/server runs the real one.
type fakeLive struct {
	st      store.Store
	dataDir string
	newSID  func() string
	now     func() time.Time

	// newCallSID makes the SIDs of placed calls (nil: random).
	newCallSID func() string

	mu      sync.Mutex
	live    map[string]bool // call SID -> answered (false: ringing)
	secs    map[string]int  // recording SID -> seconds recorded so far
	opts    []voice.CallRecordingOptions
	updates []string // "RE... status" as asked
	placed  []voice.Call
	steers  []voice.Update // call updates as asked
	// steerErr, when set, is what Update answers (voice.ErrBusy).
	steerErr error
	unsaved  map[string]store.Call // live calls whose record is being saved
}

var _ api.LiveCalls = (*fakeLive)(nil)

func newFakeLive(st store.Store, dataDir string, newSID func() string, now func() time.Time) *fakeLive {
	return &fakeLive{st: st, dataDir: dataDir, newSID: newSID, now: now, live: map[string]bool{}, secs: map[string]int{}}
}

// setLive marks a call as running here: answered or only ringing.
func (f *fakeLive) setLive(callSID string, answered bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live[callSID] = answered
}

// Place records the call as the interpreter does, queued, and leaves it
// ringing here.
func (f *fakeLive) Place(ctx context.Context, c voice.Call) (store.Call, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.placed = append(f.placed, c)
	callSID := sid.New(sid.Call)
	if f.newCallSID != nil {
		callSID = f.newCallSID()
	}
	now := f.now().UTC()
	row, err := f.st.CreateCall(ctx, store.Call{
		SID: callSID, AccountSID: c.Account.SID, ParentCallSID: c.ParentCallSID, From: c.From, To: c.To,
		Status: store.CallQueued, Direction: c.Direction, APIVersion: "2010-04-01", DateCreated: now, DateUpdated: now,
	})
	if err != nil {
		return store.Call{}, err
	}
	f.live[callSID] = false
	return row, nil
}

// Update records u; Status completed ends the call (canceled when it was not
// answered), canceled cancels one not answered and leaves an answered one
// alone, as the interpreter does.
// WaitRecorded saves the call set aside by recordLater, as the interpreter's
// first save of an incoming call ends.
func (f *fakeLive) WaitRecorded(ctx context.Context, callSID string) bool {
	f.mu.Lock()
	c, ok := f.unsaved[callSID]
	delete(f.unsaved, callSID)
	f.mu.Unlock()
	if !ok {
		return false
	}
	if _, err := f.st.CreateCall(ctx, c); err != nil {
		panic(err)
	}
	return true
}

// recordLater makes c a live call whose record is still being saved: the
// store has it once WaitRecorded is called.
func (f *fakeLive) recordLater(c store.Call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unsaved == nil {
		f.unsaved = map[string]store.Call{}
	}
	f.unsaved[c.SID] = c
	f.live[c.SID] = false
}

func (f *fakeLive) Update(ctx context.Context, accountSID, callSID string, u voice.Update) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steers = append(f.steers, u)
	if f.steerErr != nil {
		return f.steerErr
	}
	answered, ok := f.live[callSID]
	if !ok {
		return voice.ErrCallNotFound
	}
	end := u.Status
	if end == store.CallCompleted && !answered {
		end = store.CallCanceled
	}
	if end == "" || end == store.CallCanceled && answered {
		return nil
	}
	delete(f.live, callSID)
	now := f.now().UTC()
	_, err := f.st.UpdateCall(ctx, accountSID, callSID, func(c *store.Call) error {
		c.Status, c.EndTime, c.DateUpdated = end, now, now
		if answered && !c.AnsweredAt.IsZero() {
			c.Duration = int(now.Sub(c.AnsweredAt) / time.Second)
		}
		return nil
	})
	return err
}

func (f *fakeLive) StartCallRecording(ctx context.Context, accountSID, callSID string, o voice.CallRecordingOptions) (store.Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	answered, ok := f.live[callSID]
	if !ok {
		return store.Recording{}, voice.ErrCallNotFound
	}
	if !answered {
		return store.Recording{}, voice.ErrCallNotAnswered
	}
	f.opts = append(f.opts, o)
	rsid := f.newSID()
	now := f.now().UTC()
	return f.st.CreateRecording(ctx, store.Recording{
		SID: rsid, AccountSID: accountSID, CallSID: callSID, Source: store.SourceStartCallRecording,
		Status: store.RecordingInProgress, Channels: 1, Track: "inbound", StartTime: now,
		File: filepath.Join("recordings", accountSID, rsid+".wav"), DateCreated: now, DateUpdated: now,
	})
}

func (f *fakeLive) UpdateCallRecording(ctx context.Context, accountSID, callSID, rsid string, status store.RecordingStatus) (store.Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, rsid+" "+string(status))
	if _, ok := f.live[callSID]; !ok {
		return store.Recording{}, voice.ErrCallNotFound
	}
	rec, err := f.st.Recording(ctx, accountSID, rsid)
	if err != nil || rec.CallSID != callSID || rec.Source != store.SourceStartCallRecording || rec.Status.Final() {
		return store.Recording{}, voice.ErrRecordingNotFound
	}
	if rec.Status == store.RecordingInProgress {
		f.secs[rsid]++
	}
	if status == rec.Status {
		return rec, nil
	}
	return f.st.UpdateRecording(ctx, accountSID, rsid, func(r *store.Recording) error {
		r.Status, r.DateUpdated = status, f.now().UTC()
		if status == store.RecordingStopped {
			r.Status = store.RecordingCompleted
			r.Duration = time.Duration(f.secs[rsid]) * time.Second
			return writeWAV(filepath.Join(f.dataDir, r.File), tone1k(f.secs[rsid]*8000))
		}
		return nil
	})
}

// liveCall stores an in-progress call and marks it live in e's fake.
func liveCall(t *testing.T, st store.Store, live *fakeLive, accountSID string, answered bool) store.Call {
	t.Helper()
	status := store.CallInProgress
	if !answered {
		status = store.CallRinging
	}
	c := putCall(t, st, store.Call{AccountSID: accountSID, From: "+14155550100", To: "support", Status: status,
		StartTime: at(1, 12, 0, 0), AnsweredAt: at(1, 12, 0, 1)})
	live.setLive(c.SID, answered)
	return c
}

func newLiveEnv(t *testing.T) (*env, *fakeLive) {
	var live *fakeLive
	e := newEnvWith(t, func(cfg *api.Config) {
		live = newFakeLive(cfg.Store, cfg.DataDir, func() string { return sid.New(sid.Recording) }, time.Now)
		cfg.Live = live
	})
	return e, live
}

func TestTwilioCallRecordingLifecycle(t *testing.T) {
	e, live := newLiveEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	call := liveCall(t, e.st, live, m, true)

	created, err := c.Api.CreateCallRecording(call.SID, &openapi.CreateCallRecordingParams{
		RecordingStatusCallback:       ptr("https://app.example.com/rec"),
		RecordingStatusCallbackMethod: ptr("get"),
		RecordingStatusCallbackEvent:  &[]string{"in-progress completed", "absent"},
		Trim:                          ptr("trim-silence"),
		RecordingChannels:             ptr("dual"),
		RecordingTrack:                ptr("both"),
	})
	if err != nil {
		t.Fatalf("CreateCallRecording: %v", err)
	}
	rsid := *created.Sid
	if !sid.Valid(sid.Recording, rsid) || *created.Status != "in-progress" || created.Duration != nil ||
		*created.Source != "StartCallRecordingAPI" || *created.Track != "inbound" || created.Channels != 1 ||
		*created.CallSid != call.SID || *created.Uri != "/2010-04-01/Accounts/"+m+"/Calls/"+call.SID+"/Recordings/"+rsid+".json" {
		t.Errorf("created call recording: %s", dump(created))
	}
	wantOpts := voice.CallRecordingOptions{
		StatusCallback: "https://app.example.com/rec", StatusCallbackMethod: "GET",
		StatusCallbackEvent: []string{"in-progress", "completed", "absent"}, Trim: "trim-silence", Track: "both",
		Channels: 2, // RecordingChannels=dual
	}
	if diff := cmp.Diff([]voice.CallRecordingOptions{wantOpts}, live.opts); diff != "" {
		t.Errorf("options handed to the interpreter (-want +got):\n%s", diff)
	}

	steps := []struct {
		sid    string
		status string
		want   string
	}{
		{rsid, "paused", "paused"},
		{rsid, "paused", "paused"}, // again: no change
		{"Twilio.CURRENT", "in-progress", "in-progress"},
		{rsid, "stopped", "completed"},
		{rsid, "stopped", "completed"}, // stopping a finished recording is idempotent
	}
	for i, st := range steps {
		got, err := c.Api.UpdateCallRecording(call.SID, st.sid, &openapi.UpdateCallRecordingParams{
			Status: ptr(st.status), PauseBehavior: ptr("skip")})
		if err != nil {
			t.Fatalf("step %d: UpdateCallRecording(%s, %s): %v", i, st.sid, st.status, err)
		}
		if *got.Sid != rsid || *got.Status != st.want {
			t.Fatalf("step %d: status %s, want %s", i, *got.Status, st.want)
		}
	}
	// The last stop did not reach the interpreter: the recording was final.
	if want := []string{rsid + " paused", rsid + " paused", rsid + " in-progress", rsid + " stopped"}; !slices.Equal(live.updates, want) {
		t.Errorf("updates the interpreter saw: %q, want %q", live.updates, want)
	}
	final, err := c.Api.FetchCallRecording(call.SID, rsid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *final.Status != "completed" || final.Duration == nil || *final.Duration != "2" {
		t.Errorf("fetched after stop: %s", dump(final))
	}
	list, err := c.Api.ListCallRecording(call.SID, nil)
	if err != nil || len(list) != 1 || *list[0].Sid != rsid || *list[0].Track != "inbound" {
		t.Fatalf("ListCallRecording = %s, %v", dump(list), err)
	}
	// Pausing a finished recording is refused.
	_, err = c.Api.UpdateCallRecording(call.SID, rsid, &openapi.UpdateCallRecordingParams{Status: ptr("paused")})
	wantTwilioError(t, err, 409, 20409)
	// With no active recording left, Twilio.CURRENT names nothing.
	_, err = c.Api.UpdateCallRecording(call.SID, "Twilio.CURRENT", &openapi.UpdateCallRecordingParams{Status: ptr("paused")})
	wantTwilioError(t, err, 404, 20404)
	// The call's recording can be deleted through the call too.
	if err := c.Api.DeleteCallRecording(call.SID, rsid, nil); err != nil {
		t.Fatalf("DeleteCallRecording: %v", err)
	}
	if _, err := e.st.Recording(t.Context(), m, rsid); err == nil {
		t.Error("the row survived DeleteCallRecording")
	}
}

func TestTwilioCallRecordingCurrentIsAmbiguous(t *testing.T) {
	e, live := newLiveEnv(t)
	c := e.as(e.main)
	call := liveCall(t, e.st, live, e.main.SID, true)
	for range 2 {
		if _, err := c.Api.CreateCallRecording(call.SID, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.Api.UpdateCallRecording(call.SID, "Twilio.CURRENT", &openapi.UpdateCallRecordingParams{Status: ptr("stopped")})
	wantTwilioError(t, err, 409, 20409)
	if len(live.updates) != 0 {
		t.Errorf("an ambiguous Twilio.CURRENT reached the interpreter: %q", live.updates)
	}
}

func TestTwilioCallRecordingErrors(t *testing.T) {
	e, live := newLiveEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	answered := liveCall(t, e.st, live, m, true)
	ringing := liveCall(t, e.st, live, m, false)
	over := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallCompleted,
		StartTime: at(1, 9, 0, 0), AnsweredAt: at(1, 9, 0, 1), EndTime: at(1, 9, 1, 0), Duration: 59})
	// In progress in the store but not running here (another node, or the
	// interpreter lost it): the interpreter says so.
	elsewhere := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallInProgress,
		StartTime: at(1, 9, 0, 0), AnsweredAt: at(1, 9, 0, 1)})
	sub := e.subaccount("other")
	subCall := liveCall(t, e.st, live, sub.SID, true)
	verb := putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: answered.SID, Source: store.SourceRecordVerb,
		Status: store.RecordingInProgress, StartTime: at(1, 12, 0, 5)}, nil)
	unknown := "CA" + strings.Repeat("9", 32)

	create := func(callSID string, p *openapi.CreateCallRecordingParams) func() error {
		return func() error { _, err := c.Api.CreateCallRecording(callSID, p); return err }
	}
	update := func(callSID, rsid string, p *openapi.UpdateCallRecordingParams) func() error {
		return func() error { _, err := c.Api.UpdateCallRecording(callSID, rsid, p); return err }
	}
	paused := &openapi.UpdateCallRecordingParams{Status: ptr("paused")}
	tests := []struct {
		name         string
		do           func() error
		status, code int
	}{
		{"unknown call", create(unknown, nil), 404, 20404},
		{"not a call SID", create("CA123", nil), 404, 20404},
		{"another account's call", create(subCall.SID, nil), 404, 20404},
		{"ringing call", create(ringing.SID, nil), 400, 21220},
		{"completed call", create(over.SID, nil), 400, 21220},
		{"call not running here", create(elsewhere.SID, nil), 400, 21220},
		{"callback not a URL", create(answered.SID, &openapi.CreateCallRecordingParams{RecordingStatusCallback: ptr("/relative")}), 400, 21502},
		{"callback method", create(answered.SID, &openapi.CreateCallRecordingParams{RecordingStatusCallbackMethod: ptr("PUT")}), 400, 20001},
		{"callback event", create(answered.SID, &openapi.CreateCallRecordingParams{RecordingStatusCallbackEvent: &[]string{"completed ringing"}}), 400, 20001},
		{"trim", create(answered.SID, &openapi.CreateCallRecordingParams{Trim: ptr("trim")}), 400, 20001},
		{"channels", create(answered.SID, &openapi.CreateCallRecordingParams{RecordingChannels: ptr("stereo")}), 400, 20001},
		{"track", create(answered.SID, &openapi.CreateCallRecordingParams{RecordingTrack: ptr("left")}), 400, 20001},
		{"update without status", update(answered.SID, verb.SID, &openapi.UpdateCallRecordingParams{}), 400, 20001},
		{"update to completed", update(answered.SID, verb.SID, &openapi.UpdateCallRecordingParams{Status: ptr("completed")}), 400, 20001},
		{"pause behavior", update(answered.SID, verb.SID, &openapi.UpdateCallRecordingParams{Status: ptr("paused"), PauseBehavior: ptr("mute")}), 400, 20001},
		{"unknown recording", update(answered.SID, "RE"+strings.Repeat("9", 32), paused), 404, 20404},
		{"recording of another call", update(ringing.SID, verb.SID, paused), 404, 20404},
		{"a <Record> recording", update(answered.SID, verb.SID, paused), 404, 20404},
		{"update on an unknown call", update(unknown, verb.SID, paused), 404, 20404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantTwilioError(t, tt.do(), tt.status, tt.code)
		})
	}
	if len(live.opts) != 0 {
		t.Errorf("refused requests reached the interpreter: %+v", live.opts)
	}
	// A call that ended after its recording started: the interpreter no
	// longer has it.
	rec, err := c.Api.CreateCallRecording(answered.SID, nil)
	if err != nil {
		t.Fatal(err)
	}
	live.mu.Lock()
	delete(live.live, answered.SID)
	live.mu.Unlock()
	_, err = c.Api.UpdateCallRecording(answered.SID, *rec.Sid, paused)
	wantTwilioError(t, err, 400, 21220)
}

func TestCallRecordingWithoutLiveCalls(t *testing.T) {
	e := newEnv(t) // Config.Live is nil: nothing is ever in progress
	call := putCall(t, e.st, store.Call{AccountSID: e.main.SID, From: "+14155550100", To: "support",
		Status: store.CallInProgress, StartTime: at(1, 12, 0, 0), AnsweredAt: at(1, 12, 0, 1)})
	_, err := e.as(e.main).Api.CreateCallRecording(call.SID, nil)
	wantTwilioError(t, err, 400, 21220)
}

// TestCallRecordingEventForms: RecordingStatusCallbackEvent as twilio-go
// sends it (repeated), as Twilio's docs write it (space-separated in one
// value), with commas, in any case; "failed" is reported as absent.
func TestCallRecordingEventForms(t *testing.T) {
	e, live := newLiveEnv(t)
	call := liveCall(t, e.st, live, e.main.SID, true)
	base := e.baseClient(e.main.SID, e.main.AuthToken, e.main.SID)
	uri := "https://api.twilio.com/2010-04-01/Accounts/" + e.main.SID + "/Calls/" + call.SID + "/Recordings.json"
	tests := []struct {
		values []string
		want   []string
	}{
		{nil, nil},
		{[]string{"in-progress", "completed"}, []string{"in-progress", "completed"}},
		{[]string{"in-progress completed absent"}, []string{"in-progress", "completed", "absent"}},
		{[]string{"Completed,In-Progress"}, []string{"completed", "in-progress"}},
		{[]string{"completed failed", "absent"}, []string{"completed", "absent"}},
	}
	for i, tt := range tests {
		form := url.Values{"RecordingStatusCallback": {"https://app.example.com/rec"}}
		for _, v := range tt.values {
			form.Add("RecordingStatusCallbackEvent", v)
		}
		if err := send(base, http.MethodPost, uri, form); err != nil {
			t.Fatalf("%q: %v", tt.values, err)
		}
		if got := live.opts[i].StatusCallbackEvent; !slices.Equal(got, tt.want) {
			t.Errorf("%q: events %q, want %q", tt.values, got, tt.want)
		}
		if live.opts[i].StatusCallbackMethod != "POST" || live.opts[i].Trim != "do-not-trim" {
			t.Errorf("defaults: %+v", live.opts[i])
		}
	}
}

func TestGoldenCallRecordings(t *testing.T) {
	g := newGoldenFixture(t)
	m := g.main.SID
	call := fmt.Sprintf("CA%032x", 0xca11)
	putCall(t, g.st, store.Call{SID: call, AccountSID: m, From: "+14155550100", To: "support", Status: store.CallInProgress,
		StartTime: at(1, 12, 0, 0), AnsweredAt: at(1, 12, 0, 1)})
	g.live.setLive(call, true)
	base := "/2010-04-01/Accounts/" + m + "/Calls/" + call + "/Recordings"
	var rsid string
	steps := []struct {
		name, method string
		path         func() string
		form         url.Values
		status       int
	}{
		{"call_recording_create", "POST", func() string { return base + ".json" }, url.Values{
			"RecordingStatusCallback": {"https://app.example.com/rec"}, "RecordingStatusCallbackEvent": {"in-progress completed"}}, 201},
		{"call_recording_pause", "POST", func() string { return base + "/" + rsid + ".json" }, url.Values{"Status": {"paused"}, "PauseBehavior": {"skip"}}, 200},
		{"call_recording_resume_current", "POST", func() string { return base + "/Twilio.CURRENT.json" }, url.Values{"Status": {"in-progress"}}, 200},
		{"call_recording_stop", "POST", func() string { return base + "/" + rsid + ".json" }, url.Values{"Status": {"stopped"}}, 200},
		{"call_recording_fetch", "GET", func() string { return base + "/" + rsid + ".json" }, nil, 200},
		{"call_recordings_list", "GET", func() string { return base + ".json" }, nil, 200},
		{"error_21220_call_recording", "POST", func() string {
			return "/2010-04-01/Accounts/" + m + "/Calls/" + fmt.Sprintf("CA%032x", 0xdead) + "/Recordings.json"
		}, url.Values{}, 400},
		{"error_20409_call_recording_pause_completed", "POST", func() string { return base + "/" + rsid + ".json" }, url.Values{"Status": {"paused"}}, 409},
	}
	putCall(t, g.st, store.Call{SID: fmt.Sprintf("CA%032x", 0xdead), AccountSID: m, From: "+14155550100", To: "support",
		Status: store.CallCompleted, StartTime: at(1, 11, 0, 0), AnsweredAt: at(1, 11, 0, 1), EndTime: at(1, 11, 2, 0), Duration: 119})
	for _, st := range steps {
		rec := g.do(st.method, st.path(), st.form, m, g.main.AuthToken)
		if rec.Code != st.status {
			t.Fatalf("%s: status %d, want %d\n%s", st.name, rec.Code, st.status, rec.Body)
		}
		checkGolden(t, st.name, rec.Body.Bytes())
		if st.name == "call_recording_create" {
			var v struct {
				SID string `json:"sid"`
			}
			if err := decodeJSON(rec.Body, &v); err != nil {
				t.Fatal(err)
			}
			rsid = v.SID
		}
	}
}
