package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/api"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
	"github.com/switchboard-voice/switchboard/internal/recording"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// tone1k is n samples of a 1 kHz tone at 8 kHz.
func tone1k(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	return s
}

// writeWAV writes samples as a recording file (8 kHz 16-bit mono PCM), as
// the recorder leaves it.
func writeWAV(path string, samples []int16) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	w, err := wav.Create(path, recording.Format)
	if err != nil {
		return err
	}
	if err := w.WriteSamples(samples); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// putRecording stores a recording row as the interpreter would, and its WAV
// file under dir when samples is not nil. Zero fields get defaults: a new
// SID, mono, the inbound track, the file's path, date_created at the start
// time, and for a completed recording the samples' duration.
func putRecording(t testing.TB, st store.Store, dir string, r store.Recording, samples []int16) store.Recording {
	t.Helper()
	if r.SID == "" {
		r.SID = sid.New(sid.Recording)
	}
	if r.Source == "" {
		r.Source = store.SourceRecordVerb
	}
	if r.Channels == 0 {
		r.Channels = 1
	}
	if r.Track == "" {
		r.Track = "inbound"
	}
	if r.File == "" {
		r.File = filepath.Join("recordings", r.AccountSID, r.SID+".wav")
	}
	if r.DateCreated.IsZero() {
		r.DateCreated = r.StartTime
	}
	if samples != nil && r.Duration == 0 && r.Status.Final() {
		r.Duration = time.Duration(len(samples)) * time.Second / 8000
	}
	if r.DateUpdated.IsZero() {
		r.DateUpdated = r.DateCreated.Add(r.Duration)
	}
	if samples != nil {
		if err := writeWAV(filepath.Join(dir, r.File), samples); err != nil {
			t.Fatal(err)
		}
	}
	out, err := st.CreateRecording(t.Context(), r)
	if err != nil {
		t.Fatalf("CreateRecording: %v", err)
	}
	return out
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func recordingSIDs(rs []openapi.ApiV2010Recording) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, *r.Sid)
	}
	return out
}

func sidsOf(rs ...store.Recording) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.SID)
	}
	return out
}

