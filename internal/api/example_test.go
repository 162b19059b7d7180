package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/switchboard-voice/switchboard/internal/api"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// Serving the REST API: open the store, make sure the main account exists
// (printing its credentials once, on first start), mount the handler.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "switchboard-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(ctx, "", dir)
	if err != nil {
		panic(err)
	}
	defer st.Close()
	main, created, err := api.EnsureMainAccount(ctx, st, os.Getenv("SWITCHBOARD_ACCOUNT_SID"), os.Getenv("SWITCHBOARD_AUTH_TOKEN"))
	if err != nil {
		panic(err)
	}
	if created {
		// The real binary prints main.SID and main.AuthToken here.
		fmt.Println("created the main account")
	}

	mux := http.NewServeMux()
	mux.Handle("/2010-04-01/", api.New(api.Config{Store: st, PublicURL: "http://127.0.0.1:8080"}))

	form := url.Values{"PhoneNumber": {"+14155550100"}, "VoiceUrl": {"https://app.example.com/voice"}}
	req := httptest.NewRequest("POST", "/2010-04-01/Accounts/"+main.SID+"/IncomingPhoneNumbers.json", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(main.SID, main.AuthToken)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// created the main account
	// 201
}

// Reading the call log: the interpreter stores call records as calls
// progress; the Calls list shows them newest first, filtered here to calls
// that started on 1 May 2024 (UTC) and completed.
func ExampleNew_callLog() {
	dir, err := os.MkdirTemp("", "switchboard-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(ctx, "", dir)
	if err != nil {
		panic(err)
	}
	defer st.Close()
	main, _, err := api.EnsureMainAccount(ctx, st, "", "")
	if err != nil {
		panic(err)
	}
	start := time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)
	for i, status := range []store.CallStatus{store.CallCompleted, store.CallBusy, store.CallCompleted} {
		t := start.Add(time.Duration(i) * time.Hour)
		c := store.Call{SID: fmt.Sprintf("CA%032x", i+1), AccountSID: main.SID, From: "+14155550100", To: "support",
			Status: status, Direction: store.DirectionInbound, APIVersion: api.APIVersion,
			StartTime: t, EndTime: t.Add(90 * time.Second), DateCreated: t}
		if status == store.CallCompleted {
			c.AnsweredAt, c.Duration = t, 90
		}
		if _, err := st.CreateCall(ctx, c); err != nil {
			panic(err)
		}
	}

	h := api.New(api.Config{Store: st})
	req := httptest.NewRequest("GET", "/2010-04-01/Accounts/"+main.SID+"/Calls.json?StartTime=2024-05-01&Status=completed", nil)
	req.SetBasicAuth(main.SID, main.AuthToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var page struct {
		Calls []struct {
			SID       string `json:"sid"`
			StartTime string `json:"start_time"`
			Duration  string `json:"duration"`
		} `json:"calls"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		panic(err)
	}
	for _, c := range page.Calls {
		fmt.Println(c.SID, c.StartTime, c.Duration)
	}
	// Output:
	// CA00000000000000000000000000000003 Wed, 01 May 2024 11:30:00 +0000 90
	// CA00000000000000000000000000000001 Wed, 01 May 2024 09:30:00 +0000 90
}

// Downloading a recording: the interpreter leaves a row and a WAV file under
// the data directory; the media is served at the media_url (no extension, or
// .wav) to the account's credentials only, unless Config.PublicMedia is on.
func ExampleNew_recordingMedia() {
	dir, err := os.MkdirTemp("", "switchboard-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(ctx, "", dir)
	if err != nil {
		panic(err)
	}
	defer st.Close()
	main, _, err := api.EnsureMainAccount(ctx, st, "", "")
	if err != nil {
		panic(err)
	}
	// One second of silence, as a completed <Record> leaves it.
	rsid := fmt.Sprintf("RE%032x", 1)
	file := "recordings/" + main.SID + "/" + rsid + ".wav"
	if err := writeWAV(dir+"/"+file, make([]int16, 8000)); err != nil {
		panic(err)
	}
	start := time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)
	if _, err := st.CreateRecording(ctx, store.Recording{SID: rsid, AccountSID: main.SID, CallSID: fmt.Sprintf("CA%032x", 1),
		Source: store.SourceRecordVerb, Status: store.RecordingCompleted, StartTime: start, Duration: time.Second,
		File: file, DateCreated: start}); err != nil {
		panic(err)
	}

	h := api.New(api.Config{Store: st, DataDir: dir, PublicURL: "https://voice.example.com"})
	get := func(path string, auth bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if auth {
			req.SetBasicAuth(main.SID, main.AuthToken)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	var meta struct {
		MediaURL string `json:"media_url"`
		Duration string `json:"duration"`
	}
	if err := json.Unmarshal(get("/2010-04-01/Accounts/"+main.SID+"/Recordings/"+rsid+".json", true).Body.Bytes(), &meta); err != nil {
		panic(err)
	}
	media := strings.TrimPrefix(meta.MediaURL, "https://voice.example.com")
	fmt.Println("duration", meta.Duration)
	fmt.Println("without credentials:", get(media, false).Code)
	rec := get(media+".wav", true)
	fmt.Println("with them:", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len(), "bytes")
	fmt.Println("as MP3:", get(media+".mp3", true).Code)
	// Output:
	// duration 1
	// without credentials: 401
	// with them: 200 audio/x-wav 16044 bytes
	// as MP3: 415
}