func TestTwilioRecordingsListFilters(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	call1 := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallCompleted,
		StartTime: at(1, 10, 0, 0), AnsweredAt: at(1, 10, 0, 1), EndTime: at(1, 10, 5, 0), Duration: 299})
	call2 := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550101", To: "support", Status: store.CallCompleted,
		StartTime: at(2, 9, 0, 0), AnsweredAt: at(2, 9, 0, 1), EndTime: at(2, 9, 5, 0), Duration: 299})
	conf := "CF" + strings.Repeat("c", 32)
	done := store.RecordingCompleted
	r1 := putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: call1.SID, Status: done, StartTime: at(1, 10, 1, 0)}, tone1k(8000))
	r2 := putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: call1.SID, Status: done, StartTime: at(1, 10, 3, 0),
		Source: store.SourceStartCallRecording}, tone1k(16000))
	r3 := putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: call2.SID, ConferenceSID: conf, Status: done,
		Source: store.SourceConference, StartTime: at(2, 9, 1, 0)}, tone1k(4000))
	r4 := putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: call2.SID, Status: store.RecordingInProgress,
		StartTime: at(3, 0, 0, 0)}, nil) // exactly midnight
	sub := e.subaccount("other")
	putRecording(t, e.st, e.dir, store.Recording{AccountSID: sub.SID, CallSID: call1.SID, Status: done, StartTime: at(1, 10, 2, 0)}, tone1k(800))

	tm := func(tt time.Time) *time.Time { return &tt }
	tests := []struct {
		name   string
		params openapi.ListRecordingParams
		want   []store.Recording
	}{
		{"all, newest first", openapi.ListRecordingParams{}, []store.Recording{r4, r3, r2, r1}},
		{"CallSid", openapi.ListRecordingParams{CallSid: &call1.SID}, []store.Recording{r2, r1}},
		{"ConferenceSid", openapi.ListRecordingParams{ConferenceSid: &conf}, []store.Recording{r3}},
		{"DateCreated day", openapi.ListRecordingParams{DateCreated: tm(at(1, 0, 0, 0))}, []store.Recording{r2, r1}},
		{"DateCreated instant is its day", openapi.ListRecordingParams{DateCreated: tm(at(2, 15, 0, 0))}, []store.Recording{r3}},
		{"DateCreated> instant", openapi.ListRecordingParams{DateCreatedAfter: tm(at(1, 10, 2, 0))}, []store.Recording{r4, r3, r2}},
		{"DateCreated< instant", openapi.ListRecordingParams{DateCreatedBefore: tm(at(1, 10, 3, 0))}, []store.Recording{r2, r1}},
		{"range", openapi.ListRecordingParams{DateCreatedAfter: tm(at(1, 10, 2, 0)), DateCreatedBefore: tm(at(2, 23, 0, 0))}, []store.Recording{r3, r2}},
		{"empty range", openapi.ListRecordingParams{DateCreatedAfter: tm(at(3, 0, 0, 0)), DateCreatedBefore: tm(at(1, 0, 0, 0))}, nil},
		{"CallSid and date", openapi.ListRecordingParams{CallSid: &call2.SID, DateCreated: tm(at(3, 0, 0, 0))}, []store.Recording{r4}},
		{"IncludeSoftDeleted is ignored", openapi.ListRecordingParams{IncludeSoftDeleted: ptr(true)}, []store.Recording{r4, r3, r2, r1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Api.ListRecording(&tt.params)
			if err != nil {
				t.Fatalf("ListRecording: %v", err)
			}
			if diff := cmp.Diff(sidsOf(tt.want...), recordingSIDs(got)); diff != "" {
				t.Errorf("recordings (-want +got):\n%s", diff)
			}
		})
	}

	// A call's list, through the call: only its recordings, and only the
	// date filters.
	perCall, err := c.Api.ListCallRecording(call1.SID, &openapi.ListCallRecordingParams{DateCreatedAfter: ptr("2024-05-01")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range perCall {
		got = append(got, *r.Sid)
	}
	if diff := cmp.Diff(sidsOf(r2, r1), got); diff != "" {
		t.Errorf("call recordings (-want +got):\n%s", diff)
	}

	// Twilio's own forms, as a hand-written URL sends them.
	base := e.baseClient(m, e.main.AuthToken, m)
	raw := []struct {
		query string
		want  []store.Recording
	}{
		{"DateCreated=2024-05-01", []store.Recording{r2, r1}},
		{"DateCreated>=2024-05-02", []store.Recording{r4, r3}},
		{"DateCreated<=2024-05-02", []store.Recording{r2, r1}},
		{"DateCreated>=2024-05-03&DateCreated<=2024-05-03", []store.Recording{r4}},
		{"CallSid=" + call2.SID + "&ConferenceSid=" + conf, []store.Recording{r3}},
		{"IncludeSoftDeleted=false", []store.Recording{r4, r3, r2, r1}},
	}
	for _, tt := range raw {
		t.Run(tt.query, func(t *testing.T) {
			resp, err := base.SendRequest("GET", "https://api.twilio.com/2010-04-01/Accounts/"+m+"/Recordings.json?"+tt.query, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var page openapi.ListRecordingResponse
			if err := decodeJSON(resp.Body, &page); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sidsOf(tt.want...), recordingSIDs(page.Recordings)); diff != "" {
				t.Errorf("recordings (-want +got):\n%s", diff)
			}
		})
	}

	bad := []struct{ name, value string }{
		{"CallSid", "CA123"},
		{"CallSid", conf},
		{"ConferenceSid", call1.SID},
		{"DateCreated", "yesterday"},
		{"DateCreated<", "2024-05-01 12:00"},
		{"DateCreated>", "2024-02-30"},
		{"IncludeSoftDeleted", "maybe"},
	}
	uri := "https://api.twilio.com/2010-04-01/Accounts/" + m + "/Recordings.json"
	for _, tt := range bad {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			wantTwilioError(t, send(base, "GET", uri, url.Values{tt.name: {tt.value}}), 400, 20001)
		})
	}
	// A call of another account, or none, has no recordings list.
	_, err = c.Api.ListCallRecording("CA"+strings.Repeat("9", 32), nil)
	wantTwilioError(t, err, 404, 20404)
}

func TestTwilioRecordingsPaging(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	var want []string
	for i := range 7 {
		r := putRecording(t, e.st, e.dir, store.Recording{AccountSID: e.main.SID, CallSID: "CA" + strings.Repeat("1", 32),
			Status: store.RecordingAbsent, StartTime: at(1, 0, 0, 0).Add(time.Duration(i) * time.Minute)}, nil)
		want = append([]string{r.SID}, want...)
	}
	before := e.calls.Load()
	got, err := c.Api.ListRecording(&openapi.ListRecordingParams{PageSize: ptr(3)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, recordingSIDs(got)); diff != "" {
		t.Errorf("paged list (-want +got):\n%s", diff)
	}
	if n := e.calls.Load() - before; n != 3 {
		t.Errorf("%d requests for 7 recordings by 3, want 3", n)
	}
}

func TestTwilioRecordingFetchDownloadDelete(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	call := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallCompleted,
		StartTime: at(1, 10, 0, 0), AnsweredAt: at(1, 10, 0, 1), EndTime: at(1, 10, 5, 0), Duration: 299})
	samples := tone1k(8000*3 + 4000) // 3.5 s
	rec := putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: call.SID, Status: store.RecordingCompleted,
		StartTime: at(1, 10, 1, 0)}, samples)

	got, err := c.Api.FetchRecording(rec.SID, nil)
	if err != nil {
		t.Fatalf("FetchRecording: %v", err)
	}
	base := "/2010-04-01/Accounts/" + m + "/Recordings/" + rec.SID
	want := &openapi.ApiV2010Recording{
		AccountSid: &m, ApiVersion: ptr("2010-04-01"), CallSid: &call.SID,
		DateCreated: ptr("Wed, 01 May 2024 10:01:00 +0000"), DateUpdated: ptr("Wed, 01 May 2024 10:01:03 +0000"),
		StartTime: ptr("Wed, 01 May 2024 10:01:00 +0000"), Duration: ptr("4"), Sid: &rec.SID, PriceUnit: ptr("USD"),
		Status: ptr("completed"), Channels: ptr(1), Source: ptr("RecordVerb"), Uri: ptr(base + ".json"),
		SubresourceUris: &map[string]interface{}{
			"add_on_results": base + "/AddOnResults.json",
			"transcriptions": base + "/Transcriptions.json",
		},
		MediaUrl: ptr("http://127.0.0.1" + base),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FetchRecording (-want +got):\n%s", diff)
	}

	// The media_url, fetched with the helper library's authenticated client
	// (its transport sends every host to the test server).
	hc := e.baseClient(m, e.main.AuthToken, m)
	resp, err := hc.SendRequest("GET", *got.MediaUrl, nil, nil)
	if err != nil {
		t.Fatalf("GET media_url: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "audio/x-wav" {
		t.Errorf("media Content-Type %q", ct)
	}
	format, heard, err := wav.ReadAll(bytes.NewReader(body))
	if err != nil || format.SampleRate != 8000 || format.Channels != 1 {
		t.Fatalf("media is not the 8 kHz mono WAV: %v %v", format, err)
	}
	if !slicesEqual(heard, samples) {
		t.Errorf("media holds %d samples, want the %d recorded", len(heard), len(samples))
	}

	if err := c.Api.DeleteRecording(rec.SID, nil); err != nil {
		t.Fatalf("DeleteRecording: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, rec.File)); !os.IsNotExist(err) {
		t.Errorf("the WAV file survived the delete: %v", err)
	}
	_, err = c.Api.FetchRecording(rec.SID, nil)
	wantTwilioError(t, err, 404, 20404)
	wantTwilioError(t, c.Api.DeleteRecording(rec.SID, nil), 404, 20404)

	// A recording whose file is already gone is still deleted.
	gone := putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, Status: store.RecordingCompleted, StartTime: at(1, 11, 0, 0)}, nil)
	if err := c.Api.DeleteRecording(gone.SID, nil); err != nil {
		t.Errorf("DeleteRecording without a file: %v", err)
	}
	// One being written cannot be.
	open := putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: call.SID, Status: store.RecordingPaused,
		Source: store.SourceStartCallRecording, StartTime: at(1, 12, 0, 0)}, tone1k(800))
	wantTwilioError(t, c.Api.DeleteRecording(open.SID, nil), 409, 20409)
	if _, err := os.Stat(filepath.Join(e.dir, open.File)); err != nil {
		t.Errorf("a refused delete removed the file: %v", err)
	}
	// Another account's recording is not found through this one; the
	// subaccount's credentials do not reach the parent's recordings.
	sub := e.subaccount("other")
	theirs := putRecording(t, e.st, e.dir, store.Recording{AccountSID: sub.SID, Status: store.RecordingCompleted, StartTime: at(1, 12, 0, 0)}, tone1k(800))
	wantTwilioError(t, c.Api.DeleteRecording(theirs.SID, nil), 404, 20404)
	_, err = e.client(sub.SID, sub.AuthToken, m).Api.FetchRecording(open.SID, nil)
	wantTwilioError(t, err, 401, 20003)
	// The parent reaches the subaccount's.
	if err := e.client(m, e.main.AuthToken, sub.SID).Api.DeleteRecording(theirs.SID, nil); err != nil {
		t.Errorf("parent deleting a subaccount's recording: %v", err)
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// mediaFixture is a server with recordings of the main account and of a
// subaccount, for the media tests.
type mediaFixture struct {
	e                    *env
	sub                  store.Account
	done, open, absent   store.Recording
	subDone, missingFile store.Recording
	file                 []byte // done's WAV file
}

func newMediaFixture(t *testing.T, public bool) *mediaFixture {
	e := newEnvWith(t, func(c *api.Config) { c.PublicMedia = public })
	f := &mediaFixture{e: e}
	m := e.main.SID
	callSID := "CA" + strings.Repeat("1", 32)
	f.done = putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: callSID, Status: store.RecordingCompleted,
		StartTime: at(1, 10, 0, 0)}, tone1k(16000))
	f.open = putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: callSID, Status: store.RecordingInProgress,
		Source: store.SourceStartCallRecording, StartTime: at(1, 10, 1, 0)}, tone1k(800))
	f.absent = putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: callSID, Status: store.RecordingAbsent,
		StartTime: at(1, 10, 2, 0)}, nil)
	f.missingFile = putRecording(t, e.st, e.dir, store.Recording{AccountSID: m, CallSID: callSID, Status: store.RecordingCompleted,
		StartTime: at(1, 10, 3, 0), Duration: time.Second}, nil)
	f.sub = e.subaccount("sub")
	f.subDone = putRecording(t, e.st, e.dir, store.Recording{AccountSID: f.sub.SID, CallSID: callSID, Status: store.RecordingCompleted,
		StartTime: at(1, 10, 4, 0)}, tone1k(800))
	var err error
	if f.file, err = os.ReadFile(filepath.Join(e.dir, f.done.File)); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *mediaFixture) url(r store.Recording, suffix string) string {
	return f.e.srv.URL + "/2010-04-01/Accounts/" + r.AccountSID + "/Recordings/" + r.SID + suffix
}

// get makes a request with optional basic auth and headers.
func (f *mediaFixture) do(t *testing.T, method, u string, auth *store.Account, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != nil {
		req.SetBasicAuth(auth.SID, auth.AuthToken)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: f.e.tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestRecordingMediaNeedsCredentials(t *testing.T) {
	f := newMediaFixture(t, false)
	main, sub := f.e.main, f.sub
	wrong := store.Account{SID: main.SID, AuthToken: strings.Repeat("0", 32)}
	tests := []struct {
		name   string
		method string
		url    string
		auth   *store.Account
		hdr    map[string]string
		status int
		code   int    // Twilio error code of a JSON error body
		body   []byte // the expected body of a 2xx
	}{
		{"no credentials", "GET", f.url(f.done, ""), nil, nil, 401, 20003, nil},
		{"no credentials .wav", "GET", f.url(f.done, ".wav"), nil, nil, 401, 20003, nil},
		{"wrong token", "GET", f.url(f.done, ""), &wrong, nil, 401, 20003, nil},
		{"account's own", "GET", f.url(f.done, ""), &main, nil, 200, 0, f.file},
		{".wav", "GET", f.url(f.done, ".wav"), &main, nil, 200, 0, f.file},
		{".WAV", "GET", f.url(f.done, ".WAV"), &main, nil, 200, 0, f.file},
		{"RequestedChannels=1", "GET", f.url(f.done, ".wav?RequestedChannels=1"), &main, nil, 200, 0, f.file},
		{"HEAD", "HEAD", f.url(f.done, ""), &main, nil, 200, 0, []byte{}},
		{"Range: the header", "GET", f.url(f.done, ".wav"), &main, map[string]string{"Range": "bytes=0-43"}, 206, 0, f.file[:44]},
		{"Range: from 1000", "GET", f.url(f.done, ""), &main, map[string]string{"Range": "bytes=1000-"}, 206, 0, f.file[1000:]},
		{"If-None-Match", "GET", f.url(f.done, ""), &main, map[string]string{"If-None-Match": `"` + f.done.SID + `"`}, 304, 0, []byte{}},
		{"parent on subaccount's", "GET", f.url(f.subDone, ""), &main, nil, 200, 0, nil},
		{"subaccount's own", "GET", f.url(f.subDone, ".wav"), &sub, nil, 200, 0, nil},
		{"subaccount on parent's", "GET", f.url(f.done, ""), &sub, nil, 401, 20003, nil},
		{"mp3", "GET", f.url(f.done, ".mp3"), &main, nil, 415, 415, nil},
		{"dual channel", "GET", f.url(f.done, ".wav?RequestedChannels=2"), &main, nil, 400, 400, nil},
		{"RequestedChannels=3", "GET", f.url(f.done, "?RequestedChannels=3"), &main, nil, 400, 400, nil},
		{"in progress", "GET", f.url(f.open, ""), &main, nil, 404, 20404, nil},
		{"absent", "GET", f.url(f.absent, ".wav"), &main, nil, 404, 20404, nil},
		{"file missing", "GET", f.url(f.missingFile, ""), &main, nil, 404, 20404, nil},
		{"unknown", "GET", f.e.srv.URL + "/2010-04-01/Accounts/" + main.SID + "/Recordings/RE" + strings.Repeat("9", 32), &main, nil, 404, 20404, nil},
		{"xml", "GET", f.url(f.done, ".xml"), &main, nil, 404, 20404, nil},
		{"not a SID", "GET", f.e.srv.URL + "/2010-04-01/Accounts/" + main.SID + "/Recordings/..wav", &main, nil, 404, 20404, nil},
		{"POST", "POST", f.url(f.done, ".json"), &main, nil, 405, 20004, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(t, tt.method, tt.url, tt.auth, tt.hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.code != 0 {
				if tt.method != "HEAD" {
					code, status := errBody(t, body)
					if code != tt.code || status != tt.status {
						t.Errorf("error body %d/%d, want %d/%d", code, status, tt.code, tt.status)
					}
				}
				if tt.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				return
			}
			if tt.status == 200 || tt.status == 206 {
				if ct := resp.Header.Get("Content-Type"); ct != "audio/x-wav" {
					t.Errorf("Content-Type %q", ct)
				}
			}
			if tt.body != nil && !bytes.Equal(body, tt.body) {
				t.Errorf("body: %d bytes, want %d", len(body), len(tt.body))
			}
			if tt.body == nil && tt.status == 200 {
				if _, s, err := wav.ReadAll(bytes.NewReader(body)); err != nil || len(s) != 800 {
					t.Errorf("media: %d samples, %v", len(s), err)
				}
			}
		})
	}
	// The 206 says which bytes it holds; HEAD says how long the file is.
	resp, _ := f.do(t, "GET", f.url(f.done, ""), &main, map[string]string{"Range": "bytes=0-43"})
	if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes 0-43/%d", len(f.file)) {
		t.Errorf("Content-Range %q", cr)
	}
	resp, _ = f.do(t, "HEAD", f.url(f.done, ""), &main, nil)
	if cl := resp.Header.Get("Content-Length"); cl != fmt.Sprint(len(f.file)) {
		t.Errorf("HEAD Content-Length %q, want %d", cl, len(f.file))
	}
	if resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Error("no Accept-Ranges: bytes")
	}
}

func TestRecordingMediaPublic(t *testing.T) {
	f := newMediaFixture(t, true)
	main := f.e.main
	other := "AC" + strings.Repeat("e", 32)
	tests := []struct {
		name   string
		method string
		url    string
		status int
	}{
		{"media", "GET", f.url(f.done, ""), 200},
		{".wav", "GET", f.url(f.done, ".wav"), 200},
		{"HEAD", "HEAD", f.url(f.done, ".wav"), 200},
		{"subaccount's media", "GET", f.url(f.subDone, ""), 200},
		{"mp3", "GET", f.url(f.done, ".mp3"), 415},
		{"in progress", "GET", f.url(f.open, ""), 404},
		// Only the media is public: the metadata and DELETE still need
		// credentials.
		{"metadata", "GET", f.url(f.done, ".json"), 401},
		{"DELETE", "DELETE", f.url(f.done, ".json"), 401},
		{"DELETE media path", "DELETE", f.url(f.done, ""), 401},
		{"list", "GET", f.e.srv.URL + "/2010-04-01/Accounts/" + main.SID + "/Recordings.json", 401},
		// The recording must be the path's account's.
		{"under another account", "GET", f.e.srv.URL + "/2010-04-01/Accounts/" + other + "/Recordings/" + f.done.SID, 404},
		{"under its subaccount", "GET", f.e.srv.URL + "/2010-04-01/Accounts/" + f.sub.SID + "/Recordings/" + f.done.SID, 404},
		{"account not a SID", "GET", f.e.srv.URL + "/2010-04-01/Accounts/me/Recordings/" + f.done.SID, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(t, tt.method, tt.url, nil, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == 200 && tt.method == "GET" && resp.Header.Get("Content-Type") != "audio/x-wav" {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
			if tt.status >= 400 && tt.method != "HEAD" {
				errBody(t, body)
			}
		})
	}
	resp, body := f.do(t, "GET", f.url(f.done, ""), nil, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, f.file) {
		t.Errorf("public media: %d, %d bytes, want the %d-byte file", resp.StatusCode, len(body), len(f.file))
	}
}

func TestGoldenRecordings(t *testing.T) {
	g := newGoldenFixture(t)
	m := g.main.SID
	acct := "/2010-04-01/Accounts/" + m
	call := fmt.Sprintf("CA%032x", 0xca11)
	putCall(t, g.st, store.Call{SID: call, AccountSID: m, From: "+14155550100", To: "support", Status: store.CallCompleted,
		StartTime: at(1, 12, 0, 0), AnsweredAt: at(1, 12, 0, 1), EndTime: at(1, 12, 5, 0), Duration: 299})
	n := 0
	next := func() string { n++; return fmt.Sprintf("RE%032x", 0xe000+n) }
	completed := putRecording(t, g.st, g.dir, store.Recording{SID: next(), AccountSID: m, CallSID: call, Status: store.RecordingCompleted,
		StartTime: at(1, 12, 0, 10), Duration: 7499 * time.Millisecond}, tone1k(800))
	inProgress := putRecording(t, g.st, g.dir, store.Recording{SID: next(), AccountSID: m, CallSID: call, Status: store.RecordingInProgress,
		Source: store.SourceStartCallRecording, StartTime: at(1, 12, 1, 0)}, nil)
	failed := putRecording(t, g.st, g.dir, store.Recording{SID: next(), AccountSID: m, CallSID: call, Status: store.RecordingFailed,
		ErrorCode: 13617, StartTime: at(1, 12, 2, 0)}, nil)
	conference := putRecording(t, g.st, g.dir, store.Recording{SID: next(), AccountSID: m, CallSID: call, Status: store.RecordingAbsent,
		ConferenceSID: "CF" + strings.Repeat("c", 32), Source: store.SourceConference, Track: "both", StartTime: at(2, 8, 0, 0)}, nil)
	_ = conference
	nextPage := func() string {
		var env struct {
			Next string `json:"next_page_uri"`
		}
		_ = decodeJSON(strings.NewReader(g.last.Body.String()), &env)
		return env.Next
	}
	steps := []struct {
		name   string
		method string
		path   func() string
		status int
	}{
		{"recording_fetch_completed", "GET", func() string { return acct + "/Recordings/" + completed.SID + ".json" }, 200},
		{"recording_fetch_in_progress", "GET", func() string { return acct + "/Recordings/" + inProgress.SID + ".json" }, 200},
		{"recording_fetch_failed", "GET", func() string { return acct + "/Recordings/" + failed.SID + ".json" }, 200},
		{"recordings_list_page0", "GET", func() string { return acct + "/Recordings.json?PageSize=2" }, 200},
		{"recordings_list_page1", "GET", nextPage, 200},
		{"recordings_list_filtered", "GET", func() string {
			return acct + "/Recordings.json?CallSid=" + call + "&DateCreated%3E=2024-05-01&DateCreated%3C=2024-05-02"
		}, 200},
		{"recordings_list_conference", "GET", func() string { return acct + "/Recordings.json?ConferenceSid=CF" + strings.Repeat("c", 32) }, 200},
		{"call_recordings_list_history", "GET", func() string { return acct + "/Calls/" + call + "/Recordings.json?PageSize=1" }, 200},
		{"call_recording_fetch_history", "GET", func() string { return acct + "/Calls/" + call + "/Recordings/" + completed.SID + ".json" }, 200},
		{"error_20001_recording_call_sid", "GET", func() string { return acct + "/Recordings.json?CallSid=CA1" }, 400},
		{"error_20404_recording", "GET", func() string { return acct + "/Recordings/RE" + strings.Repeat("9", 32) + ".json" }, 404},
		{"error_20404_recording_media_in_progress", "GET", func() string { return acct + "/Recordings/" + inProgress.SID }, 404},
		{"error_415_recording_mp3", "GET", func() string { return acct + "/Recordings/" + completed.SID + ".mp3" }, 415},
		{"error_20409_recording_delete_in_progress", "DELETE", func() string { return acct + "/Recordings/" + inProgress.SID + ".json" }, 409},
		{"error_20004_recording_post", "POST", func() string { return acct + "/Recordings/" + completed.SID + ".json" }, 405},
	}
	for _, st := range steps {
		var form url.Values
		if st.method == "POST" {
			form = url.Values{"Status": {"paused"}}
		}
		rec := g.do(st.method, st.path(), form, m, g.main.AuthToken)
		if rec.Code != st.status {
			t.Fatalf("%s: status %d, want %d\n%s", st.name, rec.Code, st.status, rec.Body)
		}
		checkGolden(t, st.name, rec.Body.Bytes())
	}
	rec := g.do("DELETE", acct+"/Recordings/"+completed.SID+".json", nil, m, g.main.AuthToken)
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Errorf("DELETE: %d %q, want 204 and no body", rec.Code, rec.Body)
	}
}

// TestRecordingHeadMatchesGet: HEAD answers what GET answers, status and
// headers, without the body, including for a suspended subaccount's
// recordings, which the parent may still read (HEAD used to be refused there
// as a change: 403, 20005).
func TestRecordingHeadMatchesGet(t *testing.T) {
	f := newMediaFixture(t, false)
	if _, err := f.e.st.UpdateAccount(t.Context(), f.sub.SID, func(a *store.Account) error {
		a.Status = store.StatusSuspended
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	main := f.e.main
	other := putRecording(t, f.e.st, f.e.dir, store.Recording{AccountSID: f.sub.SID, CallSID: f.subDone.CallSID,
		Status: store.RecordingInProgress, StartTime: at(1, 10, 5, 0)}, nil)
	tests := []struct {
		name   string
		url    string
		status int
	}{
		{"suspended subaccount's media", f.url(f.subDone, ""), 200},
		{"suspended subaccount's .wav", f.url(f.subDone, ".wav"), 200},
		{"suspended subaccount's metadata", f.url(f.subDone, ".json"), 200},
		{"suspended subaccount's recording in progress", f.url(other, ".wav"), 404},
		{"active account's media", f.url(f.done, ""), 200},
		{"active account's metadata", f.url(f.done, ".json"), 200},
		{"mp3", f.url(f.done, ".mp3"), 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get, getBody := f.do(t, "GET", tt.url, &main, nil)
			head, headBody := f.do(t, "HEAD", tt.url, &main, nil)
			if get.StatusCode != tt.status {
				t.Fatalf("GET status %d, want %d: %s", get.StatusCode, tt.status, getBody)
			}
			if head.StatusCode != get.StatusCode {
				t.Errorf("HEAD status %d, GET %d", head.StatusCode, get.StatusCode)
			}
			if len(headBody) != 0 {
				t.Errorf("HEAD body: %d bytes", len(headBody))
			}
			if head.Header.Get("Content-Length") != fmt.Sprint(len(getBody)) {
				t.Errorf("HEAD Content-Length %q, GET body %d bytes", head.Header.Get("Content-Length"), len(getBody))
			}
			get.Header.Del("Date")
			head.Header.Del("Date")
			if diff := cmp.Diff(get.Header, head.Header); diff != "" {
				t.Errorf("headers (-GET +HEAD):\n%s", diff)
			}
		})
	}
}
